"""Colour and light: make the rendered face take the target's colour and the target's light.

Colour: Reinhard et al. 2001 statistics transfer in CIE LAB, computed over the skin only (the
face oval less eyes, brows and lips) so that lipstick, hair and background do not bias it.
Light: the ratio of the target's low-frequency luminance to the rendered face's, applied to the
rendered face, so a side-lit target gets a side-lit face (and the source photo's own shading is
divided out). Both are computed in one LAB pass over the face box.
Colour statistics are smoothed over time per face track (`ColourSmoother`): per-frame statistics
of a moving face flicker visibly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from realtime.blend.kernels import area_shrink

Stats = tuple[np.ndarray, np.ndarray]
"""Per-channel LAB mean and standard deviation."""

# The shading map is computed at 1/_SHADE_STEP resolution: it is blurred by many pixels anyway.
_SHADE_STEP = 4
# Light is what varies slowly across a face: the blur of the shading map, in face sizes. A
# finer one would also carry the target's own relief (cheekbones, nose shadow), i.e. part of
# the target's identity, onto the new face.
SHADING_SIGMA = 0.12


def lab_statistics(image: np.ndarray, region: np.ndarray) -> Stats:
    """Per-channel mean and standard deviation in 8-bit LAB over `region` (uint8 mask)."""
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)
    return _lab_statistics(lab, region)


def _lab_statistics(lab: np.ndarray, region: np.ndarray) -> Stats:
    mean, std = cv2.meanStdDev(lab, mask=region)
    return mean.ravel(), np.maximum(std.ravel(), 1.0)


# The transfer's statistics are the skin's: what in the source's skin region is darker than
# SKIN_DARKEST of its median lightness is hair (a moustache, a beard), nostrils or a deep shade, not
# skin. Left out as far as it is more of the region than DARK_SHARE[0], fully from DARK_SHARE[1]
# (skin_statistics). A clean-shaven face's nostrils and shades stay under it, and nothing changes
# for it (frames 0 and 30 of d3, d6, d9, d10, d13, d14, d20: s42 0.5-0.8%, s7 0.4-1.5%, s10
# 1.0-2.3%, s9 2.0-4.3%, s6 2.5-3.6%, s0 1.8-4.4%, Hopper 2.7-4.9%; every 5th frame of the nearest
# pairs too); s12's moustache: 9.2-14.3%.
SKIN_DARKEST = 0.6
DARK_SHARE = (0.05, 0.08)
# How far the statistics go to the skin's own (skin_statistics). Written, s12's six targets (60 frames,
# benchmarks/results/s34-s12id): all the way, d14 -0.015, d10 -0.010, d6 -0.006 but d3 +0.006, d9
# +0.006, d13 +0.004 in dlib's distance to the photo; half-way, -0.007 to +0.001 on every one.
SKIN_WEIGHT = 0.5


def skin_statistics(source_lab: np.ndarray, target_lab: np.ndarray,
                    region: np.ndarray) -> tuple[Stats, Stats]:
    """(source's, target's) LAB statistics over `region` (uint8 {0, 1}), less the pixels where the
    source is darker than SKIN_DARKEST of its median lightness there, as far as those are more of it
    than DARK_SHARE[0] (the statistics blended over DARK_SHARE, so no step from frame to frame), and
    SKIN_WEIGHT of the way. Both over the same pixels: a face worn over itself stays itself.

    Why: the face oval less the eyes, brows and lips still holds a moustache. s12 (young Einstein,
    a near-black moustache): 10-12% of his skin region under 0.6 of its median, its lightness spread
    45 where the skin's own is 26 (the targets' 15-21). The mean the transfer takes to the camera's
    skin was the hair's and the skin's together, so the worn skin came out lighter than the camera's
    (written, s12 on d6: +2.4 L over the skin off the hair) and the moustache and features shallower
    against it; the gain (the spreads' ratio) sat on its floor (0.7) on every target. Half-way
    (SKIN_WEIGHT), written: s12's six pairs 0.4962 -> 0.4933, s12 on d6's seam 3.16 (3 frames over 3)
    -> 2.88 (0) (benchmarks/results/s34-s12id). Not the target's own dark pixels: they are its
    light (left out, s42's brow on the side-lit d20 went pitch black, 0.14 of the skin against d20's
    own 0.33)."""
    full = (_lab_statistics(source_lab, region), _lab_statistics(target_lab, region))
    lightness = source_lab[:, :, 0]
    histogram = cv2.calcHist([lightness], [0], region, [256], [0, 256]).ravel()
    total = float(histogram.sum())
    if total < 16:
        return full
    median = int(np.searchsorted(np.cumsum(histogram), 0.5 * total))
    cut = int(np.floor(SKIN_DARKEST * median)) + 1  # the skin: lightness > SKIN_DARKEST * median
    share = float(histogram[:cut].sum()) / total
    weight = SKIN_WEIGHT * float(np.clip((share - DARK_SHARE[0]) / (DARK_SHARE[1] - DARK_SHARE[0]),
                                         0.0, 1.0))
    if weight <= 0.0:
        return full
    skin = cv2.bitwise_and(region, (lightness >= cut).astype(np.uint8))
    if cv2.countNonZero(skin) < 16:
        return full
    part = (_lab_statistics(source_lab, skin), _lab_statistics(target_lab, skin))
    if weight >= 1.0:
        return part
    (source_mean, source_std), (target_mean, target_std) = full
    (skin_source_mean, skin_source_std), (skin_target_mean, skin_target_std) = part
    return ((source_mean + weight * (skin_source_mean - source_mean),
             source_std + weight * (skin_source_std - source_std)),
            (target_mean + weight * (skin_target_mean - target_mean),
             target_std + weight * (skin_target_std - target_std)))


def transfer_matrix(source_stats: Stats, target_stats: Stats, strength: float) -> np.ndarray:
    """3x4 per-channel affine map (LAB) taking the source statistics towards the target's.

    strength 0 leaves the colours as they are, 1 matches mean and spread fully. The spread
    ratio is clamped: a nearly flat region must not blow up the contrast.
    """
    source_mean, source_std = source_stats
    target_mean, target_std = target_stats
    ratio = np.clip(target_std / source_std, 0.4, 2.5)
    # Lightness spread within 0.7-1.4: a moustache, a beard or thick brows widen the source's
    # spread without being skin, and matching it to a smooth target's pressed them to grey
    # smudges (a pasted-on look); a flatter source is not stretched into blotches either.
    ratio[0] = np.clip(ratio[0], 0.7, 1.4)
    # Chroma spread is limited harder: a pale, even source skin has almost none, and
    # stretching it to a ruddier target's would turn pink lips and eyelids crimson.
    ratio[1:] = np.clip(ratio[1:], 0.6, 1.35)
    gain = 1.0 + strength * (ratio - 1.0)
    offset = strength * (target_mean - ratio * source_mean)
    matrix = np.zeros((3, 4), dtype=np.float32)
    matrix[np.arange(3), np.arange(3)] = gain
    matrix[:, 3] = offset
    return matrix


def apply_transfer(image: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)
    lab = cv2.transform(lab, matrix)  # saturates to uint8
    return cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)


def _low_frequency(luminance: np.ndarray, weight: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Normalised-convolution blur of `luminance` weighted by `weight` (the skin): each pixel
    gets the weighted mean of the skin's luminance around it, so the background never leaks
    in. Returns (blurred, blurred weight)."""
    s = max(sigma, 0.5)
    blurred_weight = cv2.GaussianBlur(weight, (0, 0), s)
    blurred = cv2.GaussianBlur(luminance * weight, (0, 0), s) / np.maximum(blurred_weight, 1e-3)
    return blurred, blurred_weight


def shading_ratio(patch_l: np.ndarray, target_l: np.ndarray, weight: np.ndarray, sigma: float,
                  strength: float) -> np.ndarray:
    """Gain for the patch's L channel (same size as the inputs): the target's low-frequency
    luminance over the patch's, to the power `strength`, 1 where the skin gives no evidence."""
    patch_low, near = _low_frequency(patch_l, weight, sigma)
    target_low, _ = _low_frequency(target_l, weight, sigma)
    ratio = np.clip((target_low + 4.0) / (patch_low + 4.0), 0.4, 2.5)
    # Fade to 1 where hardly any skin is near (far outside the face): no evidence, no change.
    confidence = np.clip(near * 4.0, 0.0, 1.0)
    return (1.0 + confidence * (ratio ** strength - 1.0)).astype(np.float32)


def recolour(patch: np.ndarray, target: np.ndarray, region: np.ndarray, strength: float,
             shading: float = 0.0, face_size: float = 0.0,
             smooth: Callable[[tuple[Stats, Stats]], tuple[Stats, Stats]] | None = None,
             edge: tuple | None = None, tone: float = 0.0,
             tone_memory: tuple[ToneMemory, int, float] | None = None, step: int | None = None,
             report: dict | None = None, hard_light: float = 0.0) -> np.ndarray:
    """`patch` with the target's colour (strength) and light (shading) over `region`.

    region: uint8 {0, 1} mask of the skin, at the patch's resolution or a reduced one (it is
    resized). Statistics and the shading map are computed at 1/4 resolution (both are averages
    over many pixels); only the final per-pixel transform runs at full resolution.
    smooth: maps this frame's (patch stats, target stats) to the ones to use (smoothed over
    time); called only when colour is transferred.
    edge: (alpha, landmarks, box, feather) to also take the face's edge to the target's light
    (see edge_membrane), computed on the same reduced pictures.
    tone: how far the skin's chroma is taken to the target's at low frequency and the lips' colour
    to the target's lips (see tone_offsets; needs `edge` for the landmarks).
    tone_memory: (memory, face track, time in seconds): the tone maps are measured a few times a
    second per face (ToneMemory) and reused in between.
    step: the reduction of the statistics and maps (default _SHADE_STEP, none for a tiny patch);
    recolour_halved passes half of it for a patch it has itself halved.
    report: a dict that gets "lightness_gain", the transfer's contrast gain on L (1 if none).
    hard_light: how strong the target's directional light is, 0-1 (FaceLayer.hard_light; see
    _cut_membrane)."""
    if strength <= 0 and shading <= 0 and edge is None and tone <= 0:
        return patch
    height, width = patch.shape[:2]
    full_size = step is None
    if step is None:
        step = _SHADE_STEP if min(height, width) >= 16 * _SHADE_STEP else 1
    small = (max(1, width // step), max(1, height // step))
    weight = region.astype(np.float32)
    if weight.shape != (small[1], small[0]):
        weight = area_shrink(weight, small)
    mask = (weight > 0.5).astype(np.uint8)
    if cv2.countNonZero(mask) < 16:
        return patch
    lab = cv2.cvtColor(patch, cv2.COLOR_BGR2LAB)
    lab_small = area_shrink(lab, small) if step > 1 else lab
    target_small = area_shrink(target, small) if step > 1 else target
    target_lab = cv2.cvtColor(target_small, cv2.COLOR_BGR2LAB)
    planes = None
    lip_lift: np.ndarray | None = None
    if strength > 0:
        # Over the skin, not a moustache (skin_statistics).
        stats = skin_statistics(lab_small, target_lab, mask)
        if smooth is not None:
            stats = smooth(stats)
        matrix = transfer_matrix(stats[0], stats[1], strength)
        lab_small_l = lab_small[:, :, 0].copy()
        if report is not None:
            report["lightness_gain"] = float(matrix[0, 0])
        shade_zone = None
        if edge is not None and face_size > 0:
            points = edge[1][:, :2] - np.array(edge[2][:2], np.float32)
            # (Imported here: realtime.swap imports the blend stage's modules at its top.)
            from realtime.swap.shadows import nose_shade_zone

            shade_zone = nose_shade_zone((height, width), points, face_size)
        planes = _transfer_planes(lab, matrix, float(stats[0][0][0]), fine_split=full_size, shade_zone=shade_zone)
        lab_small = cv2.transform(lab_small, matrix)
        # The small picture's lightness as the full one's (the lips' tone offsets and the
        # shading are measured on it): the dark part by a gain (dark_lightness_table).
        dark_table = dark_lightness_table(matrix, float(stats[0][0][0]))
        lab_small[:, :, 0] = cv2.LUT(np.ascontiguousarray(lab_small_l), dark_table)
        lift_table = lip_lightness_table(matrix, float(stats[0][0][0]), dark_table) if tone > 0 else None
        # Within the lips' lightness tolerance the affine map is left as it is: a lift of a level or
        # two, rounded afresh each frame, only flickers (s9 on d9: MediaPipe's landmarks on the
        # output 1.08 -> 1.15 times as jittery with the face-shape transfer as without).
        if lift_table is not None and int(lift_table.max()) >= LIP_TOLERANCE[0]:
            lip_lift = cv2.LUT(np.ascontiguousarray(lab_small_l), lift_table)
    lightness = None
    if shading > 0 and face_size > 0:
        ratio = shading_ratio(lab_small[:, :, 0].astype(np.float32), target_lab[:, :, 0].astype(np.float32),
                              mask.astype(np.float32), SHADING_SIGMA * face_size / step, shading)
        if edge is not None:
            lab_small[:, :, 0] = cv2.multiply(lab_small[:, :, 0], ratio, dtype=cv2.CV_8U)
        if step > 1:
            ratio = cv2.resize(ratio, (width, height), interpolation=cv2.INTER_LINEAR)
        lightness = cv2.multiply(lab[:, :, 0] if planes is None else planes[0], ratio, dtype=cv2.CV_8U)
    if edge is not None and face_size > 0:
        alpha, landmarks, box, feather = edge
        membrane = _edge_membrane(lab_small[:, :, 0], target_lab[:, :, 0], alpha, landmarks, box, face_size,
                                  feather, step, (width, height), skin_like=_skin_like(target_lab, mask, hard_light), skin=mask,
                                  hard_light=hard_light)
        if membrane is not None:
            if lightness is None:
                lightness = lab[:, :, 0] if planes is None else planes[0]
            lightness = cv2.add(lightness, membrane, dtype=cv2.CV_8U)
    if lightness is not None:
        if planes is None:
            planes = list(cv2.split(lab))
        planes[0] = lightness
    if tone > 0 and edge is not None and face_size > 0:
        offsets = tone_offsets(lab_small, target_lab, mask, edge[1], edge[2], face_size, step, tone, tone_memory,
                               lip_lift, hard_light)
        if offsets is not None:
            if planes is None:
                planes = list(cv2.split(lab))
            for channel, offset in enumerate(offsets):
                if offset is not None:
                    _add_enlarged(planes[channel], offset, step, lips_only=channel == 0)
    return cv2.cvtColor(lab if planes is None else cv2.merge(planes), cv2.COLOR_LAB2BGR)


def recolour_halved(patch: np.ndarray, target: np.ndarray, region: np.ndarray, strength: float,
                    shading: float, face_size: float, smooth: Callable[[tuple[Stats, Stats]], tuple[Stats, Stats]] | None,
                    edge: tuple, tone: float, tone_memory: tuple[ToneMemory, int, float] | None,
                    hard_light: float = 0.0) -> np.ndarray:
    """recolour's change worked out at half resolution and added to `patch` at full resolution
    (`edge`: alpha, landmarks, box, feather as for recolour, at `patch`'s pixels; `hard_light` as
    for recolour).

    Why: the two whole-box LAB conversions, the per-channel tables and blends were 5 ms of a
    720p face (benchmarks/swap_cost.py); at half size they are a quarter of that. What a 2 x 2
    block shares is the change, not the picture: every correction but the transfer's own tables
    is a smooth map at 1/4 already, and what the tables do to the finest band (its contrast) is
    set again afterwards by the detail chain (source_detail raises the face's feature band to the
    camera's energy, camera_detail puts the camera's finest band in). The statistics and maps
    stay at 1/_SHADE_STEP of the full box (step _SHADE_STEP / 2 of the half one)."""
    height, width = patch.shape[:2]
    if min(height, width) < 32 * _SHADE_STEP:
        return recolour(patch, target, region, strength, shading, face_size, smooth, edge, tone, tone_memory,
                        hard_light=hard_light)
    half = (width // 2, height // 2)
    alpha, landmarks, box, feather = edge
    points = landmarks.astype(np.float32, copy=True)
    # Pixel centres: the box's pixel x sits at (x + 0.5) / 2 - 0.5 of the halved patch.
    points[:, :2] = (points[:, :2] - np.array(box[:2], np.float32) + 0.5) * 0.5 - 0.5
    small_patch = area_shrink(patch, half)
    report: dict = {}
    changed = recolour(small_patch, area_shrink(target, half), region, strength, shading, face_size * 0.5, smooth,
                       (area_shrink(alpha, half), points, (0, 0, half[0], half[1]), feather), tone, tone_memory,
                       step=max(1, _SHADE_STEP // 2), report=report, hard_light=hard_light)
    if changed is small_patch:
        return patch
    # patch + enlarged(changed - small_patch), and the transfer's lightness contrast gain g on the
    # band finer than the halved patch (the part the shared change leaves out: without it a
    # painting's strong fine contrast, which the transfer lowers, stayed; sharpness 1.4-1.5x the
    # camera's on s10 -> d14 and s12 -> d20, from 1.2 with the full-size transfer):
    # enlarged(changed) + g (patch - enlarged(small_patch)). Bilinear enlargement is linear, so that
    # is g patch + enlarged(changed - g small_patch): the difference formed at half size (a quarter
    # of the pixels), one float enlargement and one pass at full size, where the sum as written
    # took two 8-bit enlargements and two full-size passes (1.05 -> 0.55 ms on a 473 x 388 box,
    # one core; the same numbers but for a rare rounding, tests/test_blend_budget.py).
    # Enlarged to the patch's size: an odd last row or column (1 in 200-600) is off by under half a
    # pixel in a change that is smooth at that scale.
    gain = report.get("lightness_gain", 1.0)
    coarse = cv2.addWeighted(changed, 1.0, small_patch, -gain, 0.0, dtype=cv2.CV_32F)
    return cv2.addWeighted(patch, gain, cv2.resize(coarse, (width, height), interpolation=cv2.INTER_LINEAR), 1.0, 0.0,
                           dtype=cv2.CV_8U)


def _add_enlarged(plane: np.ndarray, offset: np.ndarray, step: int, lips_only: bool = False) -> None:
    """plane (uint8, full size) += offset (int16 at 1/step), enlarged, saturating, in place; with
    lips_only, over the offset's non-zero rectangle only (the lips: a few percent of the box)."""
    height, width = plane.shape
    if lips_only:
        rows, cols = np.nonzero(offset.any(axis=1))[0], np.nonzero(offset.any(axis=0))[0]
        if not len(rows):
            return
        y0, y1 = max(0, (rows[0] - 1) * step), min(height, (rows[-1] + 2) * step)
        x0, x1 = max(0, (cols[0] - 1) * step), min(width, (cols[-1] + 2) * step)
        # The same sampling as enlarging the whole offset: map the rectangle's pixels back to it.
        xs = ((np.arange(x0, x1, dtype=np.float32) + 0.5) * (offset.shape[1] / width) - 0.5)[None, :]
        ys = ((np.arange(y0, y1, dtype=np.float32) + 0.5) * (offset.shape[0] / height) - 0.5)[:, None]
        part = cv2.remap(offset.astype(np.float32), np.broadcast_to(xs, (y1 - y0, x1 - x0)).astype(np.float32),
                         np.broadcast_to(ys, (y1 - y0, x1 - x0)).astype(np.float32), cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
        plane[y0:y1, x0:x1] = cv2.add(plane[y0:y1, x0:x1], np.round(part).astype(np.int16), dtype=cv2.CV_8U)
        return
    if offset.shape != plane.shape:
        offset = cv2.resize(offset, (width, height), interpolation=cv2.INTER_LINEAR)
    cv2.add(plane, offset, dst=plane, dtype=cv2.CV_8U)


def _transfer_planes(lab: np.ndarray, matrix: np.ndarray, skin_lightness: float,
                     fine_split: bool = False, shade_zone: tuple | None = None) -> list[np.ndarray]:
    """The colour transfer (`matrix`, per channel) applied to `lab` (LAB uint8), as three
    contiguous planes, with its chroma change scaled by each pixel's lightness relative to the
    skin's: a colour cast lies on the light a surface reflects, so a dark brow, moustache or
    lash line takes the warm target's skin tint in proportion to its lightness (added evenly, it
    turned a grey brow orange and a moustache brown, the look of paint; by the square of the
    lightness, too little: a grey-blue moustache on a warm-lit face).

    Planes, not the interleaved picture: the transfer is per channel (three 256-entry tables,
    filled by cv2.transform itself, so the numbers are cv2.transform's), the chroma weight
    depends on the 8-bit lightness only (two more tables), and the lightness corrections that
    follow work on a plane: the same numbers as cv2.transform + a per-pixel weight + a 3-channel
    blend, at less than half the passes over the face box.

    shade_zone: (x0, y0, weight) from swap/shadows.nose_shade_zone: there the skin's shade takes the full change
    (_full_cast_on_shade)."""
    planes = list(cv2.split(lab))
    if np.count_nonzero(matrix[:, :3] - np.diag(np.diag(matrix[:, :3]))):
        after = list(cv2.split(cv2.transform(lab, matrix)))
    else:
        tables = cv2.transform(_RAMP, matrix)[:, 0, :]
        tables[:, 0] = dark_lightness_table(matrix, skin_lightness)
        after = [cv2.LUT(plane, np.ascontiguousarray(tables[:, channel])) for channel, plane in enumerate(planes)]
        if fine_split:
            # The dark part's gain on the picture above its finest band only, the finest band at
            # the transfer's own gain, as recolour_halved forms it (its finest band is the
            # patch's at that gain, its change is worked out at half size): the full-size and the
            # halved transfer give the same fine contrast (tests/test_blend_budget.py).
            base = cv2.GaussianBlur(planes[0], (0, 0), 1.0)
            fine = cv2.subtract(planes[0], base, dtype=cv2.CV_16S)
            after[0] = cv2.add(cv2.LUT(base, np.ascontiguousarray(tables[:, 0])),
                               np.rint(fine * float(matrix[0, 0])).astype(np.int16), dtype=cv2.CV_8U)
    # Full change from 70% of the skin's lightness up (the skin's own shading stays within it),
    # by the square of the lightness below, and never less than in proportion to it relative to
    # the skin's (the two meet at 0.49 of it): a cast of fixed chromaticity moves a* and b* in
    # proportion to L* (the light a surface reflects). The square alone gave dark hair a third of
    # that: s12's moustache on the warm-lit d3 kept the photo's near-grey, ln(R/B) 1.58 in linear
    # light against 2.14 for d3's own brows (dark hair in that light): a grey-blue moustache on
    # orange skin (the blind judges' "pasted, grey-blue"); now 1.75. In proportion from 0.7 of the
    # skin (2.00) read further from the photo (dlib, written, s12 -> d3 +0.006; now +0.002):
    # benchmarks/results/s27-moustache.
    ramp = np.arange(256, dtype=np.float32)
    weight = np.minimum(ramp * np.float32(1.0 / max(0.7 * skin_lightness, 1.0)), np.float32(1.0))
    weight = np.maximum(weight * weight, np.minimum(ramp * np.float32(1.0 / max(skin_lightness, 1.0)), np.float32(1.0)))
    keep, change = cv2.LUT(planes[0], np.float32(1.0) - weight), cv2.LUT(planes[0], weight)
    if shade_zone is not None:
        _full_cast_on_shade(change, keep, planes[0], skin_lightness, *shade_zone)
    # The lightness is the transferred one everywhere; only the chroma is blended back.
    return [after[0]] + [cv2.blendLinear(after[c], planes[c], change, keep) for c in (1, 2)]


# Over the nose and the skin beside it (swap/shadows.nose_shade_zone) a pixel lighter than SHADE_CAST[1] of the
# skin's lightness takes the colour transfer's full chroma change, as the skin does, fading to
# _transfer_planes' rule at SHADE_CAST[0] (_full_cast_on_shade). There a dark pixel is the skin in
# shade, not hair: the clean texture keeps the photo's own shade down the flank of a side-lit nose
# (swap/shadows.py; lifting it costs dlib's distance to the photo, benchmarks/results/s26-greypatch),
# as deep as 0.3 of the skin's lightness. s12 (lit from the viewer's right) on the pale, pink d14
# (~90 levels brighter): by the lightness rule the shade's darker part took half of d14's pink and
# stayed grey, a grey-blue smudge from the inner eye corner to the nostril that read as dirt (the
# shade under 0.75 of the cheek's L* kept 0.70 of the cheek's chroma; d14's own darker skin keeps
# 0.83-0.99 of it); now 0.84-0.90, in the skin's hue, the lightness unchanged (tests/
# test_blend_nose_shade.py, benchmarks/results/s28-nosegrey). Full from 0.35: the smudge's darkest
# blotches are at 0.3-0.45 of the photo's skin (full from 0.55 only: the shade's chroma 0.89 -> 0.91
# of the cheek's, nothing seen).
# The nostrils and the upper lip (a moustache, the openings) are out of the zone.
SHADE_CAST = (0.2, 0.35)


def _full_cast_on_shade(change: np.ndarray, keep: np.ndarray, lightness: np.ndarray, skin_lightness: float,
                        x0: int, y0: int, zone: np.ndarray) -> None:
    """`change` (and `keep` = 1 - change), _transfer_planes' chroma weights, raised in place over
    `zone` (from x0, y0) to the full change for pixels lighter than SHADE_CAST[1] of the skin."""
    ramp = np.arange(256, dtype=np.float32) / max(float(skin_lightness), 1.0)
    low, full = SHADE_CAST
    shade = np.clip((ramp - low) / (full - low), 0.0, 1.0).astype(np.float32)
    y1, x1 = y0 + zone.shape[0], x0 + zone.shape[1]
    part = change[y0:y1, x0:x1]
    raised = np.maximum(part, zone * cv2.LUT(lightness[y0:y1, x0:x1], shade))
    change[y0:y1, x0:x1] = raised
    keep[y0:y1, x0:x1] = np.float32(1.0) - raised


_RAMP = np.repeat(np.arange(256, dtype=np.uint8)[:, None, None], 3, axis=2)
# Below this fraction of the skin's lightness the transfer's lightness change is a gain, not an
# offset (dark_lightness_table).
DARK_FROM = 0.4
# Where that gain is under DARK_COLLAPSE[0] of the transfer's gain at the skin (the affine map has
# sent the darks to black), the darks take the skin's gain instead, fading out to DARK_COLLAPSE[1]
# (dark_lightness_table).
DARK_COLLAPSE = (0.2, 0.3)
# On a darker target a shade keeps its ratio to the skin between SHADE_BAND[1] and SHADE_BAND[2] of
# the skin's lightness, fading out to SHADE_BAND[0] below and SHADE_BAND[3] above (dark_lightness_table).
SHADE_BAND = (0.35, 0.5, 0.8, 0.95)
# The lips (0.5-0.8 of the skin's lightness) keep their ratio to the skin from LIP_FROM[1] of its
# lightness up, fading out to LIP_FROM[0] (lip_lightness_table).
LIP_FROM = (0.3, 0.5)


def dark_lightness_table(matrix: np.ndarray, skin_lightness: float) -> np.ndarray:
    """uint8 (256,): the transfer's lightness map (`matrix`'s first row, gain g and offset o)
    for the pixels darker than DARK_FROM of the skin's (`skin_lightness`, 8-bit L) made a pure
    gain through black, meeting the affine map at that lightness: L' = L (g a + o) / a below a.

    Why: the affine map's offset lifts a dark moustache, a brow or a lash line by as much as
    the skin. s12 (a dark-haired photo) on the pale, brightly lit d14: skin L 162 -> 205 at gain
    0.70, offset +92, so the moustache went from L 40 to 120: the skin's lightness over it fell
    from 4.0x to 1.7x, a grey smudge (the blind judge's "grey stubble patch on the upper lip").
    A brighter or darker exposure scales what a surface reflects (CIE L is close to proportional
    to it over this range), so hair keeps more of its ratio to the skin: L 40 -> 85 (2.4x), dark
    hair (d14's own pupils are L 31-42). Not from higher up: from 0.55 of the skin the moustache
    went to L 70, but brows and lash lines darkened with it, heavy and dotted on d14's soft
    picture (its sharpness over the camera's 1.14 -> 1.6), and lips (0.5-0.8 of the skin) stay on
    the affine map: their colour is the tone's (tone_offsets; s42's red lips on d14 in
    tests/test_blend_tone.py: lips_de 5.2 at 0.55, 4.9 now, bound 5.5)."""
    ramp = np.arange(256, dtype=np.float32)
    affine = matrix[0, 0] * ramp + matrix[0, 3]
    anchor = max(DARK_FROM * float(skin_lightness), 1.0)
    at_anchor = float(matrix[0, 0]) * anchor + float(matrix[0, 3])
    skin = max(float(skin_lightness), 1.0)
    at_skin = float(matrix[0, 0]) * skin + float(matrix[0, 3])
    dark_gain, skin_gain = max(at_anchor, 0.0) / anchor, max(at_skin, 0.0) / skin
    table = np.where(ramp < anchor, ramp * dark_gain, affine)
    # On a much darker target the affine map is at or near 0 at the anchor, and every pixel under
    # it went to black. s42 (a bright photo, skin L 193) on the dark d20 (skin 102): gain 1.0,
    # offset -91, so L < 71 was 0: the end of her brow, where hair strands cross it (0.3 of her
    # skin), a pitch-black blob (L 7 against the new skin's 83, 0.08; d20's own brow 0.33). There
    # the darks take the skin's gain (an exposure's), up to SHADE_BAND[1] of the skin where the
    # shades' lift below is full: 0.33 (benchmarks/results/s27-browend). Only there: where the
    # dark gain is 0.38 (s9 -> d20) or 0.58 (s42 -> d13) of the skin's, the darks lifted to it
    # (lashes, nostrils) cost dlib's distance to the photo +0.006 on the written files.
    low, high = DARK_COLLAPSE
    collapsed = float(np.clip((high - dark_gain / max(skin_gain, 1e-6)) / (high - low), 0.0, 1.0))
    if collapsed > 0.0:
        lifted = np.maximum(table, ramp * (collapsed * skin_gain))
        table = np.where(ramp < SHADE_BAND[1] * skin, lifted, table)
    # On a darker target (offset o < 0) a shade between SHADE_BAND[1] and SHADE_BAND[2] of the
    # skin's lightness s ends no darker relative to the skin than it was: L' >= L (g s + o) / s (a
    # pure gain at the skin, as an exposure). The affine map takes as much off a shade as off the
    # skin, so the darker the shade the larger its share: s9 (a painting lit from above) on the
    # darker d20, the shadow under the nose went from 0.51 of the cheek to 0.32, darker than the
    # painting's own 0.59 (the blind judge's "dark blob over the nostrils"); now 0.46
    # (benchmarks/results/s25-noseratio). Fading out to SHADE_BAND[0]: what is darker is hair,
    # lashes or an opening, and keeps the gain above (lifting it too: dlib's distance to the photo
    # +0.009 on s9 -> d20, in process). Fading out to SHADE_BAND[3]: the skin's own shading stays on
    # the affine map, so the skin's mean stays at the target's (lifted up to s, the face came out
    # lighter than the camera's: tone 0.42 -> 0.68 dE). A lift only: on a brighter target (o > 0)
    # the map above is lighter than the gain everywhere under the skin, and is kept as it is.
    low, full, high, top = SHADE_BAND
    share = ramp / skin
    weight = np.clip(np.minimum((share - low) / (full - low), (top - share) / (top - high)), 0.0, 1.0)
    table = table + weight * np.maximum(ramp * max(at_skin, 0.0) / skin - table, 0.0)
    # Still a map that never puts a lighter pixel under a darker one (the fades' slopes).
    table = np.maximum.accumulate(table)
    return np.clip(np.rint(table), 0, 255).astype(np.uint8)


def lip_lightness_table(matrix: np.ndarray, skin_lightness: float, dark_table: np.ndarray) -> np.ndarray:
    """int16 (256,): over the lips, what takes the transfer's lightness map (`dark_table`:
    dark_lightness_table of `matrix`, gain g and offset o) to a pure gain at the skin's
    (`skin_lightness`, 8-bit L): L (g s + o) / s - dark_table(L). The lips keep their lightness
    relative to the skin (the source's lightness pattern, as dark hair does), instead of the
    affine map's, which moves them by the skin's offset o whatever their own lightness.

    Why: an exposure scales what a surface reflects. s42 (a bright photo, skin L 191) on the dark
    d20 (skin 100): gain 1.0, offset -91, so her lips (132, 0.69 of her skin) went to 41, 0.41 of
    the new skin, and the tone's lip lightness (LIP_LIGHT_LIMIT) brought them up to 55 only: dark
    red, "waxy" lips under d20's own (75, 0.75 of its skin). As a gain: 69."""
    ramp = np.arange(256, dtype=np.float32)
    skin = max(float(skin_lightness), 1.0)
    at_skin = float(matrix[0, 0]) * skin + float(matrix[0, 3])
    proportional = np.clip(ramp * max(at_skin, 0.0) / skin, 0, 255)
    # Below LIP_FROM[1] of the skin fading to nothing at LIP_FROM[0]: what is that dark by the lips
    # is hair (s12's moustache over his upper lip, 0.25 of his skin, keeps dark_lightness_table's
    # gain) or the shadow between them.
    weight = np.clip((ramp / skin - LIP_FROM[0]) / (LIP_FROM[1] - LIP_FROM[0]), 0.0, 1.0)
    # ... and nothing above the skin's lightness (a lip's highlight is the light's, not its colour).
    weight[ramp > skin] = 0.0
    # A lift only: on a brighter camera (offset > 0) the gain would darken the lips below the affine
    # map, and a painted lip's darkness is the lipstick's, which the tone takes to the target's lips
    # within LIP_LIGHT_LIMIT: s42 with red lipstick on the bright d14 came out 4.6 L* under d14's
    # own lips (tests/test_blend_tone.py, lips_de 4.9 -> 6.0).
    return np.rint(weight * np.maximum(proportional - dark_table.astype(np.float32), 0.0)).astype(np.int16)


def match_colour(patch: np.ndarray, target: np.ndarray, region: np.ndarray, strength: float) -> np.ndarray:
    """`patch` recoloured so that, over `region`, its LAB statistics match `target`'s."""
    return recolour(patch, target, region, strength)


@dataclass
class _Smoothed:
    stats: tuple[Stats, Stats]
    time_s: float


class ColourSmoother:
    """Exponential smoothing of colour statistics per face track, with real timestamps.

    time_constant_s: how long a change of light takes to be 63% followed; 0 = no smoothing.
    Tracks not seen for a while are forgotten (a new face starts from its own statistics).
    """

    def __init__(self, time_constant_s: float = 0.25, forget_after_s: float = 1.0) -> None:
        self.time_constant_s = time_constant_s
        self.forget_after_s = forget_after_s
        self._tracks: dict[int, _Smoothed] = {}

    def update(self, track: int, stats: tuple[Stats, Stats], time_s: float) -> tuple[Stats, Stats]:
        previous = self._tracks.get(track)
        if previous is not None and not (0 <= time_s - previous.time_s <= self.forget_after_s):
            previous = None  # time went back (a new input) or the face was gone too long
        if previous is None or self.time_constant_s <= 0:
            self._tracks[track] = _Smoothed(stats, time_s)
            return stats
        weight = 1.0 - math.exp(-(time_s - previous.time_s) / self.time_constant_s)
        mixed = tuple(tuple(old + weight * (new - old) for old, new in zip(pair_old, pair_new, strict=True))
                      for pair_old, pair_new in zip(previous.stats, stats, strict=True))
        self._tracks[track] = _Smoothed(mixed, time_s)  # type: ignore[arg-type]
        self._forget(time_s)
        return mixed  # type: ignore[return-value]

    def _forget(self, now_s: float) -> None:
        stale = [key for key, value in self._tracks.items() if now_s - value.time_s > self.forget_after_s]
        for key in stale:
            del self._tracks[key]

    def reset(self) -> None:
        self._tracks.clear()


# The edge correction reaches this far into the face (fraction of the face size) and is measured
# over the mask's feathered band; a band pixel that differs by more than EDGE_OUTLIER levels is
# hair or a hand over the oval, not the face's light, and does not count.
EDGE_REACH = 0.22
EDGE_OUTLIER = 60.0
# The most (8-bit lightness levels) by which the middle of the face is moved to keep the skin's
# mean lightness where the colour transfer put it (see _edge_membrane's `skin`).
EDGE_BALANCE = 12.0


def edge_membrane(patch: np.ndarray, target: np.ndarray, alpha: np.ndarray, landmarks: np.ndarray,
                  box, face_size: float, feather: float) -> np.ndarray:
    """`patch` with a smooth correction of its lightness that takes it to the target's along the
    face's edge and fades to nothing `EDGE_REACH` of the face inwards.

    Colour statistics and the relighting match the face on average; the target's own falloff
    towards its cheeks and jaw (a side light, a shadowed cheek, a flatter or steeper roll-off
    than the source photo's) still differed along the mask's feathered edge by 10-40 levels:
    a soft but visible outline, scored as a seam on the written files. Like a Poisson blend's
    membrane, but measured on the feathered band only and faded out inwards, so the middle of
    the face (the source's identity) is left as it is. Computed at 1/_SHADE_STEP resolution, on
    LAB lightness (recolour does the same on the pictures it already has).

    landmarks: the face's (>= 468, 2) points in frame pixels; box: the layer's box."""
    height, width = patch.shape[:2]
    step = _SHADE_STEP if min(height, width) >= 16 * _SHADE_STEP else 1
    small = (max(1, width // step), max(1, height // step))
    lab = cv2.cvtColor(patch, cv2.COLOR_BGR2LAB)
    target_l = cv2.cvtColor(target, cv2.COLOR_BGR2LAB)[:, :, 0]
    if step > 1:
        patch_l, target_l = (cv2.resize(x, small, interpolation=cv2.INTER_AREA) for x in (lab[:, :, 0], target_l))
    else:
        patch_l = lab[:, :, 0]
    membrane = _edge_membrane(patch_l, target_l, alpha, landmarks, box, face_size, feather, step, (width, height))
    if membrane is None:
        return patch
    lab[:, :, 0] = cv2.add(lab[:, :, 0], membrane, dtype=cv2.CV_8U)
    return cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)


def _skin_like(target_lab: np.ndarray, skin: np.ndarray, hard_light: float = 0.0) -> np.ndarray:
    """bool, same size as `target_lab` (8-bit LAB): where the target is coloured like its own skin
    (`skin`: uint8 mask of the face's skin there): chroma within TONE_GATE of the skin's mean,
    lightness within EDGE_SKIN_LIGHT of it, down to SHADE_SKIN_LIGHT further under a hard light
    (`hard_light`, 0-1, FaceLayer.hard_light): there the skin's shade is its light."""
    centre = cv2.mean(target_lab, mask=skin)[:3]
    low = np.array([centre[0] * (1 - EDGE_SKIN_LIGHT - SHADE_SKIN_LIGHT * float(np.clip(hard_light, 0.0, 1.0))),
                    centre[1] - TONE_GATE, centre[2] - TONE_GATE])
    high = np.array([centre[0] * (1 + EDGE_SKIN_LIGHT), centre[1] + TONE_GATE, centre[2] + TONE_GATE])
    return cv2.inRange(target_lab, np.clip(low, 0, 255), np.clip(high, 0, 255)) > 0


# A band pixel whose lightness is off the target's skin mean by more than this fraction is not
# the face's light (as realtime/blend/mask.py's EDGE_OFF_SKIN).
EDGE_SKIN_LIGHT = 0.3
# ... nor, darker, by this much more under a hard light (FaceLayer.hard_light 1: d20, d3; 0 on the
# flat-lit webcams d6, d9, d10, d14, 0.04 on d13, so nothing changes there), where the skin's shade
# is the face's light. d20 is lit from one side through an old film's tone curve: its shadowed jaw
# and cheek sit at 0.45-0.55 of the skin's mean lightness (L* 20 against 42), under the gate at 0.7,
# so the membrane had no evidence on that side and took the lit side's; the new face's shadowed jaw
# stayed 1.5-1.9 L* lighter than the camera's, a soft light edge along it (s42, s12 on d20, in
# process, frames 11 / 20 / 40; benchmarks/results/s39-d20tone). Dark hair is kept out by the chroma gate
# and EDGE_OUTLIER as before.
SHADE_SKIN_LIGHT = 0.25


def _edge_membrane(patch_l: np.ndarray, target_l: np.ndarray, alpha: np.ndarray, landmarks: np.ndarray, box,
                   face_size: float, feather: float, step: int, size: tuple[int, int],
                   skin_like: np.ndarray | None = None, skin: np.ndarray | None = None,
                   hard_light: float = 0.0) -> np.ndarray | None:
    """The lightness correction of edge_membrane, int16 at full size (`size` = (w, h)), from
    the patch's and the target's lightness at 1/step; None when there is no band to measure.

    skin_like: where the target is skin-coloured (_skin_like): only there does the band count. A
    bright wall or window behind the oval's edge (d13: MediaPipe's oval runs a few pixels past
    the cheek) is within EDGE_OUTLIER of the face's lightness but is not its light (on s42 -> d13,
    frame 10, leaving it out took the skin's mean down by 0.6 L*).
    skin: uint8 mask of the face's skin at 1/step (the colour statistics' region): where given, the
    membrane is balanced so that the skin's mean lightness stays the one the colour transfer
    matched (EDGE_BALANCE): a source brighter in the middle than at its sides (a front-lit photo
    on a flatly lit target, s42 on d13) got its sides lifted to the target's and kept its bright
    middle, the whole face 2-3 L* lighter than the person's cheeks: the "pale" face of the judge.
    hard_light: as for _cut_membrane."""
    from realtime.faces.topology import topology

    small = (patch_l.shape[1], patch_l.shape[0])
    # The oval on a padded canvas: the distance must be to the oval's own border, not the box's.
    pad = 2
    oval = np.zeros((small[1] + 2 * pad, small[0] + 2 * pad), np.uint8)
    local = (landmarks[topology().face_oval, :2] - np.array(box[:2], np.float32)) / step + pad
    cv2.fillPoly(oval, [np.round(local * 16).astype(np.int32)], 1, shift=4)
    inside = cv2.distanceTransform(oval, cv2.DIST_L2, 5)[pad:pad + small[1], pad:pad + small[0]] * \
        (step / max(face_size, 1.0))
    alpha_small = area_shrink(alpha, small) if step > 1 else alpha
    diff = target_l.astype(np.float32) - patch_l.astype(np.float32)
    band = (inside > 0) & (inside <= max(2.0 * feather, 0.02)) & (alpha_small > 0.02) & \
        (np.abs(diff) < EDGE_OUTLIER)
    if skin_like is not None:
        band &= skin_like
    mouth = _mouth_membrane(diff, alpha_small, landmarks, box, face_size, step)
    cut = _cut_membrane(diff, alpha_small, inside, landmarks, box, face_size, feather, step, hard_light)
    if cv2.countNonZero(band.astype(np.uint8)) < 8:
        if mouth is None and cut is None:
            return None
        membrane = np.zeros(diff.shape, np.float32)
        if mouth is not None:
            membrane += mouth
    else:
        weight = band.astype(np.float32)
        sigma = max(1.0, 0.05 * face_size / step)
        spread = cv2.GaussianBlur(weight, (0, 0), sigma)
        membrane = cv2.GaussianBlur(diff * weight, (0, 0), sigma) / np.maximum(spread, 1e-3)
        # Where no band is near (the far side of a face cut by the frame), no evidence: no change.
        confidence = np.clip(spread * 4.0, 0.0, 1.0)
        ramp = np.clip(1.0 - inside / EDGE_REACH, 0.0, 1.0)
        reach = ramp * ramp * (3.0 - 2.0 * ramp) * confidence
        membrane *= reach
        if skin is not None and skin.shape == membrane.shape:
            inner = skin > 0
            rest = 1.0 - reach
            spread_inside = float(rest[inner].sum()) if inner.any() else 0.0
            if spread_inside > 1.0:
                # What the edge adds over the skin, taken off again where the edge does not reach.
                shift = float(membrane[inner].sum()) / spread_inside
                membrane -= np.float32(np.clip(shift, -EDGE_BALANCE, EDGE_BALANCE)) * rest
        if mouth is not None:
            membrane += mouth
    if cut is not None:
        # Measured on what is left once the oval's edge and the mouth are met (the oval's
        # correction already reaches part way into a cut near the oval).
        membrane += cut(membrane)
    # Whole grey levels in int16, added with saturation: float copies of the face box cost more
    # than the rest of this function.
    membrane = np.round(membrane).astype(np.int16)
    if step > 1:
        membrane = cv2.resize(membrane, size, interpolation=cv2.INTER_LINEAR)
    return membrane


# Where the layer's alpha is cut inside the oval (the target's hair or a side too dark to be read as
# skin left to the target: swap/mesh.py's occluders, blend/mask.py edge_off_skin), the new face's
# lightness is measured in a ring CUT_RING (face sizes) wide on the face's side of the cut and met
# there, fading out CUT_REACH inwards. A pixel counts as cut where the alpha is CUT_LOST under the
# oval's own feathered alpha.
# CUT_REACH 0.1 took the step on s42 -> d20's cheek lower (in process, 99th percentile of the excess
# step 9 against 15 levels) but read further from the photo (dlib, written, 12 frames: +0.0066
# against +0.0011) and drew a 3.4-level line at the lower lip on one frame (benchmarks/results/s26-cheek).
CUT_RING = 0.03
CUT_REACH = 0.06
CUT_LOST = 0.5
# ... over a part at least this broad (face sizes).
CUT_BROAD = 0.04
CUT_BELOW = 0.05
# Above the eyes, under a hard light (`hard_light`), the new face beside a cut is taken down to the
# target's own shade pixel by pixel at this scale (Gaussian sigma, face sizes), fading out
# TEMPLE_REACH inwards from the cut: d20's temple falls from 51 to 28 levels within 0.05 of the face
# of the eye's outer corner, and the cut (edge_off_skin: a side too dark to be read as skin) lies in
# that fall. One value measured in the ring, as below the eyes, is the mean of the fall: the new face
# stayed a flat 80 to the cut and stepped 45 levels across its 8 pixels (s42 -> d20,
# benchmarks/results/s29-temple).
TEMPLE_SIGMA = 0.015
TEMPLE_REACH = 0.12
# ... at the sides only: fading in from this to that fraction of the way from the eyes' middle out to
# their outer corners (along the eyes' line). At the forehead a cut is the hairline, and the skin
# under it met pixel by pixel took on the hair's shadow: a dark band along the fringe, a horizontal
# seam of 4-5 levels on s42 and s12 > d20 (in process, frames 39-41).
TEMPLE_SIDE = (0.8, 1.0)


def _cut_membrane(diff: np.ndarray, alpha_small: np.ndarray, inside: np.ndarray, landmarks: np.ndarray, box,
                  face_size: float, feather: float, step: int,
                  hard_light: float = 0.0) -> Callable[[np.ndarray], np.ndarray] | None:
    """float32 at 1/step, as a function of the membrane found so far (whose correction is taken
    off `diff` first): the lightness correction that takes the new face to the target's along a
    cut in its alpha inside the oval; None when the alpha has no such cut.

    Why: d20 is lit from one side; as its head turns (frames 100-149) its left cheek falls to
    0.35-0.4 of the lit cheek's lightness towards the ear, too dark for edge_off_skin's skin
    reference, so that side is left to the target from 0.08 of the face inside the oval. The
    relit new face falls off far less (the target's light fitted with low-order spherical
    harmonics: 180 -> 146 where the target goes 111 -> 38), and the colour transfer keeps that:
    the new face at 76-84 grey levels met the target's shaded cheek at 34-42 across the cut's
    8 pixels, a hard brown edge from the eye to the jaw (s42 -> d20, session 25's contact sheet).
    The oval's membrane does not see it: the cut's pixels are far off the skin's mean lightness
    (_skin_like) and it fades out from the oval, not from the cut.

    hard_light (0-1: how strong the target's directional light is, FaceLayer.hard_light): above the
    eyes the cut is met too, as far as this, and pixel by pixel (TEMPLE_SIGMA): under a hard light
    the skin beside a cut at the temple is the target's shade falling off, not its hair's shadow."""
    from realtime.faces.topology import topology

    scale = step / max(face_size, 1.0)
    # The oval's own alpha (blend/mask.py face_mask: a smoothstep over twice the feather, erosion 0).
    ramp = np.clip((inside - scale) / max(2.0 * feather, 1e-3), 0.0, 1.0)
    expected = ramp * ramp * (3.0 - 2.0 * ramp)
    # A cut comes in from the outline (the target's hair, a side left to it): where the new face is
    # under half shown, a part as broad as CUT_BROAD at least joined to the outside of the oval. The
    # glasses' rims (cut from the alpha by swap/mesh.py) are thin lines, their lenses (partly the
    # target's) and the eyes' and mouth's holes islands: the skin beside the rims, met, brought the
    # target's relief under the lenses onto the new face.
    broad = max(3, int(CUT_BROAD / scale) | 1)
    under_half = cv2.morphologyEx((alpha_small < 1.0 - CUT_LOST).astype(np.uint8), cv2.MORPH_OPEN,
                                  cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (broad, broad)))
    _, labels = cv2.connectedComponents(under_half, connectivity=4)
    outside = np.unique(labels[(inside <= 0) & (under_half > 0)])
    joined = np.isin(labels, outside[outside > 0])
    cut = (joined & ((expected - alpha_small) > CUT_LOST)).astype(np.uint8)
    if cv2.countNonZero(cut) < 4:
        return None
    # The eyes' and the mouth's holes are features, not cuts (the mouth has its own membrane).
    top = topology()
    features = np.zeros(cut.shape, np.uint8)
    origin = np.array(box[:2], np.float32)
    for region in (top.right_eye, top.left_eye, top.outer_lips):
        hull = cv2.convexHull(np.round((landmarks[region, :2] - origin) / step * 16).astype(np.int32))
        cv2.fillConvexPoly(features, hull, 1, shift=4)
    grow = max(3, int(2 * CUT_RING / scale) | 1)
    features = cv2.dilate(features, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow)))
    cut &= 1 - features
    if cv2.countNonZero(cut) < 4:
        return None
    distance = cv2.distanceTransform(1 - cut, cv2.DIST_L2, 5) * scale
    # The ring: the face's side of the cut (the new face whole), where the target is still skin.
    ring = ((distance > 0) & (distance <= CUT_RING) & (alpha_small > 0.9) & (features == 0)).astype(np.float32)
    if cv2.countNonZero(ring) < 4:
        return None
    sigma = max(1.0, CUT_RING / scale)
    spread = cv2.GaussianBlur(ring, (0, 0), sigma)
    fade = np.clip(1.0 - distance / CUT_REACH, 0.0, 1.0)
    fade = fade * fade * (3.0 - 2.0 * fade) * np.clip(spread * 4.0, 0.0, 1.0)
    # Below the eyes only (fading in over CUT_BELOW): at the temples and the forehead a cut is the
    # target's hair or fringe, and the skin next to it in its shadow (met, d9's temple by the brow
    # tail turned dark under s12); a side in shade is the cheek's.
    down = np.asarray(landmarks[152, :2] - landmarks[10, :2], np.float32)
    down /= max(float(np.linalg.norm(down)), 1e-6)
    eyes = (0.5 * (landmarks[33, :2] + landmarks[263, :2]) - origin) / step
    xs = np.arange(cut.shape[1], dtype=np.float32)[None, :]
    ys = np.arange(cut.shape[0], dtype=np.float32)[:, None]
    below = np.clip(((xs - eyes[0]) * down[0] + (ys - eyes[1]) * down[1]) * scale / CUT_BELOW, 0.0, 1.0)
    fade *= below
    temple = None
    if hard_light > 0:
        # Under a hard light, above the eyes (where `below` leaves off) and at the sides (TEMPLE_SIDE):
        # the target's shade beside the cut, within TEMPLE_REACH of it, outside the eyes.
        across = np.asarray(landmarks[263, :2] - landmarks[33, :2], np.float32)
        half = max(0.5 * float(np.linalg.norm(across)), 1e-6)
        lateral = np.abs((xs - eyes[0]) * across[0] + (ys - eyes[1]) * across[1]) * (0.5 * step / half ** 2)
        side = np.clip((lateral - TEMPLE_SIDE[0]) / (TEMPLE_SIDE[1] - TEMPLE_SIDE[0]), 0.0, 1.0)
        temple = np.clip(1.0 - distance / TEMPLE_REACH, 0.0, 1.0)
        # The brows left out of the measure (their hulls) and faded out over them at the term's own
        # scale: the target's brow tail, a few pixels off the cut, met pixel by pixel, blackened the
        # new face's (s42 > d20 frame 100: its darkest 1% 0.33 -> 0.18 of the skin,
        # tests/test_blend_dark_hair.py; now 0.31, the camera's 0.33). Cut out whole, the hull was a
        # pale island in the darkened temple; grown as the eyes are (0.06 of the face), it took the
        # temple beside the brow's tail with it.
        brows = np.zeros(cut.shape, np.uint8)
        for region in (top.left_eyebrow, top.right_eyebrow):
            hull = cv2.convexHull(np.round((landmarks[region, :2] - origin) / step * 16).astype(np.int32))
            cv2.fillConvexPoly(brows, hull, 1, shift=4)
        temple_sigma = max(1.0, TEMPLE_SIGMA / scale)
        temple = temple * temple * (3.0 - 2.0 * temple) * (1.0 - below) * side * np.float32(hard_light) * \
            (features == 0)
        near = ((temple > 0) & (brows == 0)).astype(np.float32)
        temple *= 1.0 - np.minimum(cv2.GaussianBlur(brows.astype(np.float32), (0, 0), temple_sigma), 1.0)

    def correction(membrane: np.ndarray) -> np.ndarray:
        left = diff - membrane
        usable = ring * (np.abs(left) < EDGE_OUTLIER)
        measured = cv2.GaussianBlur(left * usable, (0, 0), sigma) / np.maximum(cv2.GaussianBlur(usable, (0, 0), sigma), 1e-3)
        # Down only: what is left to the target there is darker than the skin (its hair, its
        # shaded side); a lighter part next to a cut was the target's skin seen through its glasses
        # at the temples (d9), not a side in light.
        result = np.minimum(measured, 0.0) * fade
        if temple is not None:
            # The target's shade at each pixel (its hair, an outlier, left out), down only.
            shade = near * (np.abs(left) < EDGE_OUTLIER)
            local = cv2.GaussianBlur(left * shade, (0, 0), temple_sigma) / \
                np.maximum(cv2.GaussianBlur(shade, (0, 0), temple_sigma), 1e-3)
            result += np.minimum(local, 0.0) * temple
        return result

    return correction


# The open mouth's edge: the lips are measured from MOUTH_RING[0] to MOUTH_RING[1] (face sizes)
# outside the inner-mouth polygon (its hole's soft edge, realtime/blend/mask.py, is ~0.025 wide),
# and the correction fades out MOUTH_REACH from it.
MOUTH_RING = (0.012, 0.05)
MOUTH_REACH = 0.1


def _mouth_membrane(diff: np.ndarray, alpha_small: np.ndarray, landmarks: np.ndarray, box, face_size: float,
                    step: int) -> np.ndarray | None:
    """float32 at 1/step: the lightness correction that takes the source's lips to the target's
    along an open mouth's hole, fading out MOUTH_REACH from it; None for a closed mouth.

    The open mouth shows the target's own teeth and inner lips through a hole in the mask; the
    source's lips around it kept their own lightness, and where they met the target's teeth or
    inner lip the hole's edge was a straight step of half their difference (s42 on d14: the
    source's pale lower lip against the target's pink one, 4.0 grey levels on the written file;
    s12's moustache over the upper lip on d10 and d14). Like the oval's edge membrane, measured
    on the lips just outside the hole and faded out inwards, so the lips keep their shape and
    only their lightness meets the target's at the hole. A mouth opening from closed fades in
    with its gap (area over width, in units of the hole's soft edge), so it never pops."""
    from realtime.blend.mask import MOUTH_FEATHER
    from realtime.faces.topology import topology

    polygon = (landmarks[topology().inner_mouth, :2] - np.array(box[:2], np.float32)) / step
    gap = cv2.contourArea(polygon.astype(np.float32)) / max(float(np.ptp(polygon[:, 0])), 1e-3) * step
    opening = float(np.clip(gap / max(MOUTH_FEATHER * face_size, 1.0), 0.0, 1.0))
    if opening < 0.05:
        return None
    hole = np.zeros(diff.shape, np.uint8)
    cv2.fillPoly(hole, [np.round(polygon * 16).astype(np.int32)], 1, shift=4)
    distance = cv2.distanceTransform(1 - hole, cv2.DIST_L2, 5) * (step / max(face_size, 1.0))
    ring = (distance > MOUTH_RING[0]) & (distance <= MOUTH_RING[1]) & (alpha_small > 0.3) & \
        (np.abs(diff) < EDGE_OUTLIER)
    if cv2.countNonZero(ring.astype(np.uint8)) < 4:
        return None
    weight = ring.astype(np.float32)
    sigma = max(1.0, 0.03 * face_size / step)
    spread = cv2.GaussianBlur(weight, (0, 0), sigma)
    membrane = cv2.GaussianBlur(diff * weight, (0, 0), sigma) / np.maximum(spread, 1e-3)
    ramp = np.clip(1.0 - distance / MOUTH_REACH, 0.0, 1.0)
    return membrane * (ramp * ramp * (3.0 - 2.0 * ramp) * np.clip(spread * 4.0, 0.0, 1.0) * opening)


# The skin's tone: chroma (a*, b*) averaged over this many face sizes (Gaussian sigma). Blush, a
# painting's brown glazes and shadows, make-up patches and a cheek's redness are 0.05-0.2 of a
# face across; pores, freckles and the features' own edges are finer and stay the source's.
TONE_SIGMA = 0.07
# A skin pixel whose chroma is further than this (8-bit LAB levels) from the skin's median, or
# whose lightness is below TONE_DARK of the median, is hair, a moustache, a brow, a glasses frame
# or a shadowed hole, not skin tone: left out of both averages.
TONE_GATE = 14.0
TONE_DARK = 0.6
# ... the target's skin down to TONE_SHADE under a hard light (FaceLayer.hard_light 1; in between, in
# proportion): there the dark skin is the skin in shade, whose chroma is the light's (an old film's
# shadows lose chroma: d20's shadowed jaw C* 15.7 against 21 on its lit cheek). Left out, the shadowed
# side took the tone of the lit side: the new face's shadowed jaw 0.9 a* and 0.9 b* over the camera's
# (s42 on d20; benchmarks/results/s39-d20tone). The new face's own dark pixels are still left out
# (hair, a moustache, nostrils).
TONE_SHADE = 0.4
# The tone change is limited to this many levels of a* / b* (a red lipstick patch, a deep shadow).
TONE_LIMIT = 14.0
# Lipstick against natural lips differs by 20-30 levels of a* (and darkens them): the lips' colour
# may move this far, their lightness LIP_LIGHT_LIMIT.
LIP_LIMIT = 32.0
# The tone maps are computed with the face about this many pixels across (they are averages over
# TONE_SIGMA of it: 3 px there).
TONE_WORK_PX = 40.0
LIP_LIGHT_LIMIT = 16.0
# (lightness, chroma) levels of difference to the target's lips that are left as they are. Chroma
# 5 -> 2 (s24-lips): s42's red lipstick stayed a* +6.3 over d13's own lips, a salmon-red lower lip
# on a man's mauve one (the judge's "red lipstick stays"); at 2, +4.2, and lips ΔE on the written
# files 7.4 -> 6.0 (d13), 4.1 -> 3.0 (d3); dlib distance to the source on d13 0.4954 -> 0.4888, on d3
# as with 5 (benchmarks/results/s24-lips).
LIP_TOLERANCE = (8.0, 2.0)
# The lips' lightness kept relative to the skin's through the colour transfer (lip_lightness_table)
# up to their outline and fading out this far (face sizes) beyond it.
LIP_LIFT_REACH = 0.02


def tone_offsets(patch_lab: np.ndarray, target_lab: np.ndarray, skin: np.ndarray, landmarks: np.ndarray, box,
                 face_size: float, step: int, strength: float,
                 memory: tuple[ToneMemory, int, float] | None = None,
                 lip_lift: np.ndarray | None = None,
                 hard_light: float = 0.0) -> tuple[np.ndarray | None, np.ndarray, np.ndarray] | None:
    """int16 (L, a*, b*) offsets (L: on the lips only, None without lips) at the size of `patch_lab`
    / `target_lab` (8-bit LAB at 1/step of the box; `skin` the uint8 skin mask there): the
    target's low-frequency skin chroma minus the patch's, so that the new face's skin has the
    person's own colour where it lies (rosy cheeks, a yellower forehead, a bluish beard shadow)
    instead of the source's make-up, glazes and blotches; and on the lips, the target's lips' mean
    colour minus the patch's (lipstick does not travel).

    Reinhard's statistics transfer matches the skin on average only: the judge of the written files
    named "face colour does not match the neck / ears" and "blotchy colour, brown patches" first.
    The skin's light (L) is left to the relighting and the edge membrane: a low-frequency lightness
    map would carry the target's relief, part of its identity. Chroma changes are scaled by the
    square of the lightness (the colour transfer's law until s27, _transfer_planes): a dark brow or
    moustache takes almost none of the local tone (the light's cast is the transfer's). The maps
    are averages over TONE_SIGMA of the face: computed with the face about
    TONE_WORK_PX across, then enlarged; with `memory` (ToneMemory, track, time), a few times a
    second per face, in between the last maps (over the box, which follows the face) and lip colour
    change are reused. `lip_lift` (int16 at the size of `patch_lab`, lip_lightness_table's): the
    lightness the lips need to keep their ratio to the skin through the colour transfer, added
    over the lips before their change to the target's lips is measured. `hard_light` (0-1,
    FaceLayer.hard_light): how far the target's shaded skin counts as skin (TONE_SHADE)."""
    inside_small = skin > 0
    if np.count_nonzero(inside_small) < 16:
        return None
    size = (patch_lab.shape[1], patch_lab.shape[0])
    remembered = memory[0].get(memory[1], memory[2]) if memory is not None else None
    if remembered is None:
        measured = _tone_maps(patch_lab, target_lab, skin, landmarks, box, face_size, step, lip_lift, hard_light)
        if measured is None:
            return None
        if memory is not None:
            memory[0].put(memory[1], memory[2], measured)
    else:
        measured = remembered
    coarse_maps, lip_change = measured
    maps = [cv2.resize(m, size, interpolation=cv2.INTER_LINEAR) if m.shape[::-1] != size else m for m in coarse_maps]
    # At 1/step: the lightness weight and the lips need the finer picture, and this frame's.
    lightness = patch_lab[:, :, 0].astype(np.float32)
    skin_lightness = float(np.median(lightness[inside_small]))
    # Full change from 70% of the skin's lightness up, by the square below.
    shade = np.minimum(lightness * np.float32(1.0 / max(0.7 * skin_lightness, 1.0)), np.float32(1.0))
    scale = shade * shade * np.float32(strength)
    lips = _lips_weight(landmarks, box, step, lightness.shape, face_size) if lip_change is not None else None
    if lips is None or lip_change is None:
        return None, *(np.round(m * scale).astype(np.int16) for m in maps)  # type: ignore[return-value]
    change = [c * strength for c in lip_change]
    rest = np.float32(1.0) - lips
    chroma = [np.round(m * scale * rest + np.float32(c) * lips).astype(np.int16) for m, c in zip(maps, change[1:], strict=True)]
    light = np.float32(change[0]) * lips
    if lip_lift is not None:
        # Over the lips and their outline: at the soft weight's half, the lip line kept half of
        # the transfer's darkening (a dark red outline, lip liner). The lift is nothing on the skin
        # (as light as the skin, the gain and the affine map agree), so it may reach past them.
        light += lip_lift.astype(np.float32) * (np.float32(strength) * _lips_weight(
            landmarks, box, step, lightness.shape, face_size, LIP_LIFT_REACH))
    return np.round(light).astype(np.int16), chroma[0], chroma[1]


def _tone_maps(patch_lab: np.ndarray, target_lab: np.ndarray, skin: np.ndarray, landmarks: np.ndarray, box,
               face_size: float, step: int, lip_lift: np.ndarray | None = None,
               hard_light: float = 0.0) -> tuple[list[np.ndarray], tuple[float, float, float] | None] | None:
    """tone_offsets' measurement: the (a*, b*) maps (target minus patch, float32, coarse) and the
    lips' (L, a*, b*) change (None without lips), at full strength."""
    inside_small = skin > 0
    size = (patch_lab.shape[1], patch_lab.shape[0])
    coarse = max(1, int(face_size / step / TONE_WORK_PX))
    small = (max(1, size[0] // coarse), max(1, size[1] // coarse))
    if coarse > 1:
        patch = cv2.resize(patch_lab, small, interpolation=cv2.INTER_AREA).astype(np.float32)
        target = cv2.resize(target_lab, small, interpolation=cv2.INTER_AREA).astype(np.float32)
        inside = area_shrink(skin.astype(np.float32), small) > 0.5
        if np.count_nonzero(inside) < 16:
            return None
    else:
        patch, target, inside = patch_lab.astype(np.float32), target_lab.astype(np.float32), inside_small

    def kept(picture: np.ndarray, dark: float = TONE_DARK) -> np.ndarray:
        median = np.median(picture[inside], axis=0)
        near = (np.abs(picture[:, :, 1] - median[1]) < TONE_GATE) & \
            (np.abs(picture[:, :, 2] - median[2]) < TONE_GATE) & (picture[:, :, 0] > dark * median[0])
        return (inside & near).astype(np.float32)

    sigma = max(0.7, TONE_SIGMA * face_size / (step * coarse))
    shade = float(np.clip(hard_light, 0.0, 1.0))
    patch_weight, target_weight = kept(patch), kept(target, TONE_DARK + shade * (TONE_SHADE - TONE_DARK))
    patch_spread = cv2.GaussianBlur(patch_weight, (0, 0), sigma)
    target_spread = cv2.GaussianBlur(target_weight, (0, 0), sigma)
    confidence = np.clip(np.minimum(patch_spread, target_spread) * 4.0, 0.0, 1.0)
    maps = []
    for channel in (1, 2):
        theirs = cv2.GaussianBlur(target[:, :, channel] * target_weight, (0, 0), sigma) / np.maximum(target_spread, 1e-3)
        own = cv2.GaussianBlur(patch[:, :, channel] * patch_weight, (0, 0), sigma) / np.maximum(patch_spread, 1e-3)
        maps.append(np.clip(theirs - own, -TONE_LIMIT, TONE_LIMIT) * confidence)
    lips = _lips_weight(landmarks, box, step, inside_small.shape, face_size)
    lip_region = lips > 0.6 if lips is not None else None
    if lip_region is None or np.count_nonzero(lip_region) < 4:
        return maps, None
    # The lips' means over their middle only (the soft edge is half skin). Only what lies beyond
    # LIP_TOLERANCE is changed: lipstick is 10-30 levels off natural lips, while a few levels of
    # the source's own lip colour and contrast are part of its look (taken fully to the target's
    # lips, the distance to the source rose by 0.012 on s42 -> d13).
    change = []
    for channel, limit, tolerance in ((0, LIP_LIGHT_LIMIT, LIP_TOLERANCE[0]), (1, LIP_LIMIT, LIP_TOLERANCE[1]),
                                      (2, LIP_LIMIT, LIP_TOLERANCE[1])):
        own = patch_lab[:, :, channel][lip_region].mean(dtype=np.float64)
        if channel == 0 and lip_lift is not None:
            own += lip_lift[lip_region].mean(dtype=np.float64)
        difference = float(target_lab[:, :, channel][lip_region].mean(dtype=np.float64) - own)
        change.append(float(np.clip(np.sign(difference) * max(abs(difference) - tolerance, 0.0), -limit, limit)))
    return maps, (change[0], change[1], change[2])


# How often the tone maps are measured per face (seconds); reused in between.
TONE_EVERY_S = 0.2


class ToneMemory:
    """The last tone maps per face track (tone_offsets), reused for TONE_EVERY_S: skin tone and lip
    colour change with the light and the head's turn, slowly; the maps lie over the layer's box,
    which follows the face. Time going back (a new input) or a stale track measures afresh."""

    def __init__(self, every_s: float = TONE_EVERY_S) -> None:
        self.every_s = every_s
        self._tracks: dict[int, tuple[float, tuple]] = {}

    def get(self, track: int, time_s: float) -> tuple | None:
        found = self._tracks.get(track)
        if found is None or not (0 <= time_s - found[0] < self.every_s):
            return None
        return found[1]

    def put(self, track: int, time_s: float, measured: tuple) -> None:
        self._tracks[track] = (time_s, measured)
        for key in [k for k, (t, _) in self._tracks.items() if abs(time_s - t) > 5 * self.every_s + 1.0]:
            del self._tracks[key]

    def reset(self) -> None:
        self._tracks.clear()


def _lips_weight(landmarks: np.ndarray, box, step: int, shape: tuple[int, int], face_size: float,
                 reach: float = 0.0) -> np.ndarray | None:
    """float32 [0, 1] at 1/step of the box: the lips (outer lip line less the inner mouth), soft-edged;
    with `reach` (face sizes), whole up to the lip line and fading out `reach` beyond it."""
    from realtime.faces.topology import topology

    top = topology()
    origin = np.array(box[:2], np.float32)
    lips = np.zeros(shape, np.uint8)
    for region, value in ((top.outer_lips, 255), (top.inner_mouth, 0)):
        polygon = (landmarks[region, :2] - origin) / step
        cv2.fillPoly(lips, [np.round(polygon * 16).astype(np.int32)], value, shift=4)
    if not lips.any():
        return None
    if reach > 0:
        cv2.fillPoly(lips, [np.round((landmarks[top.inner_mouth, :2] - origin) / step * 16).astype(np.int32)], 255, shift=4)
        soft = cv2.GaussianBlur(lips.astype(np.float32) / 255.0, (0, 0), max(0.6, 0.5 * reach * face_size / step))
        return np.minimum(soft * np.float32(2.0), np.float32(1.0))
    return cv2.GaussianBlur(lips.astype(np.float32) / 255.0, (0, 0), max(0.6, 0.008 * face_size / step))
