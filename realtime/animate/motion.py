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

from dataclasses import dataclass

import cv2
import numpy as np

from realtime.faces.topology import ALL_POINTS, topology

# Points that move with the skull and (nearly) not with expressions: nose bridge and tip,
# forehead, eye corners, cheekbones, temples (after MediaPipe's own Procrustes basis, less the
# jaw and the cheeks beside the mouth, which move when the mouth opens).
RIGID_POINTS = np.array([4, 5, 6, 9, 10, 33, 54, 67, 117, 119, 121, 127, 129, 133, 143, 151, 168,
                         195, 197, 198, 263, 284, 297, 346, 348, 350, 356, 358, 362, 372, 420],
                        dtype=np.int32)


# The noise gate. MediaPipe's landmarks of a face that does not move still wander: about 1 % of
# the face size per point, a degree of rotation, a percent of scale, and an offset when tracking
# takes over from detection. Motion below these levels is taken as noise and the portrait stays
# still; above twice these levels it passes unchanged, and in between it is ramped in smoothly.
GATE_RESIDUAL = 0.011  # face sizes, per point
GATE_SHIFT = 0.006  # face sizes
GATE_ROTATION = 1.2  # degrees
GATE_SCALE = 0.015  # relative


def gate(magnitude: np.ndarray | float, threshold: float) -> np.ndarray | float:
    """The share of a motion of `magnitude` that passes the noise gate: 0 up to the threshold,
    1 from twice the threshold, smooth in between."""
    x = np.clip((np.asarray(magnitude, dtype=np.float64) - threshold) / threshold, 0.0, 1.0)
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
GATE_EYE_RATIO = 0.08


def _eye_frame(points: np.ndarray, corners: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, float]:
    """(middle of the corners, unit normal of the corner line, eye width), in 2-D."""
    a, b = points[corners[0], :2], points[corners[1], :2]
    axis = b - a
    width = float(np.linalg.norm(axis)) or 1.0
    axis = axis / width
    return (a + b) / 2, np.array([-axis[1], axis[0]]), width


def _openness(points: np.ndarray, loop: np.ndarray, corners: tuple[int, int]) -> float:
    middle, normal, width = _eye_frame(points, corners)
    return float(np.abs((points[loop, :2] - middle) @ normal).mean() / width)


def _eyelids_by_ratio(residual: np.ndarray, unmoved: np.ndarray, reference: np.ndarray,
                      portrait: np.ndarray) -> None:
    """Eyelids move by how much the driver's eye opened or closed, as a ratio, not by the
    driver's lid displacement in face sizes: a blink then closes the portrait's eye fully
    whatever the size of its eye (big painted eyes only half-closed otherwise). In place, on the
    residual of the eye outline points (portrait frame)."""
    top = topology()
    for loop, corners in ((top.right_eye, EYE_CORNERS[0]), (top.left_eye, EYE_CORNERS[1])):
        before = _openness(reference, loop, corners)
        if before < 1e-3:
            continue
        ratio = min(_openness(unmoved, loop, corners) / before, 2.0)
        ratio = 1.0 + (ratio - 1.0) * float(gate(abs(ratio - 1.0), GATE_EYE_RATIO))
        middle, normal, _ = _eye_frame(portrait, corners)
        offsets = (portrait[loop, :2] - middle) @ normal
        along = residual[loop, :2] - np.outer(residual[loop, :2] @ normal, normal)
        residual[loop, :2] = along + np.outer((ratio - 1.0) * offsets, normal)


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
    head = 1.0 if parts in ("all", "head") else 0.0
    return head, expression


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
    size = float(np.hypot(*(driver[:, :2].max(axis=0) - driver[:, :2].min(axis=0))))
    return Calibration(reference=reference, to_portrait=to_portrait, size=max(size, 1.0))


def transfer(driver: np.ndarray, portrait: np.ndarray, calibration: Calibration,
             strength: float = 1.0, parts: str = "all") -> np.ndarray:
    """The portrait's (478, 3) landmarks moved as the driver moved from its reference.

    driver: (478, 3) this frame's driving landmarks, in the driver's pixels.
    """
    driver = driver.astype(np.float64)
    portrait = portrait.astype(np.float64)
    reference = calibration.reference
    head = fit_similarity(reference[RIGID_POINTS], driver[RIGID_POINTS])
    # The expression: what is left of the driver once its head motion is undone, measured in the
    # reference face's frame (driver pixels at the reference's scale).
    unmoved = (driver - head.target_centre) @ head.rotation / head.scale + head.source_centre
    residual = unmoved - reference
    residual *= gate(np.linalg.norm(residual[:, :2], axis=1) / calibration.size, GATE_RESIDUAL)[:, None]
    head_weight, expression_weights = part_weights(parts)

    # Into the portrait's frame: rotate by the reference->portrait rotation, scale to its size.
    to_portrait = calibration.to_portrait
    frame_rotation = to_portrait.rotation
    residual_portrait = to_portrait.scale * residual @ frame_rotation.T
    _eyelids_by_ratio(residual_portrait, unmoved, reference, portrait)
    amount = strength * expression_weights[:, None]
    shaped = portrait + amount * residual_portrait

    head_amount = strength * head_weight
    vector, _ = cv2.Rodrigues(np.ascontiguousarray(head.rotation))
    turn = head_amount * gate(np.degrees(np.linalg.norm(vector)), GATE_ROTATION)
    rotation = scaled_rotation(frame_rotation @ head.rotation @ frame_rotation.T, turn)
    log_scale = np.log(max(head.scale, 1e-6))
    scale = float(np.exp(head_amount * gate(abs(log_scale), GATE_SCALE) * log_scale))
    # The head's translation, measured at the reference's rigid centre, re-expressed in the
    # portrait's frame; only its picture-plane part moves the portrait (depth is not seen).
    shift = head.target_centre - head.source_centre
    shift = shift * gate(np.linalg.norm(shift[:2]) / calibration.size, GATE_SHIFT)
    shift_portrait = to_portrait.scale * shift @ frame_rotation.T
    shift_portrait[2] = 0.0
    centre = to_portrait.target_centre
    return scale * (shaped - centre) @ rotation.T + centre + head_amount * shift_portrait
