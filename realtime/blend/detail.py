"""The target camera's detail on the new face: its finest frequency band (grain, noise, the
sharpness of its lens) instead of the source's.

A source face of 150 px drawn over a 450 px target face is enlarged three times: it has no
detail finer than about three target pixels and looks painted next to the camera's grainy skin
and sharp hair. The split between "the source's features" and "the camera's grain" is a Gaussian
of sigma ~ half the enlargement (at least 0.7 px, at most 2.5 px): below it the face keeps the
source's picture, above it the target's own band replaces the source's. Only the band's first
few grey levels are exchanged: grain, pores and noise pass, while strong edges (the target's own
eyelids, lips, brows; the source's features) stay where they were. The target blended onto itself
is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import cv2
import numpy as np

from realtime.blend.kernels import area_shrink, as_grey, gaussian_u8
from realtime.blend.mask import skin_mask

# The target band's amplitude limit (grey levels): grain passes, edges of its features do not.
DETAIL_LIMIT = 18
SPLIT_MIN = 1.5


def split_sigma(scale: float) -> float:
    """The Gaussian sigma (target pixels) that splits source features from camera grain for a
    source enlarged `scale` times."""
    return float(np.clip(0.5 * scale, SPLIT_MIN, 2.5))


def camera_detail(image: np.ndarray, target: np.ndarray, scale: float, strength: float = 1.0,
                  weight: np.ndarray | None = None,
                  keep: tuple[np.ndarray, tuple[int, int, int, int]] | None = None,
                  skin: np.ndarray | None = None, image_low: np.ndarray | None = None,
                  shown: np.ndarray | None = None) -> np.ndarray:
    """`image` (the rendered face over the box) with its finest band replaced by `target`'s.

    `weight` (where the new face shows, the layer's alpha): the crossover band is filled there
    as far as the face lacks it (crossover_fill). `keep` (a weight over the part (y0, y1, x0, x1)
    of the box; realtime/faces/brows.py's feature_band): where it is 1 the face keeps its own
    finest band and only gets the target's (there limited to grain) on top.

    `image_low`: gaussian_u8(image, split_sigma(scale)) where the caller made it already (the
    blend stage: feature_band's edge_gain reads it too). `shown`: half_shown(weight, half the
    box), where the caller made it (crossover_fill's mask)."""
    sigma = split_sigma(scale)
    # uint8/int16 OpenCV arithmetic throughout: float32 copies of two face boxes cost more
    # than the blurs themselves.
    if image_low is None or image_low.shape != image.shape:
        image_low = gaussian_u8(image, sigma)
    target_low = gaussian_u8(target, sigma)
    own = cv2.subtract(image, image_low, dtype=cv2.CV_16S)
    fill = crossover_fill(image_low, target_low, weight, sigma, skin, shown) if weight is not None else 0.0
    if fill >= 1.0:
        # The whole band down to CROSSOVER x sigma: (target - low) + (low - G), in one int16 pass
        # (whole grey levels, exact: the same numbers as the two differences added).
        theirs = cv2.subtract(target, gaussian_u8(target, CROSSOVER * sigma), dtype=cv2.CV_16S)
    else:
        theirs = cv2.subtract(target, target_low, dtype=cv2.CV_16S)
    if 0.01 < fill < 1.0:
        # The target's band just below the split (sigma .. CROSSOVER x sigma), as far as the
        # face lacks it: theirs then reaches down to where the face's own detail is as strong
        # as the camera's.
        wide = cv2.subtract(target_low, gaussian_u8(target, CROSSOVER * sigma), dtype=cv2.CV_16S)
        theirs = cv2.scaleAdd(wide, fill, theirs)
    np.clip(own, -DETAIL_LIMIT, DETAIL_LIMIT, out=own)
    np.clip(theirs, -DETAIL_LIMIT, DETAIL_LIMIT, out=theirs)
    if keep is not None:
        # The new face's brow hairs and lash lines are its finest band: exchanged for the
        # target's grain there, a brow lost its hairs' edges (s9 on d6: a washed-out, soft brow
        # under the target's crisp outline). Kept, the brow is as crisp as the source draws it.
        zone, (ya, yb, xa, xb) = keep
        part = own[ya:yb, xa:xb]
        # (Each last pass rounds its float32 result to int16 itself, half to even as np.rint:
        # the same numbers without a float copy and two passes; issue 13's budget.)
        if float(zone.max()) > 1.0:
            # Above 1 (blend/detail.py edge_gain) the face's own edges are raised, past EDGE_CORE
            # levels only: a painting's brush and craquelure residue, raised as much as the lid
            # line, glittered on s9's lids on d6 (gain 3 uncored).
            kept = cv2.multiply(part, 1.0 - np.minimum(zone, 1.0), dtype=cv2.CV_32F)
            cored = cv2.subtract(part, np.clip(part, -EDGE_CORE, EDGE_CORE), dtype=cv2.CV_32F)
            own[ya:yb, xa:xb] = cv2.subtract(kept, cv2.multiply(cored, np.maximum(zone - 1.0, 0.0), dtype=cv2.CV_32F),
                                             dtype=cv2.CV_16S)
        else:
            own[ya:yb, xa:xb] = cv2.multiply(part, 1.0 - np.minimum(zone, 1.0), dtype=cv2.CV_16S)
    change = cv2.subtract(theirs, own)
    if strength < 1.0:
        change = (change * strength).astype(np.int16)
    # One saturating pass (uint8 + int16 -> uint8): the same numbers as widening, adding and
    # clipping in numpy, at a quarter of the passes over a face box.
    return cv2.add(image, change, dtype=cv2.CV_8U)


# The crossover band's upper end, in multiples of the split sigma.
CROSSOVER = 1.7
# Read over the skin with the features' edges limited, the face's band is what it is: nothing
# added from 1.1 x the camera's. At 1.25 (the margin of the whole-face reading) s12 on the soft
# d20 (skin 1.17-1.41) got a fifth of the band over brows already crisper than the camera's:
# 1.26 -> 1.32 of its sharpness (tests/test_swap_edges.py bounds it at 1.3); s42 and s9 on d3
# read 0.78-0.98 and get all of it either way.
FILL_UNTIL = 1.1
# crossover_fill reads both bands limited to this many times the camera's mean level (|band|).
FILL_LIMIT = 2.5


def crossover_fill(image_low: np.ndarray, target_low: np.ndarray, weight: np.ndarray, sigma: float,
                   skin: np.ndarray | None = None, shown: np.ndarray | None = None) -> float:
    """How much of the target's band between `sigma` and CROSSOVER x `sigma` to add to the face
    (0..1), from the face's energy in that band over the target's (r), over `weight` > 0.5 and
    `skin` (uint8 {0, 1} at half the pictures' size: blend/mask.py skin_mask, step 2; None: the
    whole face), both bands limited to FILL_LIMIT x the camera's mean level there:
    all of it up to r = 1, nothing from r = FILL_UNTIL.

    A Gaussian split is not a sharp one: the face keeps its own band under the split attenuated
    by the low-pass G(f) = exp(-2 pi^2 sigma^2 f^2) and gets the camera's attenuated by 1 - G.
    Two uncorrelated pictures spliced so keep G^2 + (1 - G)^2 of the energy, half of it where
    G = 1/2: the band where the camera draws skin texture and the lids' and lips' fine lines came
    out weak (s9, a painting, on d6: 0.72 of the camera's sharpness on the written file; on d3
    0.75). The camera's band taken down to ~1.7 sigma instead (1 - G(1.7 sigma)) keeps close to
    G(sigma)^2 + (1 - G(1.7 sigma))^2 within 0.86..1.02 of 1 over the crossover. A source as sharp as
    the camera there (r >= FILL_UNTIL: s12 on d14, s42 on d9)
    already has that energy of its own and gets nothing added. `shown`: half_shown's mask of
    `weight`, where the caller made it."""
    size = (max(1, image_low.shape[1] // 2), max(1, image_low.shape[0] // 2))
    where = half_shown(weight, size, shown)
    if skin is not None and skin.shape == where.shape:
        where &= skin
    if cv2.countNonZero(where) < 64:
        return 0.0
    bands = []
    for picture in (image_low, target_low):
        # At half resolution (the band is then sigma/2 .. CROSSOVER sigma/2 there), like
        # source_detail_gain: an energy ratio over the face does not need every pixel.
        grey = area_shrink(as_grey(picture), size).astype(np.float32)
        bands.append(grey - cv2.GaussianBlur(grey, (0, 0), 0.5 * CROSSOVER * sigma))
    # The skin's texture decides, not the features' edges: both bands limited to a few times the
    # camera's typical level there. Measured over the whole face unlimited, the lid lines, brows,
    # nostrils and lips carried the band (s42 on d3: 1.68 of the camera's, s9 on d6 1.46), the
    # fill was 0 and the waxy cheeks got the camera's grain below the split only, which the
    # H.264 recorder takes out (benchmarks/results/s22-sharp, s23-sharp).
    limit = max(FILL_LIMIT * cv2.mean(np.abs(bands[1]), mask=where)[0], 0.5)
    bands = [np.clip(band, -limit, limit) for band in bands]
    own, theirs, both = (cv2.mean(a * b, mask=where)[0] for a, b in
                         ((bands[0], bands[0]), (bands[1], bands[1]), (bands[0], bands[1])))
    if theirs <= 1e-3 or own <= 1e-6:
        return 0.0 if theirs <= 1e-3 else 1.0
    # Correlated pictures lose less (G^2 + (1 - G)^2 + 2 G (1 - G) rho): the deficit scales
    # with 1 - rho, and the target blended onto itself (rho = 1) stays unchanged.
    rho = both / np.sqrt(own * theirs)
    lacking = np.clip((FILL_UNTIL - own / theirs) / (FILL_UNTIL - 1.0), 0.0, 1.0)
    return float(lacking * np.clip(1.0 - rho, 0.0, 1.0))


# The source's own detail is raised at most this much (amplitude): a painted or enlarged face is
# brought up to the camera's crispness, noise in a flat photo is not blown up.
SOURCE_GAIN_MAX = 2.0


def half_shown(weight: np.ndarray, size: tuple[int, int], shown: np.ndarray | None = None) -> np.ndarray:
    """uint8 {0, 1} at `size` (w, h), half the box's: where `weight` (the layer's alpha over the
    box) averages over 0.5, the pixels source_detail_gain and crossover_fill measure over.
    `shown`: this mask where the caller made it already (the blend stage makes it once for both:
    the same alpha at the same size; issue 13, benchmarks/results/s29-swapcost); a copy, since
    crossover_fill narrows it in place."""
    if shown is not None and shown.shape == (size[1], size[0]):
        return shown.copy()
    return (area_shrink(weight, size) > 0.5).astype(np.uint8)


def source_detail_gain(image: np.ndarray, target: np.ndarray, weight: np.ndarray, sigma: float,
                       shown: np.ndarray | None = None) -> float:
    """How much the face's own detail band (structure between `sigma` and 3 x `sigma` target
    pixels: brows, lids, lip lines, nostrils) must be raised to carry as much energy as the
    target camera's face has in the same band, over `weight` > 0.5 (where the new face shows).

    A source face enlarged onto a larger target face, or a painting, has its features' edges
    spread over more pixels than the camera draws them: the face looked soft ("waxy") next to
    the sharp hair around it even after the camera's finest band was put back. `shown`:
    half_shown's mask, where the caller made it."""
    # Measured at half resolution (the band is then sigma/2 .. 3 sigma/2 there): an energy
    # ratio over the whole face does not need every pixel, and it cost 7 ms at full size.
    size = (max(1, image.shape[1] // 2), max(1, image.shape[0] // 2))
    where = half_shown(weight, size, shown)
    if cv2.countNonZero(where) < 64:
        return 1.0
    energy = []
    for picture in (image, target):
        grey = area_shrink(as_grey(picture), size).astype(np.float32)
        band = cv2.GaussianBlur(grey, (0, 0), 0.5 * sigma) - cv2.GaussianBlur(grey, (0, 0), 1.5 * sigma)
        energy.append(cv2.mean(band * band, mask=where)[0])
    if energy[0] <= 1e-3:
        return 1.0
    return float(np.clip(np.sqrt(energy[1] / energy[0]), 1.0, SOURCE_GAIN_MAX))


# A gain measured on one frame of the camera (source_detail_gain, brows.hair_gain) follows the
# camera over this time constant (seconds of media time). Each frame's own flickered wherever the
# camera's sharpness swings frame to frame (autofocus hunting, a frame of motion blur, compression
# that varies): hair_gain flipped the moustache's strands on and off (s22-brows); the detail boost
# of s9 (a painting) on d14 was 1.74 and 1.55 in turn with every other frame softened by 1.5 px,
# its features' band pulsing with it (benchmarks/results/s22-detailgain). As the colour
# statistics' smoothing (blend.color_smoothing, 0.25 s): at 30 fps a frame moves a gain by at
# most a tenth of a step.
GAIN_TIME_S = 0.3
# ... and is measured afresh this often (media seconds, a third of GAIN_TIME_S: every 3rd frame at
# 25-30 fps), the smoothing following the last measurement in between (GainMemory.follow): a
# measurement held a tenth of a second moves what the smoothing shows by a few hundredths of a
# step, while measuring every frame cost 1.7 ms p50 of d13 + s42's 720p face (source_detail_gain
# 0.51, fine_match_gain 1.18; swap + blend p50 -0.7 ms; issue 13, benchmarks/results/s33-measure).
MEASURE_EVERY_S = 0.1
# A face whose box moved or changed size by more than this fraction of its width since the last
# measurement is measured afresh at once (a jump, a cut the tracker kept on its track).
MEASURE_BOX_CHANGE = 0.1


class GainMemory:
    """Measured gains smoothed over time per key (a face track, or (which gain, track)), with
    real (media) timestamps.

    A key seen for the first time, one not seen for `forget_after_s`, or media time that went
    back (a new input, a loop, a seek) starts from its frame's own gain: a new face takes its own
    camera's sharpness at once, only a face it follows is smoothed."""

    def __init__(self, time_constant_s: float = GAIN_TIME_S, forget_after_s: float = 1.0) -> None:
        self.time_constant_s = time_constant_s
        self.forget_after_s = forget_after_s
        self.measure_every_s = MEASURE_EVERY_S
        self._gains: dict[Hashable, tuple[float, float]] = {}
        """key -> (gain, media time of its last update)."""
        self._measured: dict[Hashable, tuple[float, float, tuple]] = {}
        """key -> (the last measured gain, its media time, the face's box then) (follow)."""

    def follow(self, key: Hashable, measure: Callable[[], float], time_s: float, box: tuple) -> float:
        """update(key, measure(), time_s), with `measure` called only every `measure_every_s` of
        media time per key: in between the smoothing follows the last measured gain (so what it
        returns still moves every frame, without steps). Measured afresh at once for a key not
        measured before (a new track), after time went back (a new input, a seek), and when the
        face's `box` (x0, y0, x1, y1) moved or changed size by MEASURE_BOX_CHANGE of its width."""
        held = self._measured.get(key)
        if held is None or not 0 <= time_s - held[1] < self.measure_every_s - 1e-6 or _box_changed(held[2], box):
            gain = measure()
            self._measured[key] = (gain, time_s, tuple(box))
        else:
            gain = held[0]
        for old in [old for old, (_, seen, _) in self._measured.items() if not 0 <= time_s - seen <= self.forget_after_s]:
            del self._measured[old]
        return self.update(key, gain, time_s)

    def update(self, key: Hashable, gain: float, time_s: float) -> float:
        previous = self._gains.get(key)
        if previous is not None and 0 <= time_s - previous[1] <= self.forget_after_s and self.time_constant_s > 0:
            weight = 1.0 - float(np.exp(-(time_s - previous[1]) / self.time_constant_s))
            gain = previous[0] + weight * (gain - previous[0])
        self._gains[key] = (gain, time_s)
        for old in [old for old, (_, seen) in self._gains.items() if not 0 <= time_s - seen <= self.forget_after_s]:
            del self._gains[old]
        return gain

    def reset(self) -> None:
        self._gains.clear()
        self._measured.clear()


def _box_changed(before: tuple, now: tuple) -> bool:
    """Whether a face's box (x0, y0, x1, y1) moved or changed size by more than MEASURE_BOX_CHANGE
    of its width."""
    limit = MEASURE_BOX_CHANGE * max(1.0, float(before[2] - before[0]))
    return max(abs(float(a) - float(b)) for a, b in zip(before, now, strict=True)) > limit


def source_detail(image: np.ndarray, gain: float, sigma: float) -> np.ndarray:
    """`image` with its band between `sigma` and 3 x `sigma` pixels raised by `gain` (an
    unsharp mask of that band; the finest band is the camera's, put in by camera_detail)."""
    if gain <= 1.0 + 1e-3:
        return image
    fine = gaussian_u8(image, sigma)
    # The coarse blur at half resolution, enlarged: it is smooth, and a 27 px kernel at full
    # size was most of this function's cost. Halved by a whole-factor box average and enlarged
    # by the same factor (an odd last row or column takes its neighbour's value).
    height, width = image.shape[:2]
    half = area_shrink(image, (max(1, width // 2), max(1, height // 2)))
    coarse = cv2.resize(gaussian_u8(half, 1.5 * sigma), (2 * half.shape[1], 2 * half.shape[0]),
                        interpolation=cv2.INTER_LINEAR)
    if coarse.shape[:2] != image.shape[:2]:
        coarse = cv2.copyMakeBorder(coarse, 0, height - coarse.shape[0], 0, width - coarse.shape[1],
                                    cv2.BORDER_REPLICATE)
    band = cv2.addWeighted(fine, gain - 1.0, coarse, 1.0 - gain, 0.0, dtype=cv2.CV_16S)
    return cv2.add(image, band, dtype=cv2.CV_8U)


# The new face's own finest band over its brows and lids is raised at most this much (amplitude):
# a painting's or an enlarged photo's lid line gets the camera's crispness, not a cartoon outline
# (s9 on d6 asked for 3: at 3 and uncored its lids glittered).
EDGE_GAIN_MAX = 2.0
# The face's own band is raised past this many grey levels only (camera_detail): edges, not texture.
EDGE_CORE = 3
# ... and measured where the zone's weight (times the layer's alpha) is over this.
EDGE_WHERE = 0.5


def edge_gain(target: np.ndarray, target_fine: np.ndarray, image: np.ndarray, where: np.ndarray,
              sigma: float, step: int = 1, grain: float = 3.0, image_low: np.ndarray | None = None) -> float:
    """How much of the new face's own finest band (below `sigma`) camera_detail keeps over its
    brows and lids (0..EDGE_GAIN_MAX; 1 = as it is, more = raised): as much as brings the zone's
    finest-band energy to the camera's there, over `where` > EDGE_WHERE (a weight at 1/`step`
    of the pictures' size: the zone where the target's band is limited, times the layer's alpha).

    Why: the target's brows and lash lines are limited to grain there (realtime/faces/brows.py,
    no ghost brow), and the new face's own band was exchanged for that grain, so the zone had
    the camera's grain and nothing of its sharp edges. On the crisp d6 (a 250 px face, eyeliner,
    thin brows) the whole sharpness deficit of issue 13's soft pairs lay in this zone (skin and
    the other features matched the camera's: s12 0.78, s42 0.77, s10 0.77, s9 0.66 of the
    camera's sharpness in process), and a viewer saw soft, smeared eyes against the camera's
    grain. The face's own lid lines, lashes and brow hairs, kept and raised, stand in for the
    camera's. The zone's energy as it is without them (`present`: the face's base read through
    the finest band, its coarser edges leak into it, plus the limited grain) is counted first:
    Einstein's bushy brows already carry more than the soft d20's camera has (gain 0 there).
    A ratio of bands instead (the camera's fine over coarse energy against the face's, "drawn as
    sharply") kept 0.3-0.6 of Einstein's band on d20, d14 and d3: 1.26 -> 1.42, 1.21 -> 1.36,
    1.15 -> 1.39 of the camera's sharpness, crunchy lash lines.
    target, image: the zone's part of the box (luma, uint8); target_fine: target minus its
    Gaussian of `sigma` (int16); `grain`: the levels the target's band is limited to there;
    `image_low`: gaussian_u8(image, sigma) over the same part, where the caller has it (the blend
    stage blurs the whole box once for camera_detail): its crop below is what the crop's own blur
    gives over the zone, which the crop reaches past by twice the two blurs' reach (3 sigma each)."""
    height, width = target.shape[:2]
    # The energies are means over the zone: read on every `step`-th pixel of each axis (the
    # bands are filtered at full size), the grid `where` comes on.
    mask = (where > EDGE_WHERE).astype(np.uint8)
    if cv2.countNonZero(mask) < 64:
        return 0.0
    if (-(-height // step), -(-width // step)) != mask.shape and (height // step, width // step) != mask.shape:
        return 0.0
    # Only around the zone (it is ~40% of the brows' and eyes' box): its bounding box, padded by
    # the blurs' reach, on the grid's pixels.
    bx, by, bw, bh = cv2.boundingRect(mask)
    pad = int(np.ceil(6 * sigma / step)) + 1
    gx0, gy0 = max(0, bx - pad), max(0, by - pad)
    gx1, gy1 = min(mask.shape[1], bx + bw + pad), min(mask.shape[0], by + bh + pad)
    mask = mask[gy0:gy1, gx0:gx1]
    ya, yb = gy0 * step, min(height, gy1 * step)
    xa, xb = gx0 * step, min(width, gx1 * step)
    image, target_fine = image[ya:yb, xa:xb], target_fine[ya:yb, xa:xb]
    if image_low is not None:
        image_low = image_low[ya:yb, xa:xb]
    grid = (slice(0, step * mask.shape[0], step), slice(0, step * mask.shape[1], step))
    if image[grid].shape != mask.shape:
        return 0.0
    # The zone as camera_detail leaves it without the face's own band (its base, the camera's
    # grain limited to `grain` levels) and the face's own band, each read through the finest
    # band (picture minus its Gaussian of `sigma`): the base's is low - G(low) plus the grain's,
    # the own band's (image - low) - (low - G(low)). 8-bit blurs and int16 differences: float
    # copies of the zone cost 2 ms on d13's 609-px face.
    # (Per-pixel differences taken on the grid's pixels only, after the blurs: the same values
    # as the whole part's, read on the grid, at a quarter of the passes; issue 13's budget.)
    low = gaussian_u8(image, sigma) if image_low is None or image_low.shape != image.shape else image_low
    coarse = cv2.subtract(low[grid], gaussian_u8(low, sigma)[grid], dtype=cv2.CV_16S)
    own = cv2.subtract(cv2.subtract(image[grid], low[grid], dtype=cv2.CV_16S), coarse)
    limited = np.clip(target_fine, -grain, grain).astype(np.float32)
    base = cv2.add(coarse, cv2.subtract(limited[grid], cv2.GaussianBlur(limited, (0, 0), sigma)[grid]),
                   dtype=cv2.CV_32F)
    own = own.astype(np.float32)
    camera = np.clip(target_fine[grid], -DETAIL_LIMIT, DETAIL_LIMIT).astype(np.float32)
    wanted, present, offered, both = (cv2.mean(a * b, mask=mask)[0] for a, b in
                                      ((camera, camera), (base, base), (own, own), (base, own)))
    if offered <= 1e-4 or wanted <= present:
        return 0.0
    # The gain k that brings the zone's finest band to the camera's: present + 2 k both + k^2
    # offered = wanted.
    gain = (np.sqrt(both * both + offered * (wanted - present)) - both) / offered
    return float(np.clip(gain, 0.0, EDGE_GAIN_MAX))


# The finest band a viewer reads as grain and crispness (benchmarks/realism.py's sharpness match:
# the picture minus its Gaussian of 1 px), over the face, is brought within MATCH_RANGE of the
# camera's own there at the end of the detail chain (energy ratios), by a gain on the band below
# MATCH_SCALE_SIGMA kept within MATCH_GAIN (amplitude).
MATCH_SIGMA = 1.0
# The gain is put on the band below this Gaussian: a Gaussian's band leaks (a gain on the band
# below 1 px alone moved the band read at 1 px by half as much: s12 -> d14 still 1.37 at gain 0.6).
MATCH_SCALE_SIGMA = 1.5
# Aimed at the camera's level, not at the 0.8-1.25: the frame as composited reads ~0.1
# more than this model of it (the layer's rounding, the openings' rims at alpha < 0.5, the target
# under the layer vs the camera picture handed in), the written file more again on a smooth camera
# (s12 -> d14, 6 frames: in process 1.23, written 1.30); a softer aim, (0.9, 1.15), left it at 1.39.
# From 0.9, not 0.95: raising s9 on d9 (in range already, 1.02 written) made MediaPipe's points on the
# output jitter 1.171x the shape-off run's (tests/test_swap_shape_jitter.py bounds it at 1.17).
MATCH_RANGE = (0.9, 1.0)
# At most halved (Einstein on d14: 0.50-0.69) or raised by half (s9 on d10: 1.5, the limit; its
# lashes are the camera's make-up, not the face's band).
MATCH_GAIN = (0.5, 1.5)
# A source photo whose own skin detail is faint (its clean texture's finest band over the skin,
# source_fine_detail: s42 1.2, the paintings s9/s10 1.2-1.4 grey levels RMS; Einstein, s12, 4.6)
# loses it in the encoder: its band is not the camera's own pixels, and at under a grey level a
# pixel x264 quantises it away (s42 on d3 kept 60% of the face's skin band written, the camera
# 87% of its own; written 0.797 of the camera's sharpness, at the aim). Such a face is aimed at
# FAINT_AIM instead: fully below FAINT_DETAIL[0] RMS, not at all above FAINT_DETAIL[1], in between
# by the share. A face with large fine detail of its own (s12) keeps MATCH_RANGE: it survives the
# encoder, and raised it went out of range on a smooth camera (s12 on d14: 1.33;
# benchmarks/results/s30-sharp, s30-sharp2, s30-sharp3).
FAINT_DETAIL = (2.0, 3.0)
FAINT_AIM = (1.2, 1.3)


def source_fine_detail(image: np.ndarray, points: np.ndarray, face_size: float) -> float:
    """The RMS (grey levels) of `image`'s finest band (its luma less its Gaussian of MATCH_SIGMA)
    over the face's skin (blend.mask.skin_mask of the mesh `points`, less 2 px at its rim): how
    strong the source photo's own fine detail is, read once per photo; 0 where too little skin."""
    height, width = image.shape[:2]
    skin = cv2.erode(skin_mask(points, (0, 0, width, height), face_size), np.ones((5, 5), np.uint8))
    if int(skin.sum()) < 64:
        return 0.0
    grey = as_grey(image).astype(np.float32)
    band = (grey - cv2.GaussianBlur(grey, (0, 0), MATCH_SIGMA))[skin > 0]
    return float(np.sqrt(np.dot(band, band) / band.size))


def match_aim(fine_detail: float | None) -> tuple[float, float]:
    """The range fine_match_gain aims at for a face whose source photo's fine detail
    (source_fine_detail) is `fine_detail`: MATCH_RANGE, raised towards FAINT_AIM where it is faint;
    None or 0 (not known): MATCH_RANGE."""
    if not fine_detail:
        return MATCH_RANGE
    share = float(np.clip((FAINT_DETAIL[1] - fine_detail) / (FAINT_DETAIL[1] - FAINT_DETAIL[0]), 0.0, 1.0))
    return (MATCH_RANGE[0] + share * (FAINT_AIM[0] - MATCH_RANGE[0]),
            MATCH_RANGE[1] + share * (FAINT_AIM[1] - MATCH_RANGE[1]))


def fine_match_gain(image: np.ndarray, camera: np.ndarray, weight: np.ndarray, low: np.ndarray | None = None,
                    aim: tuple[float, float] = MATCH_RANGE) -> float:
    """The gain on `image`'s finest band (below a Gaussian of MATCH_SIGMA) that brings the finest
    band of `image` composited over `camera` by `weight` (the layer's alpha) within `aim`
    (MATCH_RANGE, or match_aim's for a face of faint fine detail) of `camera`'s own energy over the
    face (1 inside the range).

    Why: each step of the detail chain matches its own band or zone (the camera's grain below the
    split, the features' band, the lids and brows, the moustache), and their sum was off where
    source and camera differ most. Einstein's photo (film grain, stubble, wrinkles, a moustache in
    strands) on d14's beauty-filtered camera, which draws next to no skin texture: 1.38-1.49 of
    the camera's sharpness on the written file, grainier than the camera's own skin; the painting
    s9 on d10 (long lashes and liner the new face does not wear, a varnish-smooth skin):
    0.74-0.77 (benchmarks/results/s27-sharp). Read over the face with its eye and mouth holes
    (half of the excess on s12 -> d14 lay on the openings' rims, where the new face's lids meet
    the camera's eyes), on the luma planes, on every other pixel. `low`: gaussian_u8(image,
    MATCH_SCALE_SIGMA) where the caller made it already (fine_band_scaled takes it too)."""
    shown = weight[::2, ::2]
    inside = (shown > 0.5).astype(np.uint8)
    if cv2.countNonZero(inside) < 64:
        return 1.0
    # The holes closed: a box average over a fifth of the box's width, over a half, spans an eye
    # and leaves a straight outline where it was (a morphological closing cost 0.8 ms).
    reach = max(3, int(0.2 * shown.shape[1]) | 1)
    inside = cv2.blur(inside.astype(np.float32), (reach, reach)) > 0.5
    if low is None or low.shape != image.shape:
        low = gaussian_u8(image, MATCH_SCALE_SIGMA)
    # Everything below is read on the face only: worked over the face's bounding box grown by
    # the band's Gaussian reach (from an even pixel, so the read grid stays the box's), the same
    # numbers bit for bit (a Gaussian's pixel reads only its reach; at the box's own edge the
    # crop's reflected border is the box's). The box's margins, the neck and the hair are a
    # quarter of d13's box (issue 13, benchmarks/results/s28-swapcost).
    ya, yb, xa, xb = _face_crop(inside, image.shape[:2])
    inside = inside[ya // 2:(yb + 1) // 2, xa // 2:(xb + 1) // 2]
    image, camera, low, weight = (picture[ya:yb, xa:xb] for picture in (image, camera, low, weight))
    # The frame as composited with the band at 0 and at 1 (8-bit blends: float copies of the box
    # cost three times as much); the finest band is linear in the gain g: base + g change.
    alpha = weight if weight.dtype == np.float32 else weight.astype(np.float32)
    rest = 1.0 - alpha

    def finest(picture: np.ndarray) -> np.ndarray:
        # The difference taken on the read grid only (every other pixel): the same integers, a
        # quarter of the subtraction and no int16 copy of the crop (issue 13, s29-swapcost).
        return np.subtract(picture[::2, ::2], gaussian_u8(picture, MATCH_SIGMA)[::2, ::2], dtype=np.float32)

    own = finest(camera)
    base = finest(cv2.blendLinear(low, camera, alpha, rest))
    change = finest(cv2.blendLinear(image, camera, alpha, rest)) - base
    own, base, change = own[inside], base[inside], change[inside]
    count = float(own.size)
    wanted_of = float(np.dot(own, own)) / count
    bb, bc, cc = (float(np.dot(a, b)) / count for a, b in ((base, base), (base, change), (change, change)))
    present = bb + 2.0 * bc + cc
    if wanted_of <= 1e-3 or cc <= 1e-3:
        return 1.0
    wanted = min(max(present / wanted_of, aim[0]), aim[1]) * wanted_of
    if wanted == present:
        return 1.0
    # bb + 2 g bc + g^2 cc = wanted, the larger root (g = 1 gives present).
    root = bc * bc - cc * (bb - wanted)
    gain = (np.sqrt(root) - bc) / cc if root > 0 else -bc / cc
    return float(np.clip(gain, *MATCH_GAIN))


def _face_crop(inside: np.ndarray, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """(y0, y1, x0, x1) of a picture of `shape` (h, w) that fine_match_gain works over: the
    bounding box of `inside` (at half size, every other pixel) grown by gaussian_u8's reach at
    MATCH_SIGMA, from an even row and column."""
    rows, cols = np.nonzero(inside.any(axis=1))[0], np.nonzero(inside.any(axis=0))[0]
    if not len(rows):
        return 0, shape[0], 0, shape[1]
    reach = max(1, int(round(MATCH_SIGMA * 6 + 1)) | 1) // 2  # kernels._kernel's size, each side
    y0, x0 = max(0, 2 * int(rows[0]) - reach) & ~1, max(0, 2 * int(cols[0]) - reach) & ~1
    return y0, min(shape[0], 2 * int(rows[-1]) + 1 + reach), x0, min(shape[1], 2 * int(cols[-1]) + 1 + reach)


def fine_band_scaled(image: np.ndarray, gain: float, low: np.ndarray | None = None) -> np.ndarray:
    """`image` (uint8) with its band below a Gaussian of MATCH_SCALE_SIGMA times `gain` (`low`:
    that Gaussian of `image`, where the caller made it)."""
    if abs(gain - 1.0) < 1e-3:
        return image
    if low is None or low.shape != image.shape:
        low = gaussian_u8(image, MATCH_SCALE_SIGMA)
    return cv2.addWeighted(image, gain, low, 1.0 - gain, 0.0)
