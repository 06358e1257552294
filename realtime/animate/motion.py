"""Motion transfer: the driving face's motion, relative to its neutral reference, carried onto the
portrait's landmarks in a face-normalised frame.

Every driving face is split into a rigid part (a 3-D similarity: rotation, scale, translation,
fitted on points that do not move with expressions) and a non-rigid residual (the expression),
expressed in the reference face's own frame. The portrait gets the same two parts, re-expressed
in its frame through the similarity that maps the driver's reference face onto the portrait's
face: so a small, tilted face in the webcam drives a large, upright painted face correctly, and
the driver's scale, position and roll never leak into the portrait's proportions.

Roll, translation and scale are exact (a similarity in the picture plane); yaw and pitch are
approximate: MediaPipe's z gives the rotation, and the portrait's mesh is turned in 3-D and
projected orthographically, which is right for small angles (about ±25°).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import cv2
import numpy as np

from realtime.faces.topology import ALL_POINTS, LID_INNER, LOWER_LIDS, UPPER_LIDS, topology

# Points that move with the skull and (nearly) not with expressions: nose bridge and tip, eye
# corners, cheekbones, temples, forehead (after MediaPipe's own Procrustes basis, less the jaw and
# the cheeks beside the mouth, which move when the mouth opens).
# The forehead counts half (each skull point is listed twice): MediaPipe's video (tracking) mode
# carries the forehead up with a brow raise. Fitted on the nose, eye corners and cheekbones, d6's
# forehead points rise 0.7-1.4 times as far as her brows do (d10: 0.3-0.7; on still pictures
# 0-0.4), so with the forehead in the head's fit a share of every raise was taken as the head
# moving and the portrait's brows rose about half as far as the real ones (d6 self-reenactment:
# 0.49 of the real raise; 0.56 at half weight; 0.63 without the forehead, but then the head's
# pitch leans on the cheeks, which move when talking: d3 lost 0.13 dB and Einstein's open mouth
# driven by d9 read as shut; issue 22).
_SKULL = (4, 5, 6, 33, 117, 119, 121, 127, 129, 133, 143, 168, 195, 197, 198, 263, 346, 348, 350, 356,
          358, 362, 372, 420)
_FOREHEAD = (9, 10, 54, 67, 151, 284, 297)
RIGID_POINTS = np.array(_SKULL * 2 + _FOREHEAD, dtype=np.int32)
"""Indices for the head's fit (a point may repeat: its weight)."""


# The noise gate. MediaPipe's landmarks of a face that does not move still wander (measured on a
# still frame with camera noise through the tracker: up to 0.8 % of the face size per point, a
# degree of rotation, 1.5 % of scale). Motion at that level is taken as noise and the portrait
# stays exactly still. The gate is decided on quantities where noise averages out or is bounded,
# never point by point on the motion's own size (a per-point gate of [1x, 2x] the noise level took
# away half of every small expression: a smile came out at half size):
# - the head: rotation, scale and shift each against its own noise level, one gate for all three
#   (the largest of the three ratios opens it: a nod moves the rigid points mostly in depth, so
#   their displacement in the picture would gate it away);
# - the expression: per point, the largest residual within a neighbourhood of it (a tenth of the
#   face), so a region that moves passes whole, at full amplitude, slow-moving points included.
# Above the threshold the gate opens within GATE_BAND of it (a smooth step), not over a doubling.
GATE_RESIDUAL = 0.0095  # face sizes, the largest residual around a point
GATE_ROTATION = 1.1  # degrees
GATE_SCALE = 0.017  # relative
GATE_SHIFT = 0.004  # face sizes
GATE_BAND = 0.4  # the gate opens fully at (1 + GATE_BAND) x the threshold
NEIGHBOURHOOD = 0.12  # face sizes: the residual of points this close decides a point's gate


def gate(magnitude: np.ndarray | float, threshold: float, band: float = GATE_BAND) -> np.ndarray | float:
    """The share of a motion of `magnitude` that passes the noise gate: 0 up to the threshold,
    1 from (1 + band) x the threshold, smooth in between."""
    x = np.clip((np.asarray(magnitude, dtype=np.float64) - threshold) / (band * threshold), 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


@dataclass(frozen=True)
class Similarity3D:
    """y = scale * rotation @ (x - source_centre) + target_centre, for row vectors x."""

    rotation: np.ndarray
    scale: float
    source_centre: np.ndarray
    target_centre: np.ndarray

    def apply(self, points: np.ndarray) -> np.ndarray:
        return self.scale * (points - self.source_centre) @ self.rotation.T + self.target_centre


def fit_similarity(source: np.ndarray, target: np.ndarray, rotate: bool = True) -> Similarity3D:
    """Least-squares similarity taking `source` (N, 3) onto `target` (Umeyama 1991).
    rotate=False: scale and translation only."""
    source = source.astype(np.float64)
    target = target.astype(np.float64)
    source_centre = source.mean(axis=0)
    target_centre = target.mean(axis=0)
    a = source - source_centre
    b = target - target_centre
    variance = float((a ** 2).sum())
    if variance < 1e-9:
        return Similarity3D(np.eye(3), 1.0, source_centre, target_centre)
    if not rotate:
        scale = float(np.sqrt((b ** 2).sum() / variance))
        return Similarity3D(np.eye(3), scale, source_centre, target_centre)
    covariance = b.T @ a / len(a)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.eye(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[2, 2] = -1.0
    rotation = u @ sign @ vt
    scale = float(np.trace(np.diag(singular) @ sign) / (variance / len(a)))
    return Similarity3D(rotation, scale, source_centre, target_centre)


def scaled_rotation(rotation: np.ndarray, amount: float) -> np.ndarray:
    """The rotation turned by `amount` times its angle (same axis)."""
    if amount == 1.0:
        return rotation
    if amount == 0.0:
        return np.eye(3)
    vector, _ = cv2.Rodrigues(np.ascontiguousarray(rotation, dtype=np.float64))
    scaled, _ = cv2.Rodrigues(vector * amount)
    return scaled


# Eye corners (outer, inner) of each eye, the person's right eye first.
EYE_CORNERS = ((33, 133), (263, 362))
GATE_EYE_RATIO = 0.08  # a change of the eye's opening ratio below this is noise
# Share of a blink or squint the lower lid makes (the upper lid makes the rest). At 0.25 the
# portrait's shut or squinting eye sat under a hardly risen lower lid, and the face was further from
# the real frame than the frozen frame 0 on exactly those frames (dlib, self-reenactment: d9's shut
# eyes, frames 13-18, +0.03; d3's squinting eye beside a wink). At 0.6: d9 every 5th frame 0.107 ->
# 0.101 (frozen 0.104), d3 0.393 -> 0.388 (frozen 0.389); d10, d6 unchanged (s25-animident).
LOWER_LID = 0.6
GLANCE_LOWER_LID = 0.25  # ... of lids lowered over a down glance (`LidWatch`): the upper lid follows the iris


def _eye_frame(points: np.ndarray, corners: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, float]:
    """(middle of the corners, unit normal of the corner line, eye width), in 2-D."""
    a, b = points[corners[0], :2], points[corners[1], :2]
    axis = b - a
    width = float(np.linalg.norm(axis)) or 1.0
    axis = axis / width
    return (a + b) / 2, np.array([-axis[1], axis[0]]), width


# The lids of each eye without their corners (topology's lid tables), the person's right first.
_UPPER_INDEX = tuple(np.array(lid[LID_INNER], dtype=np.intp) for lid in UPPER_LIDS)
_LOWER_INDEX = tuple(np.array(lid[LID_INNER], dtype=np.intp) for lid in LOWER_LIDS)


def _openness(points: np.ndarray, loop: np.ndarray, corners: tuple[int, int]) -> float:
    """The gap between the lids, in eye widths (not the outline's spread about the corner line:
    a shut eye whose lids meet below that line kept half its "opening" by that measure)."""
    eye = 0 if corners == EYE_CORNERS[0] else 1
    middle, normal, width = _eye_frame(points, corners)
    upper = (points[_UPPER_INDEX[eye], :2] - middle) @ normal
    lower = (points[_LOWER_INDEX[eye], :2] - middle) @ normal
    return float(max(abs(lower.mean() - upper.mean()), 0.0) / width)


# How far MediaPipe's eye contour follows the lids: on a widening eye a third to a half as far as the
# visible lids move. Side by side with the real frames (aligned on the eye corners), d6's and d10's
# widened eyes, white all round the iris, were drawn as barely widened (MediaPipe on the output:
# 0.57 and 0.43 of the real widening), and MediaPipe finds the drawn eye's motion short by the same
# share again. Beyond the noise gate, a widening eye's opening ratio changes EYE_GAIN times as fast
# as the driver's contour says: 3.5 drew d6's and d10's widened eyes at 0.92 and 0.70 of the real
# widening (3: 0.86, 0.66), as open as the real ones by eye and not more. Narrowing takes no gain:
# 1.5 drew d3's squints (the tracker finds her squinting eye 0.31 open on frame 53, the still
# picture 0.54) shut, and the gaze of her open eyes fell from 0.71 to 0.34 of the real.
EYE_GAIN = (3.5, 1.0)  # (widening, narrowing)


def _eye_ratio_drawn(ratio: float) -> float:
    """The portrait's eye opening ratio for the driver's (its contour's lid gap / the reference's):
    noise-gated, then amplified by EYE_GAIN beyond the gate's threshold (a still driver
    and small tremors stay as they were)."""
    change = abs(ratio - 1.0)
    gated = change * float(gate(change, GATE_EYE_RATIO, 0.5))
    gain = EYE_GAIN[0] if ratio > 1.0 else EYE_GAIN[1]
    gated += (gain - 1.0) * max(0.0, change - GATE_EYE_RATIO)
    return float(np.clip(1.0 + np.sign(ratio - 1.0) * gated, 0.0, 2.0))


def _lid_masks(loop: np.ndarray, eye: int) -> tuple[np.ndarray, np.ndarray]:
    """Which points of the eye's outline `loop` are its lower lid's and its upper lid's."""
    return np.isin(loop, LOWER_LIDS[eye][LID_INNER]), np.isin(loop, UPPER_LIDS[eye][LID_INNER])


class ReferenceMeasures:
    """What the motion transfer measures on the driver's neutral reference, measured once per
    calibration (on first use) and kept here, on the calibration that holds the reference: the
    reference does not change until the next calibration, and eight of the eyes' twenty measures
    per frame were the reference's. The eyes' lid masks (four set lookups per frame, a tenth of
    the transfer) are kept here too. Nothing is kept at module level: two animators (two engines,
    two threads) each read their own calibration's."""

    def __init__(self, reference: np.ndarray) -> None:
        self.reference = reference
        self._openness: dict[tuple[int, int], float] = {}
        self._gazes: np.ndarray | None = None
        self._lid_masks: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._portrait: PortraitMeasures | None = None

    def openness(self, loop: np.ndarray, corners: tuple[int, int]) -> float:
        """`_openness` of the reference's eye."""
        value = self._openness.get(corners)
        if value is None:
            value = self._openness[corners] = _openness(self.reference, loop, corners)
        return value

    def gazes(self) -> np.ndarray:
        """`eye_gazes` of the reference (a copy)."""
        if self._gazes is None:
            self._gazes = eye_gazes(self.reference)
        return self._gazes.copy()

    def gaze(self) -> np.ndarray:
        """`gaze` of the reference."""
        return self.gazes().mean(axis=0)

    def lid_masks(self, loop: np.ndarray, eye: int) -> tuple[np.ndarray, np.ndarray]:
        """`_lid_masks` of the eye's outline (the topology's: the same every frame)."""
        masks = self._lid_masks.get(eye)
        if masks is None:
            masks = self._lid_masks[eye] = _lid_masks(loop, eye)
        return masks

    def portrait(self, portrait: np.ndarray, size: float) -> PortraitMeasures:
        """`PortraitMeasures` of `portrait` (the landmarks array `transfer` is given: the same object every frame;
        measured again for another one) with this reference and its face size."""
        kept = self._portrait
        if kept is None or kept.source is not portrait or kept.size != size:
            kept = self._portrait = PortraitMeasures(portrait, self, size)
        return kept


class PortraitMeasures:
    """What the transfer reads of the portrait's landmarks (and the reference's) every frame that does not change
    between two calibrations: the portrait's eyes' frames and lid offsets, the irises' axes, the mouth's down
    direction, its lips' gaps and the opening's gain, the nose's depth. Measured once, by the same operations as
    before (the same numbers): about 120 C calls a frame, a fifth of the transfer's time."""

    def __init__(self, portrait: np.ndarray, reference: ReferenceMeasures, size: float) -> None:
        self.source = portrait  # the array measured (kept: its identity is the key)
        self.size = size
        points = portrait.astype(np.float64)
        points.flags.writeable = False
        self.points = points
        top = topology()
        self.eyes = []
        for loop, corners in ((top.right_eye, EYE_CORNERS[0]), (top.left_eye, EYE_CORNERS[1])):
            middle, normal, _ = _eye_frame(points, corners)
            if normal[1] < 0:
                normal = -normal  # pointing down the face (portraits are upright within a few degrees)
            offsets = (points[loop, :2] - middle) @ normal
            lower, upper = reference.lid_masks(loop, 0 if corners == EYE_CORNERS[0] else 1)
            self.eyes.append((normal, offsets, lower, upper, float(offsets[lower].mean()), offsets[lower], offsets[upper]))
        self.iris_axes = []
        for (outer, inner), sign in zip(EYE_CORNERS, (1.0, -1.0), strict=True):
            axis = (points[inner, :2] - points[outer, :2]) * sign
            self.iris_axes.append((axis, np.array([-axis[1], axis[0]])))
        self.down = _mouth_down(points)
        self.lips_floor = np.minimum(0.0, (points[_LOWER_RINGS[0], :2] - points[_UPPER_RINGS[0], :2]) @ self.down)
        self.opening = _mouth_gain(reference.reference, points, size, self.down)
        corners = [MOUTH_CORNERS[0], MOUTH_CORNERS[1]]
        self.mouth_middle = points[corners, :2].mean(axis=0)
        self.mouth_width = float(np.linalg.norm(points[corners[0], :2] - points[corners[1], :2])) or 1.0
        self.nose_depth = float(points[RIGID_POINTS, 2].mean())


def _eyes_openness(points: np.ndarray) -> tuple[float, float]:
    """`_openness` of both eyes (the person's right first): measured once per frame for the
    lids, the gaze and the lid watch, which each measured it again."""
    top = topology()
    return _openness(points, top.right_eye, EYE_CORNERS[0]), _openness(points, top.left_eye, EYE_CORNERS[1])


def _eyelids_by_ratio(residual: np.ndarray, unmoved: np.ndarray, reference: ReferenceMeasures,
                      portrait: np.ndarray, lowered: float = 0.0,
                      opened: tuple[float, float] | None = None, fixed: PortraitMeasures | None = None) -> None:
    """Eyelids move by how much the driver's eye opened or closed, as a ratio, not by the
    driver's lid displacement in face sizes: a blink then closes the portrait's eye fully
    whatever the size of its eye (big painted eyes only half-closed otherwise). In place, on the
    residual of the eye outline points (portrait frame). `lowered` (0-1, `LidWatch`): the lids are
    lowered over a down glance, drawn no more closed than GLANCE_OPENING. `opened`:
    `_eyes_openness(unmoved)` when already measured. `fixed`: the portrait's measures (`PortraitMeasures`)."""
    top = topology()
    if opened is None:
        opened = _eyes_openness(unmoved)
    if fixed is None:
        fixed = PortraitMeasures(portrait, reference, 1.0)
    for loop, corners, now, eye in ((top.right_eye, EYE_CORNERS[0], opened[0], fixed.eyes[0]),
                                    (top.left_eye, EYE_CORNERS[1], opened[1], fixed.eyes[1])):
        before = reference.openness(loop, corners)
        if before < 1e-3:
            continue
        ratio = min(now / before, 2.0)
        ratio = _eye_ratio_drawn(ratio)
        ratio += lowered * max(0.0, GLANCE_OPENING - ratio)
        # The portrait's eye: its normal (down the face), each outline point's offset along it.
        normal, offsets, lower, upper, lower_mean, offsets_lower, offsets_upper = eye
        along = residual[loop, :2] - np.outer(residual[loop, :2] @ normal, normal)
        # A blink or squint: the lower lid makes LOWER_LID of the closing (d9's lids meet where the
        # real ones do). Lids lowered over a down glance: the upper lid does it (GLANCE_LOWER_LID);
        # closing both onto the corner line there drew the eye too high, and the iris MediaPipe
        # finds on it went up when the driver's went down.
        if ratio > 1.0:
            target = offsets * ratio  # a wide-open eye: both lids part
        else:
            share = LOWER_LID + lowered * (GLANCE_LOWER_LID - LOWER_LID)
            floor = lower_mean * (1.0 - share)
            target = offsets.copy()  # the corners stay
            target[lower] = offsets_lower + (ratio - 1.0) * share * offsets_lower
            target[upper] = floor + ratio * (offsets_upper - floor)
        residual[loop, :2] = along + np.outer(target - offsets, normal)


# Gaze: where the irises sit between the eye corners, in eye widths, along the eye (towards the
# picture's right for both eyes) and across it (down). The driver's change from its neutral face,
# the same for both eyes (eyes turn together; the mean halves MediaPipe's iris jitter), moves the
# portrait's irises by the same fraction of its own eyes' width.
IRIS_CENTRES = (468, 473)  # the person's right eye first, as EYE_CORNERS
IRIS_POINTS = (np.arange(468, 473), np.arange(473, 478))
GATE_GAZE = 0.012  # eye widths: iris jitter of a still driver
MAX_GAZE = (0.3, 0.12)  # eye widths, along and across: the iris stays inside the eye
GAZE_FADE = (0.15, 0.3)  # the eye's opening (of its neutral one) where the gaze is gone / whole
# The mean over both eyes, but an eye narrowed below GAZE_EYE_OPEN[1] of its neutral opening counts
# less, below GAZE_EYE_OPEN[0] not at all (both eyes that low: the plain mean, faded by GAZE_FADE):
# a shut eye's iris is MediaPipe's guess. d3 winks (frames 36-60, her right eye at 0.2 of its
# opening) while her left eye looks 0.2 eye widths aside; the guess in the shut eye moved the mean
# by up to 0.06 eye widths (27 of her first 150 frames by more than 0.03), against a gaze that
# moves 0.05 (std).
GAZE_EYE_OPEN = (0.3, 0.6)
# MediaPipe reads a real iris's travel along the eye short: on d3's open eyes its iris centre
# moved 0.74 of the dark iris's own centroid (pixels, same eye; std 0.066 vs 0.084 eye widths),
# and the portrait's iris, drawn where the driver's reading said, moved 0.5 of the driver's in
# pixels (s42, s12). The glance along the eye is drawn GAZE_GAIN times the reading (across it,
# the reading follows the lids as much as the iris: left as read).
GAZE_GAIN = 1.35

# A down glance is not a blink. Looking down, the upper lids follow the irises: d3 (frames
# 104-132) reads 0.02-0.2 of her neutral opening, as low as in her blinks (0.01-0.37, frames 48-61),
# and her irises read as far down in both (0.08-0.125 eye widths: on a shut eye MediaPipe puts the
# iris low). What differs is the speed: a blink's lids fall from LOWERED[0] to below LOWERED[1]
# of the neutral opening (the more open eye) within two frames at 30 fps (d3 48-49, 57-58; d9
# 11, 37: 0.067 s); her glances lower them over 4-12 frames (0.13-0.4 s). Lids that passed
# LOWERED[1] more slowly than BLINK_S, with the irises below neutral (GLANCE_DOWN, faded in over
# its width), are a down glance until the eyes open past LOWERED[0] again: the portrait's lids
# stay at GLANCE_OPENING of its neutral opening at least and its irises keep the driver's gaze
# (main drew her glance as shut eyes and faded the gaze out). s42 s9 s12 s0 by d3, gaze r 0.45 ->
# 0.52, eyes r 0.79 -> 0.82; d6, d9 unchanged (their lids never lower slowly).
LOWERED = (0.6, 0.3)  # the more open eye's opening (of neutral) the lids leave / pass when lowering
BLINK_S = 0.1  # a blink's lids fall from LOWERED[0] past LOWERED[1] within this (0.067 s seen)
GLANCE_DOWN = (0.02, 0.06)  # eye widths below neutral: the irises' drop where a glance starts / is whole
GLANCE_OPENING = 0.35  # of the neutral opening: lids lowered in a down glance, as drawn (the iris
# shows at the eye's bottom; d3, eyes / gaze r: 0.45 0.75 / 0.49, 0.35 0.82 / 0.52, 0.25 0.84 / 0.48)


class LidWatch:
    """Tells lids lowered in a down glance from a blink, frame by frame (causal: decided when
    the lids pass LOWERED[1], kept until they open past LOWERED[0]; lids still above LOWERED[1]
    BLINK_S after leaving LOWERED[0] count as a glance meanwhile). One per driver reference."""

    def __init__(self) -> None:
        self._open_at: float | None = None  # the last time the lids were open past LOWERED[0]
        self._glance: bool | None = None  # decided at LOWERED[1]: a glance (True) or a blink (False)

    def __call__(self, opening: float, down: float, time_s: float) -> float:
        """How much of a down glance this is (0-1), for the more open eye's `opening` (of its
        neutral) and the irises' drop `down` (eye widths) at `time_s`."""
        if opening >= LOWERED[0]:
            self._open_at, self._glance = time_s, None
            return 0.0
        slow = self._open_at is not None and time_s - self._open_at > BLINK_S
        if self._glance is None and opening < LOWERED[1]:
            self._glance = slow
        # Lowering slowly (not yet decided) is a glance already: its lids are held from there on
        # rather than drawn lower and reopened to GLANCE_OPENING once decided.
        if not (self._glance or (self._glance is None and slow)):
            return 0.0
        return float(np.clip((down - GLANCE_DOWN[0]) / (GLANCE_DOWN[1] - GLANCE_DOWN[0]), 0.0, 1.0))


def _opening(unmoved: np.ndarray, reference: ReferenceMeasures, opened: tuple[float, float] | None = None) -> float:
    """The more open eye's opening, of its neutral one (`opened`: `_eyes_openness(unmoved)`)."""
    top = topology()
    if opened is None:
        opened = _eyes_openness(unmoved)
    return max(now / max(reference.openness(loop, corners), 1e-3)
               for loop, corners, now in ((top.right_eye, EYE_CORNERS[0], opened[0]), (top.left_eye, EYE_CORNERS[1], opened[1])))


def eye_gazes(points: np.ndarray) -> np.ndarray:
    """(2, 2) per eye (the person's right first), the iris centre's offset from the middle of its
    eye corners, along the eye axis and across it, in eye widths."""
    offsets = []
    for (outer, inner), centre, sign in zip(EYE_CORNERS, IRIS_CENTRES, (1.0, -1.0), strict=True):
        a, b = points[outer, :2], points[inner, :2]
        axis = (b - a) * sign  # outer -> inner runs the other way on the other eye
        width = float(np.linalg.norm(axis)) or 1.0
        axis = axis / width
        offset = points[centre, :2] - (a + b) / 2
        offsets.append([offset @ axis / width, offset @ np.array([-axis[1], axis[0]]) / width])
    return np.array(offsets)


def gaze(points: np.ndarray) -> np.ndarray:
    """(2,) the iris centres' offset from the middle of their eye corners, along the eye axis and
    across it, in eye widths, averaged over both eyes."""
    return eye_gazes(points).mean(axis=0)


def gaze_change(unmoved: np.ndarray, reference: ReferenceMeasures,
                opened: tuple[float, float] | None = None) -> np.ndarray:
    """(2,) the driver's gaze change from its reference, the open eyes' (GAZE_EYE_OPEN).
    `opened`: `_eyes_openness(unmoved)` when already measured."""
    top = topology()
    change = eye_gazes(unmoved) - reference.gazes()
    if opened is None:
        opened = _eyes_openness(unmoved)
    opening = np.array([now / max(reference.openness(loop, corners), 1e-3)
                        for loop, corners, now in ((top.right_eye, EYE_CORNERS[0], opened[0]),
                                                   (top.left_eye, EYE_CORNERS[1], opened[1]))])
    weights = np.clip((opening - GAZE_EYE_OPEN[0]) / (GAZE_EYE_OPEN[1] - GAZE_EYE_OPEN[0]), 0.0, 1.0)
    if weights.sum() < 1e-6:
        return change.mean(axis=0)
    return weights @ change / weights.sum()


def _irises(residual: np.ndarray, unmoved: np.ndarray, reference: ReferenceMeasures, portrait: np.ndarray,
            lowered: float = 0.0, opened: tuple[float, float] | None = None,
            fixed: PortraitMeasures | None = None) -> None:
    """The portrait's iris points follow their eye (the mean motion of its outline) and turn with
    the driver's gaze (in place, on the residual, portrait frame). The warp draws them from the
    portrait's own iris (mesh.py)."""
    top = topology()
    if opened is None:
        opened = _eyes_openness(unmoved)
    shift = gaze_change(unmoved, reference, opened)
    shift *= gate(np.linalg.norm(shift), GATE_GAZE)
    shift[0] *= GAZE_GAIN
    # A closing eye's iris landmarks are guesses: the gaze fades out as the eyes close. The more
    # open eye decides: a wink leaves the gaze to the open eye (the closed one's iris is behind
    # its lids anyway), where taking the more closed one dropped the gaze on every wink.
    # Only a nearly shut eye fades it (GAZE_FADE): narrowed eyes (a squint, a grimace, a smile:
    # 0.35-0.7 of the neutral opening, 108 of d3's first 150 frames) still show their iris and
    # look where they look; fading from 0.7 dropped the gaze there (d3: the portrait's gaze
    # correlated 0.34 with the driver's before it was even drawn, 0.57 with this fade).
    # Lids lowered in a down glance (`lowered`) are drawn open: the gaze stays.
    opening = _opening(unmoved, reference, opened)
    opening += lowered * max(0.0, GLANCE_OPENING - opening)
    shift *= float(min(max((opening - GAZE_FADE[0]) / (GAZE_FADE[1] - GAZE_FADE[0]), 0.0), 1.0))
    shift = np.clip(shift, -np.array(MAX_GAZE), np.array(MAX_GAZE))
    if fixed is None:
        fixed = PortraitMeasures(portrait, reference, 1.0)
    for loop, (axis, normal), iris in zip((top.right_eye, top.left_eye), fixed.iris_axes, IRIS_POINTS, strict=True):
        residual[iris, :] = residual[loop].mean(axis=0)
        residual[iris, :2] += shift[0] * axis + shift[1] * normal


# The lips as four rings from the inner edge out, each corner to corner in the same columns (the
# person's right corner first), upper and lower (MediaPipe's mesh: the 60 points inside the outer
# lip outline).
UPPER_LIP_RINGS = ((78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308),
                   (62, 183, 42, 41, 38, 12, 268, 271, 272, 407, 292),
                   (76, 184, 74, 73, 72, 11, 302, 303, 304, 408, 306),
                   (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291))
LOWER_LIP_RINGS = ((78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308),
                   (62, 96, 89, 179, 86, 15, 316, 403, 319, 325, 292),
                   (76, 77, 90, 180, 85, 16, 315, 404, 320, 307, 306),
                   (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291))
_UPPER_RINGS, _LOWER_RINGS = np.array(UPPER_LIP_RINGS), np.array(LOWER_LIP_RINGS)
_UPPER_RINGS.flags.writeable = False
_LOWER_RINGS.flags.writeable = False
# How much of the inner edge's correction each ring takes: pressed lips flatten, the outline
# beside the skin barely moves.
LIP_RING_SHARE = (1.0, 0.85, 0.6, 0.3)


def _mouth_down(portrait: np.ndarray) -> np.ndarray:
    """(2,) the unit vector across the portrait's mouth corners, pointing to its chin."""
    corners = portrait[MOUTH_CORNERS[1], :2] - portrait[MOUTH_CORNERS[0], :2]
    down = np.array([-corners[1], corners[0]]) / (float(np.linalg.norm(corners)) or 1.0)
    if down @ (portrait[CHIN, :2] - portrait[MOUTH_CORNERS[0], :2]) < 0:
        down = -down
    return down


def _lips_meet(points: np.ndarray, portrait: np.ndarray, fixed: PortraitMeasures | None = None) -> None:
    """The lips close onto each other, never through each other (in place, portrait frame).

    The expression is added to the portrait's own mouth: a driver whose neutral lips are parted
    closes them by its gap, and on a portrait whose lips are already closed that pushed the upper
    lip through the lower one (up to 2 % of the face on d3): the lips folded over each other and the
    crossed outline read as an opening, while the driver's mouth was shut. Where the inner edges
    would cross, each column of both lips is moved back apart by half the overlap each."""
    upper, lower = _UPPER_RINGS, _LOWER_RINGS
    if fixed is None:
        down = _mouth_down(portrait)
        # The portrait's own lips as they are at rest (a shut mouth's landmarks can overlap a little):
        # only what the motion adds beyond that is undone.
        floor = np.minimum(0.0, (portrait[lower[0], :2] - portrait[upper[0], :2]) @ down)
    else:
        down, floor = fixed.down, fixed.lips_floor
    gap = (points[lower[0], :2] - points[upper[0], :2]) @ down
    overlap = np.maximum(0.0, floor - gap)
    overlap[[0, -1]] = 0.0  # the corners are shared
    if not overlap.any():
        return
    for ring, share in enumerate(LIP_RING_SHARE):
        shift = np.outer(0.5 * share * overlap, down)
        points[upper[ring, 1:-1], :2] -= shift[1:-1]
        points[lower[ring, 1:-1], :2] += shift[1:-1]


MOUTH_CORNERS = (61, 291)
CHIN = 152
# The mesh's only points outside each lip corner (the triangles that hold the corner's fold), the
# person's right corner first.
CORNER_CHEEKS = ((43, 57), (273, 287))
CHEEK_CARRY = 1.3  # how far they move in (at least), as a share of their corner's inward motion
POUT_NARROWING = (0.06, 0.2)  # the mouth's narrowing (share of its width) where they start / end following


def _cheeks_follow_a_pout(points: np.ndarray, portrait: np.ndarray, fixed: PortraitMeasures | None = None) -> None:
    """A narrowing mouth takes the skin just outside its corners along (in place, portrait frame).

    A mouth's corner (the dark fold where the lips meet) runs past MediaPipe's corner landmark into
    the cheek, where the mesh has no point for a tenth of the mouth's width. A pout or an "O" moves
    the corner landmarks in and the driver's cheek points barely: the fold, in the triangles
    between them, was stretched after the lips, a dark wing each side of the pursed mouth, as wide
    as before to the eye and to MediaPipe (d10's pouts: 0.59 of the real narrowing). Once the mouth
    has narrowed past a talking mouth's (POUT_NARROWING), the points outside each corner move in at
    least CHEEK_CARRY as far as the corner did: the fold goes in with the lips (more than its corner:
    it runs past it) and the smooth cheek beyond stretches instead (d10's pouts: 0.78; carried 0.8:
    0.67; carried from any narrowing, Einstein's talking mouth, under his moustache, read shut).
    Taking the fold in by the mesh's sources instead (its corners sampling the portrait past their
    folds) narrowed as well but drew s42's corner as a pale notch."""
    corners = [MOUTH_CORNERS[0], MOUTH_CORNERS[1]]
    if fixed is None:
        middle_before = portrait[corners, :2].mean(axis=0)
        width = float(np.linalg.norm(portrait[corners[0], :2] - portrait[corners[1], :2])) or 1.0
    else:
        middle_before, width = fixed.mouth_middle, fixed.mouth_width
    narrowed = 1.0 - float(np.linalg.norm(points[corners[0], :2] - points[corners[1], :2])) / width
    x = float(min(max((narrowed - POUT_NARROWING[0]) / (POUT_NARROWING[1] - POUT_NARROWING[0]), 0.0), 1.0))
    carry = CHEEK_CARRY * x * x * (3.0 - 2.0 * x)
    if carry <= 0.0:
        return
    middle_after = points[corners, :2].mean(axis=0)
    for corner, cheeks in zip(corners, CORNER_CHEEKS, strict=True):
        outward = portrait[corner, :2] - middle_before
        half = float(np.linalg.norm(outward)) or 1.0
        outward = outward / half
        inward = half - float((points[corner, :2] - middle_after) @ outward)  # how far the corner came in
        if inward <= 0.0:
            continue
        for cheek in cheeks:
            came = float((portrait[cheek, :2] - middle_before) @ outward) - \
                float((points[cheek, :2] - middle_after) @ outward)
            extra = carry * inward - came
            if extra > 0.0:
                points[cheek, :2] -= extra * outward


# How wide a mouth opens: the inner lips' gap (middle columns) in face sizes (the landmarks' box
# diagonal) of a mouth opened wide to talk or laugh (d3: 0.061 at its widest).
WIDE_OPEN = 0.06
MOUTH_GAIN_MAX = 2.0
MIDDLE_COLUMNS = slice(3, 8)  # of the lip rings: the mouth's middle (the corners hardly part)
# A talking mouth is drawn as open as the driver's (in face sizes) once the driver has opened past
# its parted rest by OPEN_RAMP times what the portrait lacks at rest (its deficit), rising smoothly
# from the neutral face: with the linear gain alone, d3's talking mouth (frames 36-46, area 6-8e-3,
# lips parted 3.4e-3 at rest) opened the closed Mona Lisa to 3.5-5.7e-3, a black slit with a
# broken white line in it that MediaPipe afresh read at 1.6-3.5e-3; now 3.4-5.1e-3, a row of teeth
# as the driver shows. Never past the driver's own gap; a flat start, so a still driver's tremor
# is not magnified (the steepest slope is 1 + 1.5 / OPEN_RAMP). Cross mouth r, 150 frames: s9 by d3
# 0.842 -> 0.856, s12 by d3 0.803 -> 0.849 (1.5: 0.838, 0.823).
OPEN_RAMP = 1.0


def _mouth_gain(reference: np.ndarray, portrait: np.ndarray, size: float,
                down: np.ndarray) -> tuple[float, np.ndarray | None]:
    """`_mouth_opens_fully`'s gain and each column's deficit (None without OPEN_RAMP): the reference's and the
    portrait's lips at rest alone, the same every frame."""
    upper, lower = _UPPER_RINGS, _LOWER_RINGS
    portrait_size = max(1.0, float(np.hypot(*(portrait[:, :2].max(axis=0) - portrait[:, :2].min(axis=0)))))
    driver_gap = float(np.linalg.norm(reference[upper[0, MIDDLE_COLUMNS], :2]
                                      - reference[lower[0, MIDDLE_COLUMNS], :2], axis=1).mean()) / size
    own_gap = float(np.maximum(0.0, (portrait[lower[0, MIDDLE_COLUMNS], :2]
                                     - portrait[upper[0, MIDDLE_COLUMNS], :2]) @ down).mean()) / portrait_size
    gain = min(MOUTH_GAIN_MAX, (WIDE_OPEN - own_gap) / max(WIDE_OPEN - driver_gap, 1e-6))
    if gain <= 1.0 or OPEN_RAMP <= 0:
        return gain, None
    # Each column's deficit: the driver's gap at rest beyond the portrait's, in portrait pixels.
    driver_columns = np.linalg.norm(reference[upper[0], :2] - reference[lower[0], :2], axis=1) / size
    own_columns = np.maximum(0.0, (portrait[lower[0], :2] - portrait[upper[0], :2]) @ down) / portrait_size
    return gain, np.maximum(0.0, driver_columns - own_columns) * portrait_size


def _mouth_opens_fully(residual: np.ndarray, reference: np.ndarray, portrait: np.ndarray, size: float,
                       fixed: PortraitMeasures | None = None) -> None:
    """The portrait's lips part as wide as the driver's, in face sizes, when the driver's lips
    at rest were parted and the portrait's were not (in place, on the gated residual in the
    portrait's frame; `size`: the driver's face size in its pixels).

    The expression is the driver's motion from its neutral face: a driver whose lips part at rest
    (d3: 0.022 face sizes between the inner lips, a third of her widest opening) opened the
    portrait's closed lips only by what hers opened beyond that, and her laugh was drawn at two
    thirds of its gap (about half of its area), her talking mouth as a line that MediaPipe (and a
    viewer) read as shut. Beyond the driver's neutral gap, the portrait's gap now grows by
    (WIDE_OPEN - own gap) / (WIDE_OPEN - the driver's neutral gap): a mouth opened wide is drawn as
    wide as the driver's, the neutral face is unchanged, closing takes no gain, and a portrait as
    parted as its driver (or more) moves as before. The extra gap is shared between the lips as the
    driver's own opening shares it (the jaw's drop mostly moves the lower lip), the whole lip moving."""
    upper, lower = _UPPER_RINGS, _LOWER_RINGS
    if fixed is None:
        down = _mouth_down(portrait)
        gain, deficit = _mouth_gain(reference, portrait, size, down)
    else:
        down, (gain, deficit) = fixed.down, fixed.opening
    if gain <= 1.0:
        return
    moved_up = -(residual[upper[0], :2] @ down)  # each column's upper inner lip, up
    moved_down = residual[lower[0], :2] @ down
    opened = np.maximum(0.0, moved_up + moved_down)
    opened[[0, -1]] = 0.0  # the corners are shared
    if not opened.any():
        return
    lower_share = np.clip(moved_down / np.maximum(opened, 1e-9), 0.0, 1.0)
    extra = (gain - 1.0) * opened
    if deficit is not None:
        # Each column's deficit (`_mouth_gain`): the portrait's gap, own + opened + extra, then never passes the
        # driver's, rest + opened.
        x = np.clip(opened / np.maximum(OPEN_RAMP * deficit, 1e-9), 0.0, 1.0)
        extra = np.maximum(extra, deficit * x * x * (3.0 - 2.0 * x))
    for ring in range(len(upper)):
        residual[upper[ring, 1:-1], :2] -= np.outer((extra * (1.0 - lower_share))[1:-1], down)
        residual[lower[ring, 1:-1], :2] += np.outer((extra * lower_share)[1:-1], down)


# The nose: bridge, tip, nostrils and the wings beside them (MediaPipe's mesh). A nose keeps its
# shape through speech and smiles (it moves with the head), but MediaPipe's mesh is one fitted shape:
# when the lips purse, part or stretch, its nose points move along (d10's pouts and open mouth:
# 0.5-2 px of "expression" on the tip and nostrils once the head's motion is taken out) and the warp
# drew a nose that changed shape with every word. dlib, measured on every frame, found the animated
# face further from the real frame than the frozen frame 0 on those frames (self-reenactment, d10
# frames 1-29: 0.265 vs 0.216; head motion alone: 0.219; every expression but the nose's: 0.239;
# frozen on every frame 4-29 but three). The nose's points take NOSE_EXPRESSION of the expression
# (the head moves them whole); the skin between them and the lips stretches instead.
NOSE = np.array([1, 2, 4, 5, 6, 19, 20, 44, 45, 48, 49, 59, 60, 64, 75, 79, 94, 97, 98, 99, 102, 115, 125, 129,
                 141, 166, 168, 195, 197, 218, 220, 237, 238, 240, 241, 242, 250, 274, 275, 278, 279, 289, 290,
                 294, 305, 309, 326, 327, 328, 331, 344, 354, 358, 370, 392, 438, 440, 457, 458, 460, 461, 462])
NOSE_EXPRESSION = 0.0
# The head's pitch is the least sure part of its fit (the forehead rises with the brows, the cheeks
# move with the mouth), and the nose's tip, the point furthest out in depth, turns a pitch into the
# largest vertical swing of the face: 54 px of depth on d10's 373 px face, 6 px for 6 degrees. On d10
# the fitted pitch while she talks and raises her brows (5-7 degrees up; the still detector reads
# 3-5) swung the drawn nose up over her lips: matched in the pixels, the drawn tip sat 4-9 px above
# the real one on frames 5-13 and 24-28 while the eyes and the bridge sat within 1-2 px, and the
# real tip stayed with the bridge (its swing 0.5-3 px down, the drawn 3-5 px up). Pasting the real
# nose into those frames took back more than any other part (d10 every frame 0.2334 -> 0.2064,
# the lips and the skin round them 0.2101, the cheeks 0.2163, the eyes 0.2383; issue 22). The nose's
# points swing up or down with the pitch by NOSE_PITCH_DEPTH of their depth; the sideways swing of
# a turn (yaw) keeps the whole depth (d3 turns 15 degrees: without the nose's depth in yaw too,
# 0.3869 -> 0.3955, behind the frozen frame). dlib distance to the real frames, every 5th frame
# (frozen), 1.0 -> 0.5: d10 0.2446 -> 0.2246 (0.2270), d3 0.3869 -> 0.3872 (0.3894), d6 0.2205 ->
# 0.2191, d9 0.1010 -> 0.1027 (0.1036: at most 4 levels on 0.1 px a frame change); at 0: d10
# 0.2182, but d3 0.3887 and d9 0.1037 (behind the frozen frame): d3's real tip does swing with her
# pitch. Cross-reenactment: mouth r 0.9026 -> 0.9003 (s10 by d6 / d9 -0.022 / -0.025), gaze r 0.620 ->
# 0.623, gain 0.910 -> 0.908 (s29-d10anim).
NOSE_PITCH_DEPTH = 0.5


def part_weights(parts: str) -> tuple[float, np.ndarray]:
    """(head weight, per-point expression weights (478,)) for a `moving_parts` setting."""
    top = topology()
    expression = np.zeros(ALL_POINTS, dtype=np.float64)
    if parts in ("all", "expression"):
        expression[:] = 1.0
    elif parts == "eyes":
        eyes = np.concatenate([top.right_eye, top.left_eye, top.right_iris, top.left_iris,
                               np.arange(468, ALL_POINTS)])
        expression[eyes] = 1.0
    expression[NOSE] *= NOSE_EXPRESSION
    head = 1.0 if parts in ("all", "head") else 0.0
    return head, expression


@functools.lru_cache(maxsize=8)
def _part_weights(parts: str) -> tuple[float, np.ndarray]:
    """`part_weights`, made once per setting (constants of the setting alone; read-only: the transfer only reads
    them)."""
    head, expression = part_weights(parts)
    expression.flags.writeable = False
    return head, expression


def near(driver: np.ndarray, reference: np.ndarray) -> bool:
    """Whether `driver` (478, 3) is the `reference` face up to what a still face's landmarks
    wander by (twice the noise gates): the same pose and expression, measured again."""
    driver = driver.astype(np.float64)
    reference = reference.astype(np.float64)
    size = max(1.0, float(np.hypot(*(reference[:, :2].max(axis=0) - reference[:, :2].min(axis=0)))))
    head = fit_similarity(reference[RIGID_POINTS], driver[RIGID_POINTS])
    vector, _ = cv2.Rodrigues(np.ascontiguousarray(head.rotation))
    shift = np.linalg.norm((head.target_centre - head.source_centre)[:2]) / size
    if np.degrees(np.linalg.norm(vector)) > 2 * GATE_ROTATION or abs(np.log(max(head.scale, 1e-6))) > 2 * GATE_SCALE \
            or shift > 2 * GATE_SHIFT:
        return False
    unmoved = (driver - head.target_centre) @ head.rotation / head.scale + head.source_centre
    if np.linalg.norm((unmoved - reference)[:, :2], axis=1).max() / size > 2 * GATE_RESIDUAL:
        return False
    top = topology()
    for loop, corners in ((top.right_eye, EYE_CORNERS[0]), (top.left_eye, EYE_CORNERS[1])):
        before = _openness(reference, loop, corners)
        if before > 1e-3 and abs(_openness(unmoved, loop, corners) / before - 1.0) > 2 * GATE_EYE_RATIO:
            return False
    return bool(np.linalg.norm(gaze(unmoved) - gaze(reference)) <= 2 * GATE_GAZE)


# MediaPipe's brow points (both brows' upper and lower edges).
BROWS = np.array([70, 63, 105, 66, 107, 55, 65, 52, 53, 46, 300, 293, 334, 296, 336, 285, 295, 282, 283, 276])
LIPS = np.unique(np.concatenate([np.ravel(UPPER_LIP_RINGS), np.ravel(LOWER_LIP_RINGS)]))
"""The 40 points of the lips, inner edge to outline."""
UNSETTLED = np.concatenate([BROWS, LIPS])
"""Points a settling reference keeps from the first landmarks: expressions a driver starts at once."""


def settled_reference(anchor: np.ndarray, driver: np.ndarray) -> np.ndarray:
    """The neutral reference while it settles (`driver` near `anchor`, the first landmarks after a
    calibration): the driver's face, its brows and lips kept where the anchor's were (placed at
    the driver's head pose).

    The settling takes up what a fresh detection gets a little wrong and the tracker then settles
    (scale, rotation, the eyes' opening: mesh.py), but the brows are an expression a driver starts
    within the first frames: d10 raises hers on frame 2 by 2.7 px as tracked (8 px in the still
    picture), which passed as near, settled into the reference, and every later raise was drawn
    2.6 px short (frame 5: 4.4 px of the tracker's 6.9). Taking the anchor's whole shape instead
    lost d13 and d6 on PSNR (31.62 -> 31.35, 28.91 -> 28.73): the rest of the face does settle.

    The lips do not settle either: d10 parts hers on frame 2 (5.3 px between the inner lips as
    tracked, within "near" of a 400 px face), and that opening became the neutral mouth: every
    later frame's mouth was drawn 5.2 px less open than the driver's (frame 5: 0 px where the
    real one opened 10), and the portrait's lips never parted for a small opening (issue 22)."""
    anchor = anchor.astype(np.float64)
    reference = driver.astype(np.float64).copy()
    head = fit_similarity(anchor[RIGID_POINTS], reference[RIGID_POINTS])
    reference[UNSETTLED] = head.apply(anchor[UNSETTLED])
    return reference


@dataclass(frozen=True)
class Calibration:
    """What stays fixed between two calibrations: the driver's neutral face, and how the
    driver's face frame maps onto the portrait's."""

    reference: np.ndarray
    """(478, 3) the driver's neutral landmarks (or, absolute mode, the portrait placed there)."""
    to_portrait: Similarity3D
    """Driver reference face -> portrait face (rotation, scale, centres)."""
    size: float
    """The reference face's size in driver pixels (the diagonal of its landmarks' box)."""
    neighbours: np.ndarray
    """(478, K) int: for each point, the points within NEIGHBOURHOOD of it on the reference face
    (padded with the point itself)."""
    measures: ReferenceMeasures = field(init=False, repr=False, compare=False)
    """The reference's eyes as measured (once per calibration; the reference is not changed after
    it: `calibrate` makes it read-only)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "measures", ReferenceMeasures(self.reference))


def calibrate(driver: np.ndarray, portrait: np.ndarray, mode: str) -> Calibration:
    """Take `driver` (478, 3) as the neutral reference for animating `portrait` (478, 3).

    relative: the driver's own neutral face is the reference; the portrait makes its motion.
    absolute: the reference is the portrait's face placed at the driver's position and scale
    (no rotation): the portrait then takes the driver's pose and face shape, not only its motion.
    """
    driver = driver.astype(np.float64)
    portrait = portrait.astype(np.float64)
    if mode == "absolute":
        placement = fit_similarity(portrait[RIGID_POINTS], driver[RIGID_POINTS], rotate=False)
        reference = placement.apply(portrait)
    else:
        reference = driver
    to_portrait = fit_similarity(reference[RIGID_POINTS], portrait[RIGID_POINTS])
    size = max(1.0, float(np.hypot(*(driver[:, :2].max(axis=0) - driver[:, :2].min(axis=0)))))
    flat = reference[:, :2]
    difference = flat[:, None] - flat[None]
    near = np.einsum("ijk,ijk->ij", difference, difference) < (NEIGHBOURHOOD * size) ** 2
    # Each row: its near points, padded with the point itself (a cumulative count places each near
    # point in its column: one pass, no sort of a 478 x 478 table).
    count = near.sum(axis=1)
    neighbours = np.repeat(np.arange(len(flat))[:, None], int(count.max()), axis=1)
    rows, cols = np.nonzero(near)
    neighbours[rows, np.cumsum(near, axis=1)[rows, cols] - 1] = cols
    reference.flags.writeable = False
    return Calibration(reference=reference, to_portrait=to_portrait, size=size, neighbours=neighbours)


def transfer(driver: np.ndarray, portrait: np.ndarray, calibration: Calibration,
             strength: float = 1.0, parts: str = "all", lids: LidWatch | None = None,
             time_s: float = 0.0) -> np.ndarray:
    """The portrait's (478, 3) landmarks moved as the driver moved from its reference.

    driver: (478, 3) this frame's driving landmarks, in the driver's pixels.
    lids, time_s: the driver's lid watch (a down glance told from a blink) and this frame's time.
    """
    driver = driver.astype(np.float64)
    reference = calibration.reference
    measured = calibration.measures
    fixed = measured.portrait(portrait, calibration.size)
    portrait = fixed.points
    head = fit_similarity(reference[RIGID_POINTS], driver[RIGID_POINTS])
    # The expression: what is left of the driver once its head motion is undone, measured in the
    # reference face's frame (driver pixels at the reference's scale).
    unmoved = (driver - head.target_centre) @ head.rotation / head.scale + head.source_centre
    residual = unmoved - reference
    moved = np.linalg.norm(residual[:, :2], axis=1) / calibration.size
    activity = moved[calibration.neighbours].max(axis=1)
    residual *= gate(activity, GATE_RESIDUAL)[:, None]
    head_weight, expression_weights = _part_weights(parts)

    # Into the portrait's frame: rotate by the reference->portrait rotation, scale to its size.
    to_portrait = calibration.to_portrait
    frame_rotation = to_portrait.rotation
    residual_portrait = to_portrait.scale * residual @ frame_rotation.T
    lowered = 0.0
    opened = _eyes_openness(unmoved)  # the driver's eyes, measured once for the lids, gaze and watch
    if lids is not None:
        lowered = lids(_opening(unmoved, measured, opened), float(gaze(unmoved)[1] - measured.gaze()[1]), time_s)
    _eyelids_by_ratio(residual_portrait, unmoved, measured, portrait, lowered, opened, fixed)
    _irises(residual_portrait, unmoved, measured, portrait, lowered, opened, fixed)
    _mouth_opens_fully(residual_portrait, reference, portrait, calibration.size, fixed)
    amount = strength * expression_weights[:, None]
    shaped = portrait + amount * residual_portrait
    _lips_meet(shaped, portrait, fixed)
    _cheeks_follow_a_pout(shaped, portrait, fixed)

    vector, _ = cv2.Rodrigues(np.ascontiguousarray(head.rotation))
    shift = head.target_centre - head.source_centre
    head_motion = max(np.degrees(np.linalg.norm(vector)) / GATE_ROTATION,
                      abs(np.log(max(head.scale, 1e-6))) / GATE_SCALE,
                      np.linalg.norm(shift[:2]) / calibration.size / GATE_SHIFT)
    head_amount = strength * head_weight * float(gate(head_motion, 1.0))
    rotation = scaled_rotation(frame_rotation @ head.rotation @ frame_rotation.T, head_amount)
    scale = float(np.exp(head_amount * np.log(max(head.scale, 1e-6))))
    # The head's translation, measured at the reference's rigid centre, re-expressed in the
    # portrait's frame; only its picture-plane part moves the portrait (depth is not seen).
    shift_portrait = to_portrait.scale * shift @ frame_rotation.T
    shift_portrait[2] = 0.0
    centre = to_portrait.target_centre
    moved = scale * (shaped - centre) @ rotation.T + centre + head_amount * shift_portrait
    # The nose's vertical swing with depth (the pitch's lever) is NOSE_PITCH_DEPTH of its own.
    depth = shaped[NOSE, 2] - fixed.nose_depth
    moved[NOSE, 1] -= (1.0 - NOSE_PITCH_DEPTH) * scale * rotation[1, 2] * depth
    return moved
