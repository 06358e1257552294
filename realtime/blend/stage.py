"""The blend stage: colour- and light-match each rendered face to the target and composite it."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from realtime.blend.color import ColourSmoother, ToneMemory, recolour_halved
from realtime.blend.composite import composite, poisson_composite, shrink
from realtime.blend.detail import (
    CROSSOVER,
    MATCH_SCALE_SIGMA,
    GainMemory,
    camera_detail,
    fine_band_scaled,
    fine_match_gain,
    half_shown,
    match_aim,
    source_detail,
    source_detail_gain,
    split_sigma,
)
from realtime.blend.edge_band import clean_rim
from realtime.blend.hair_tone import camera_darkness, darken_hair, hair_darkness, hair_tone_gain, off_the_nose
from realtime.blend.kept import kept_in_layer, union
from realtime.blend.kernels import as_grey, gaussian_u8
from realtime.blend.mask import skin_mask
from realtime.blend.mouth import lip_glints, mouth_membrane
from realtime.faces.brows import (
    FeatureWeight,
    erase_brows,
    erase_lashes,
    feature_band,
    hair_gain,
    hair_weight,
    merge_weights,
)
from realtime.frame import FaceLayer, Frame
from realtime.settings import Settings


def _without(alpha: np.ndarray, zone: FeatureWeight) -> np.ndarray:
    """`alpha` less a feature weight over its part of the box (brows.FeatureWeight): alpha * (1 - weight)."""
    weight, (y0, y1, x0, x1) = zone
    out = alpha.astype(np.float32, copy=True)
    out[y0:y1, x0:x1] *= 1.0 - np.clip(weight, 0.0, 1.0)
    return out


def _over_hair(skin: np.ndarray, image: np.ndarray, low: np.ndarray, gain: float, zone: FeatureWeight) -> np.ndarray:
    """`skin` with, over the hair `zone` (brows.FeatureWeight) by its weight, `image` with its band
    above `low` (its Gaussian) times `gain`: detail.fine_band_scaled's pixels, made over the zone only."""
    weight, (y0, y1, x0, x1) = zone
    keep = np.clip(weight, 0.0, 1.0).astype(np.float32)
    hair = cv2.addWeighted(image[y0:y1, x0:x1], gain, low[y0:y1, x0:x1], 1.0 - gain, 0.0)
    part = skin[y0:y1, x0:x1]
    part[...] = cv2.blendLinear(hair, part, keep, 1.0 - keep)
    return skin


def detail_on_luma(image: np.ndarray, camera: np.ndarray, layer: FaceLayer, strength: float,
                   grain_from: np.ndarray | None = None,
                   smooth: Callable[[str, Callable[[], float]], float] | None = None) -> np.ndarray:
    """`image` (the recoloured face over the box) with its own features' band raised to the
    camera's crispness and its finest band the camera's (`camera`: the target's pixels), both on
    the luma alone.

    Why the luma: the camera's grain, its lens's sharpness and the features' edges live there;
    a webcam's or a file's chroma is sent at half resolution (4:2:0) and has next to nothing in
    the band exchanged. One single-channel chain instead of three channels cut the four steps
    from 10.7 to ~4 ms per 720p face (benchmarks/swap_cost.py). The change is added equally to
    B, G and R: with BT.601's luma weights summing to 1 that moves the luma by exactly the change
    and leaves both chroma differences (B - Y, R - Y) as they were.

    `grain_from` (default `camera`): the picture whose finest band is given to the face, the
    camera's with the target's brows erased; the face's own detail is still raised to `camera`'s
    crispness (its brows' edges counted, as they were before they were erased there).

    `smooth(which, measure)`: the gain to use, given `measure` (which measures it on this frame),
    smoothed over time ("detail": the face's own detail boost, source_detail_gain; "hair": its
    moustache's, brows.hair_gain; "match": fine_match_gain; BlendStage: detail.GainMemory.follow
    per track, which measures a few times a second); None: each frame's own, measured."""
    sigma = split_sigma(layer.scale)
    luma, camera_luma = as_grey(image), as_grey(camera)
    whole_camera = camera_luma
    # Where the new face shows, at half the box's size: both the detail boost's and the crossover
    # fill's measures read it (made once; issue 13, benchmarks/results/s29-swapcost).
    shown = half_shown(layer.alpha, (max(1, luma.shape[1] // 2), max(1, luma.shape[0] // 2)))

    def measured(which: str, measure: Callable[[], float]) -> float:
        return measure() if smooth is None else smooth(which, measure)

    gain = measured("detail", lambda: source_detail_gain(luma, camera_luma, layer.alpha, sigma, shown))
    if grain_from is not None:
        camera_luma = as_grey(grain_from)
    detailed = source_detail(luma, 1.0 + strength * (gain - 1.0), sigma)
    # The face's Gaussian at the split, made once: feature_band's edge_gain reads it over the
    # brows and lids, camera_detail over the whole box (issue 13's budget).
    detailed_low = gaussian_u8(detailed, sigma)
    # The target's own brows and lash lines are not grain (realtime/faces/brows.py), where the
    # camera's picture has them (FaceLayer.grain_points: unmoved by the face-shape transfer, or the
    # target's brow came back through the grain as a ghost arc beside the moved one).
    points = layer.face.landmarks if layer.grain_points is None else layer.grain_points
    grain, features = feature_band(camera_luma, detailed, layer.alpha, points, layer.box,
                                   layer.face.size, sigma, band_sigma=CROSSOVER * sigma, image_low=detailed_low)
    # ... and the new face's facial hair keeps its own strands (brows.hair_weight): none looked
    # for on a face the swapper says has no moustache (decided once per photo, FaceLayer.moustache).
    hair = None if layer.moustache is False else \
        hair_weight(detailed, layer.alpha, layer.face.landmarks, layer.box, layer.face.size, layer.moustache)
    if hair is not None:
        zone = hair
        gain = measured("hair", lambda: hair_gain(detailed, camera_luma, layer.alpha, zone, sigma))
        hair = (hair[0] * gain, hair[1]) if gain > 1e-3 else None
    features = merge_weights(features, hair)
    # The crossover band is added as far as the skin lacks it (its texture, which the clean
    # texture took out), not the whole face: the features' edges carried it (detail.crossover_fill).
    skin = skin_mask(layer.face.landmarks, layer.box, layer.face.size, step=2)
    detailed = camera_detail(detailed, grain, layer.scale, strength, layer.alpha, keep=features, skin=skin,
                             image_low=detailed_low, shown=shown)
    # The sum of the steps above, its finest band within reach of the camera's own over the face
    # (detail.fine_match_gain): read against the camera's whole picture, brows and lashes included,
    # as a viewer compares them.
    # (Made only where it is read: the measurement, a few times a second, or a gain to apply.)
    lows: list[np.ndarray] = []

    def match_low() -> np.ndarray:
        if not lows:
            lows.append(gaussian_u8(detailed, MATCH_SCALE_SIGMA))
        return lows[0]

    # ... aimed higher for a face whose own fine detail is faint (detail.match_aim, read once per
    # source photo): the recorder keeps the camera's grain but strips such a face's band (s42 on d3).
    match = measured("match", lambda: fine_match_gain(detailed, whole_camera, layer.alpha, match_low(),
                                                      match_aim(layer.source_detail)))
    match = 1.0 + strength * (match - 1.0)
    # The moustache's strands (as far as camera_detail keeps them: brows.hair_gain, none on a soft
    # camera) at the gain read without them, the camera having no hair there to compare with. Read
    # with them, a moustache worn deeper against the skin (color.skin_statistics) took the whole
    # face's finest band down, its own strands included (s12 on d9: 0.94 -> 0.86 of the photo's at
    # that size, "a flat black mass"). The skin keeps the gain read with them, which holds s12 on
    # the soft d14 within the sharpness goal (benchmarks/results/s34-strands).
    hair_match = match
    if hair is not None and match < 1.0 - 1e-3:
        kept = hair
        hair_match = 1.0 + strength * (measured("match_hair", lambda: fine_match_gain(
            detailed, whole_camera, _without(layer.alpha, kept), match_low(), match_aim(layer.source_detail))) - 1.0)
        # Spared a cut, never raised: strands already drawn at the camera's crispness, raised on a
        # grainy camera (s12 on d13: 1.34-1.5 read without them, the skin's 1.2-1.39 with) would
        # be a crisper patch on the face (read only where the skin's is a cut).
        hair_match = max(match, min(hair_match, 1.0))
    if abs(match - 1.0) >= 1e-3 or abs(hair_match - match) >= 1e-3:
        scaled = fine_band_scaled(detailed, match, match_low())
        if hair is not None and abs(hair_match - match) >= 1e-3:
            scaled = scaled.copy() if scaled is detailed else scaled
            scaled = _over_hair(scaled, detailed, match_low(), hair_match, hair)
        detailed = scaled
    # The change, added to B, G and R alike: as its lighter and darker parts (8-bit saturating
    # differences, one of them 0 at each pixel), each added or taken off all three channels,
    # the same numbers as the int16 change merged into three channels and added (0.45 -> ~0.2 ms).
    lighter, darker = cv2.subtract(detailed, luma), cv2.subtract(luma, detailed)
    out = cv2.add(image, cv2.cvtColor(lighter, cv2.COLOR_GRAY2BGR))
    return cv2.subtract(out, cv2.cvtColor(darker, cv2.COLOR_GRAY2BGR), dst=out)


# The moustache's darkness before the colour transfer is the photo's own, relit: read again after
# this long (media seconds) per face, not every frame (0.9 ms of hair_weight on s12 -> d14).
HAIR_BEFORE_EVERY_S = 1.0


class BlendStage:
    name = "blend"

    def __init__(self, settings: Settings) -> None:
        self._smoother = ColourSmoother()
        self._tone = ToneMemory()
        self._gains = GainMemory()
        self._hair_tones: dict[int, float] = {}
        """track -> the last gain on its moustache's hair (hair_tone), held through a blink."""
        self._hair_before: dict[int, tuple[float | None, float]] = {}
        """track -> (its moustache's darkness before the colour transfer, media time it was read)."""
        self.configure(settings)

    def configure(self, settings: Settings) -> None:
        self.settings = settings.blend
        self._smoother.time_constant_s = settings.blend.color_smoothing

    def process(self, frame: Frame) -> Frame:
        if not frame.layers:
            return frame
        settings = self.settings
        # Media time for files (deterministic), capture time for cameras.
        time_s = frame.pts if frame.pts is not None else frame.capture_ns / 1e9
        canvas = (frame.output if frame.output is not None else frame.image).copy()
        for number, layer in enumerate(frame.layers):
            x0, y0, x1, y1 = layer.box
            target = canvas[y0:y1, x0:x1]
            face_size = layer.face.size
            # A huge face comes at a reduced working resolution (realtime/swap/mesh.py,
            # WORK_FACE_PX): its colour is matched there, against the target shrunk alike.
            reduced = layer.image.shape[:2] != target.shape[:2]
            work_target = target
            shown = layer.alpha
            if reduced:
                # The swapper's own shrunk picture where it has one (the same pixels: the canvas
                # under the box is the picture it rendered from).
                work_target = layer.work_target if layer.work_target is not None and \
                    layer.work_target.shape == layer.image.shape else shrink(target, layer.image.shape[1::-1])
                face_size *= layer.image.shape[1] / target.shape[1]
                if layer.glasses is not None:
                    # The colour is matched where the new face shows, as at full size: off the
                    # glasses frames (cut from the layer's own alpha only once it is enlarged).
                    shown = layer.alpha * (1.0 - _at_size(layer.glasses, target.shape[:2], layer.alpha.shape))
            # Colour statistics and shading are averages: a quarter-resolution skin mask will do.
            region = skin_mask(layer.face.landmarks, layer.box, layer.face.size, shown, step=4)
            track = layer.face.track_id if layer.face.track_id >= 0 else -1 - number
            # A relit layer already has the target's light (the swapper fitted it on the mesh).
            shading = 0.0 if layer.relit else settings.shading
            edge_points, edge_box = layer.face.landmarks, layer.box
            if reduced:
                # The edge membrane reads the landmarks in the layer's own pixels: at the
                # working size, the box's origin at 0 and the points scaled alike.
                scale = layer.image.shape[1] / target.shape[1]
                edge_points = layer.face.landmarks.astype(np.float32, copy=True)
                edge_points[:, :2] = (edge_points[:, :2] - np.array(layer.box[:2], np.float32)) * scale
                edge_box = (0, 0, layer.image.shape[1], layer.image.shape[0])
            # The moustache's darkness against the skin before the colour transfer (hair_tone's
            # bound): the photo's own, relit; read once a second per face (HAIR_BEFORE_EVERY_S).
            before = None
            if layer.moustache:
                kept_before = self._hair_before.get(track)
                if kept_before is not None and 0 <= time_s - kept_before[1] < HAIR_BEFORE_EVERY_S:
                    before = kept_before[0]
                else:
                    found = hair_darkness(layer.image, layer.alpha, edge_points, edge_box, face_size)
                    before = None if found is None else found[0]
                    self._hair_before[track] = (before, time_s)
            image = recolour_halved(layer.image, work_target, region, settings.color_transfer, shading, face_size,
                                    lambda stats, key=track: self._smoother.update(key, stats, time_s),
                                    (shown, edge_points, edge_box, settings.feather), settings.skin_tone,
                                    (self._tone, track, time_s), layer.hard_light)
            kept, kept_lines = layer.kept, layer.kept_lines
            if reduced:
                # Enlarged only now, so the camera's grain below is the target's own, at full
                # resolution; the layer is left at the box's size for later readers (overlay).
                size = (target.shape[1], target.shape[0])
                factor = target.shape[1] / layer.image.shape[1]
                kept, kept_lines = (_enlarged(piece, factor) for piece in (kept, kept_lines))
                image = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
                layer.image = image
                layer.alpha = cv2.resize(layer.alpha, size, interpolation=cv2.INTER_LINEAR)
                if layer.glasses is not None:
                    # The glasses frames found at full resolution (FaceLayer.glasses), cut out of the
                    # enlarged alpha as the swapper cuts them at full size (realtime/swap/mesh.py).
                    keep, (gx, gy) = layer.glasses
                    under = layer.alpha[gy:gy + keep.shape[0], gx:gx + keep.shape[1]]
                    kept_lines = (keep * under, (gx, gy))
                    kept = union(kept, kept_lines)
                    under *= 1.0 - keep
            # The target's own brows out of the picture under the layer (realtime/faces/brows.py):
            # the camera's grain below and the composite read it.
            erase_brows(target, layer.alpha, layer.face.landmarks, layer.box, layer.face.size, kept, image,
                        settings.opacity)
            if not settings.mouth_mask:
                image = mouth_membrane(image, target, layer.face.landmarks, layer.box, layer.face.size)
            if settings.grain > 0:
                # The camera's own pixels where the shape transfer moved the picture (FaceLayer.grain).
                camera = layer.grain if layer.grain is not None and layer.grain.shape == target.shape else target
                grain_from = None
                if camera is not target and layer.grain_points is not None:
                    # ... with the target's brows erased there too, where that picture has them
                    # (grain_points): unerased, their band came back through the camera detail
                    # as a dark bar with a light line along the top of the target's brows
                    # (s10 -> d10, issue 13; benchmarks/results/s21-browline/). A copy: the
                    # layer's grain picture is the camera's. The face's own detail gain still
                    # reads the unerased picture (as before this change): only the band given
                    # to the face loses the target's brows. Its luma only: detail_on_luma reads
                    # nothing else of it (issue 13's budget: the brow erase 4.1 -> 3.4 ms on
                    # d13 + s42; the rounding order changes: a speckle, 1 level at the 99.9th
                    # percentile; benchmarks/results/s23-cheaper).
                    # The camera's luma is made once here and handed on (as_grey keeps a luma).
                    camera = as_grey(camera)
                    grain_from = camera.copy()
                    # Its brows' regions as found, not cut to whole working steps (erase_brows): that
                    # picture's grain is the face's over the brows, and cut, the face's features
                    # band changed 0.85 -> 0.88 levels a frame on a camera whose sharpness alternates
                    # (s9 on d14, tests/test_blend_detail_memory.py; benchmarks/results/s28-swapcost).
                    erase_brows(grain_from, layer.alpha, layer.grain_points, layer.box, layer.face.size, kept, image,
                                settings.opacity, whole_steps=False)
                    # ... and its long lashes' tips past the kept eye (brows.erase_lashes): through the
                    # camera detail they were drawn over the new face's lids, a hairy arc that read as a
                    # second brow under a painting's faint one (s10 -> d10, blind check seed 43). Here only:
                    # erased from the picture under the layer too (the mask's soft edge over the kept eye),
                    # they did little more for the look and took the written sharpness on d10 under its
                    # goal (s12 0.987 -> 0.786; benchmarks/results/s35-s10d10).
                    erase_lashes(grain_from, layer.alpha, layer.grain_points, layer.box, layer.face.size, kept, image,
                                 settings.opacity, whole_steps=False)
                image = detail_on_luma(image, camera, layer, settings.grain, grain_from,
                                       lambda which, measure, key=track, box=layer.box:
                                       self._gains.follow((which, key), measure, time_s, box))
            if layer.moustache:
                image = self._hair_toned(image, target, layer, before, track, time_s)
            # Under a hard light the camera's glints on the new face's lips, which the photo's lips,
            # recoloured as a whole, do not have: a matte, painted red (realtime/blend/mouth.py).
            image = lip_glints(image, target, layer.face.landmarks, layer.box, layer.face.size, layer.hard_light)
            # The photo's own edge (its hair, its jaw's shadow) not drawn at the mask's faint rim
            # (realtime/blend/edge_band.py): a dark line along the jaw of s12 on d6.
            image = clean_rim(image, target, layer.alpha, layer.face.landmarks, layer.box, layer.face.size,
                              settings.feather, settings.erosion)
            # The target's kept features (glasses frames, a closing eye) on the new face's colour,
            # as part of the layer (its image and alpha): the composite is the frame's one writer.
            # (Enlarged above, the alpha is this stage's own: written in place, no copy of the box.)
            layer.alpha = kept_in_layer(target, image, layer.alpha, kept, layer.face.size, kept_lines, own=reduced)
            if settings.poisson:
                poisson_composite(canvas, layer, image, settings.opacity)
            else:
                composite(canvas, layer, image, settings.opacity)
        frame.output = canvas
        return frame

    def _hair_toned(self, image: np.ndarray, target: np.ndarray, layer: FaceLayer, before: float | None,
                    track: int, time_s: float) -> np.ndarray:
        """`image` (the finished face over the box) with its moustache's hair as dark against the
        skin as the camera's pupils (realtime/blend/hair_tone.py); `before`: the hair's ratio to the
        skin before the colour transfer. Read on the camera's own picture and points (as the
        detail's grain: unmoved by the face-shape transfer)."""
        found = hair_darkness(image, layer.alpha, layer.face.landmarks, layer.box, layer.face.size)
        if found is None:
            return image
        now, body, part, _ = found
        camera = layer.grain if layer.grain is not None and layer.grain.shape == target.shape else target
        points = layer.face.landmarks if layer.grain_points is None else layer.grain_points
        measured = hair_tone_gain(now, before, camera_darkness(camera, points, layer.box))
        # A blink (no open eye to read) keeps the last gain; a new track starts from its own.
        gain = self._hair_tones.get(track, 1.0) if measured is None else \
            self._gains.update(("hair_tone", track), measured, time_s)
        self._hair_tones[track] = gain
        if gain >= 1.0 - 1e-3:
            return image
        # The gain read over the whole body, as before; applied off the nose (off_the_nose).
        return darken_hair(image, off_the_nose(body, layer.face.landmarks, layer.box, part, layer.face.size), part, gain)

    def close(self) -> None:
        self._smoother.reset()
        self._tone.reset()
        self._gains.reset()
        self._hair_tones.clear()
        self._hair_before.clear()


def _enlarged(piece: tuple[np.ndarray, tuple[int, int]] | None, factor: float) -> tuple[np.ndarray, tuple[int, int]] | None:
    """A (map, (x, y)) piece of a layer at its working size, at the box's size."""
    if piece is None:
        return None
    keep, (kx, ky) = piece
    size = (max(1, round(keep.shape[1] * factor)), max(1, round(keep.shape[0] * factor)))
    return cv2.resize(keep, size, interpolation=cv2.INTER_LINEAR), (round(kx * factor), round(ky * factor))


def _at_size(piece: tuple[np.ndarray, tuple[int, int]], box_shape: tuple[int, int],
             shape: tuple[int, int]) -> np.ndarray:
    """A (map, (x, y)) piece over a box of `box_shape` (h, w), as a map over the whole box at
    `shape` (h, w): the glasses frames found at full size, at a layer's working size (for the
    colour's skin mask: to the nearest working pixel; the piece alone is resized)."""
    keep, (kx, ky) = piece
    fx, fy = shape[1] / box_shape[1], shape[0] / box_shape[0]
    x0, y0 = min(round(kx * fx), shape[1] - 1), min(round(ky * fy), shape[0] - 1)
    width = max(1, min(round(keep.shape[1] * fx), shape[1] - x0))
    height = max(1, min(round(keep.shape[0] * fy), shape[0] - y0))
    whole = np.zeros(shape, np.float32)
    whole[y0:y0 + height, x0:x0 + width] = cv2.resize(keep, (width, height), interpolation=cv2.INTER_LINEAR)
    return whole
