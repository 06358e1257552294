"""The neural animator: LivePortrait (KwaiVGI, MIT), as the ONNX set FaceFusion exports.

Once per portrait: the appearance feature volume (kept on the inference device when IO binding
is on) and the portrait's own keypoints. Per driving frame: the motion extractor reads head
pose, expression, scale and translation from the driving face; the motion is taken RELATIVE to
a neutral reference frame (the first one, or the next one after `Engine.update(calibrate=True)`)
and applied to the portrait's keypoints, as LivePortrait's relative mode does; the stitcher
keeps the face attached to the shoulders; warping + generator render a 512 px face that is
pasted back into the portrait with a feathered oval.

The generator's warping uses a 5-D GridSample (opset 20): ONNX Runtime runs it on the CPU
provider since 1.17; its CUDA kernel is registered for the op but rejects 5-D input at run time
("Only 4-D tensor is supported", warmshao/FasterLivePortrait issue #36), so the session
factory's trial run at load moves a generator that fails there to the next provider and says
so in one line. `benchmarks/gpu_inference.py` reports which provider runs the node.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

from realtime.faces.dlib68 import landmarks68
from realtime.faces.source import SourceFace
from realtime.frame import Face, Frame
from realtime.inference.align import paste_region
from realtime.inference.errors import ModelMismatchError
from realtime.inference.session import ModelSession, SessionConfig, create_session
from realtime.inference.store import ModelStore
from realtime.settings import Settings

log = logging.getLogger(__name__)

CROP = 256
PARTS = ("liveportrait_feature_extractor", "liveportrait_motion_extractor",
         "liveportrait_stitcher", "liveportrait_generator")
# The crop of KwaiVGI/LivePortrait src/config/crop_config.py: the portrait (source) with
# scale 2.3, vx_ratio 0, vy_ratio -0.125; a driving video (scale_crop_driving_video,
# vx/vy_ratio_crop_driving_video) with 2.2, 0, -0.1. Both rolled upright (flag_do_rot).
SOURCE_CROP = (2.3, 0.0, -0.125)
DRIVING_CROP = (2.2, 0.0, -0.1)
# The motion extractor's outputs, by position, in the order FaceFusion unpacks them
# (facefusion/processors/modules/face_editor/core.py forward_extract_motion): the names in an
# export are not part of the contract, the order is.
MOTION_OUTPUTS = ("pitch", "yaw", "roll", "scale", "translation", "expression", "motion_points")


def crop_matrix(landmarks: np.ndarray, crop: tuple[float, float, float] = SOURCE_CROP,
                size: int = CROP) -> np.ndarray:
    """2x3 map from the picture to the square `size` crop LivePortrait takes around a face.

    KwaiVGI/LivePortrait src/utils/crop.py (parse_pt2_from_pt68, parse_rect_from_landmark,
    _estimate_similar_transform_from_pts), fed the 68 points derived from the face mesh: the
    axis from the eye centre to the mouth centre sets the roll (the crop is upright), the
    box of all points in that rotated frame sets the centre and size (square, times `scale`),
    then the centre moves by vx/vy_ratio * size along the rotated axes.
    """
    scale, vx_ratio, vy_ratio = crop
    points = landmarks68(landmarks)
    # parse_pt2_from_pt68 with use_lip: eyes = mean of 68-points 37/40 and 43/46 (1-based),
    # lip = mean of 49 and 55 (1-based)
    left_eye = points[[36, 39]].mean(axis=0)
    right_eye = points[[42, 45]].mean(axis=0)
    eyes = (left_eye + right_eye) / 2
    lip = (points[48] + points[54]) / 2
    uy = lip - eyes
    length = float(np.linalg.norm(uy))
    uy = uy / length if length > 1e-3 else np.array([0.0, 1.0])
    ux = np.array([uy[1], -uy[0]])
    rotation_2d = np.stack([ux, uy])
    centre0 = points.mean(axis=0)
    rotated = (points - centre0) @ rotation_2d.T
    low, high = rotated.min(axis=0), rotated.max(axis=0)
    centre1 = (low + high) / 2
    side = float((high - low).max()) * scale
    centre = centre0 + ux * centre1[0] + uy * centre1[1]
    centre = centre + ux * (vx_ratio * side) + uy * (vy_ratio * side)
    s = size / side
    # angle = acos(ux[0]) signed by ux[1]: cos = ux[0], sin = ux[1]
    cos, sin = ux[0], ux[1]
    cx, cy = centre
    half = size / 2
    return np.array([[s * cos, s * sin, half - s * (cos * cx + sin * cy)],
                     [-s * sin, s * cos, half - s * (-sin * cx + cos * cy)]], np.float32)


def rotation(pitch: float, yaw: float, roll: float) -> np.ndarray:
    """LivePortrait's get_rotation_matrix (degrees): (Rz Ry Rx) transposed, applied as kp @ R."""
    x, y, z = np.radians([pitch, yaw, roll])
    rx = np.array([[1, 0, 0], [0, np.cos(x), -np.sin(x)], [0, np.sin(x), np.cos(x)]])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rz = np.array([[np.cos(z), -np.sin(z), 0], [np.sin(z), np.cos(z), 0], [0, 0, 1]])
    return (rz @ ry @ rx).T.astype(np.float32)


def _blob(crop: np.ndarray) -> np.ndarray:
    return (crop[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32) * (1.0 / 255.0))


class Motion:
    """One motion-extractor reading."""

    def __init__(self, outputs: list[np.ndarray]) -> None:
        # By position (MOTION_OUTPUTS); pitch/yaw/roll/scale may be scalars or (1, 1).
        values = dict(zip(MOTION_OUTPUTS, outputs, strict=False))
        self.rotation = rotation(float(values["pitch"].ravel()[0]), float(values["yaw"].ravel()[0]),
                                 float(values["roll"].ravel()[0]))
        self.scale = float(values["scale"].ravel()[0])
        self.translation = values["translation"].reshape(3).astype(np.float32)
        self.expression = values["expression"].reshape(1, -1, 3).astype(np.float32)
        self.points = values["motion_points"].reshape(1, -1, 3).astype(np.float32)

    def keypoints(self, rotation_matrix=None, expression=None, scale=None, translation=None) -> np.ndarray:
        """LivePortrait's transform_keypoint: scale * (kp @ R + exp) + t (t in x, y only)."""
        r = self.rotation if rotation_matrix is None else rotation_matrix
        e = self.expression if expression is None else expression
        s = self.scale if scale is None else scale
        t = self.translation if translation is None else translation
        points = s * (self.points @ r + e)
        points[..., :2] += t[:2]
        return points.astype(np.float32)


class LivePortraitAnimator:
    name = "liveportrait"

    def model_sessions(self) -> list:
        """Every ONNX Runtime session this animator runs (the engine reports their providers)."""
        return list(self.sessions.values())

    def __init__(self, settings: Settings, store: ModelStore | None = None) -> None:
        store = store or ModelStore.from_settings(settings)
        paths = {part: store.require(part) for part in PARTS}  # every missing file first
        config = SessionConfig.from_settings(settings)
        self.sessions: dict[str, ModelSession] = {}
        for part, path in paths.items():
            spec = store.spec(part)
            session = create_session(path, config, name=part, precision=spec.precision)
            spec.check_io({t.name: t.shape for t in session.inputs},
                          {t.name: t.shape for t in session.outputs})
            self.sessions[part] = session
        if len(self.sessions["liveportrait_motion_extractor"].outputs) < len(MOTION_OUTPUTS):
            raise ModelMismatchError(
                f"{paths['liveportrait_motion_extractor'].name} has "
                f"{len(self.sessions['liveportrait_motion_extractor'].outputs)} outputs; LivePortrait's "
                f"motion extractor has {len(MOTION_OUTPUTS)} ({', '.join(MOTION_OUTPUTS)})")
        self._calibration = settings.animate.calibration
        self._source: SourceFace | None = None
        self._features = None
        self._source_motion: Motion | None = None
        self._source_points: np.ndarray | None = None
        self._matrix: np.ndarray | None = None
        self._mask: np.ndarray | None = None
        self._reference: Motion | None = None
        self._last: np.ndarray | None = None

    def configure(self, settings: Settings) -> None:
        if settings.animate.calibration != self._calibration:
            self._calibration = settings.animate.calibration
            self._reference = None  # the next driving face becomes the neutral reference

    def settled(self) -> bool:
        """The neutral reference is the first driving face's motion, taken as it is."""
        return self._reference is not None

    def _motion(self, image: np.ndarray, landmarks: np.ndarray,
                crop: tuple[float, float, float] = DRIVING_CROP) -> Motion:
        session = self.sessions["liveportrait_motion_extractor"]
        crop_image = cv2.warpAffine(image, crop_matrix(landmarks, crop), (CROP, CROP),
                                    flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return Motion(session.run({session.inputs[0].name: _blob(crop_image)}))

    def set_source(self, source: SourceFace) -> None:
        self._source = source
        self._matrix = crop_matrix(source.face.landmarks, SOURCE_CROP)
        crop = cv2.warpAffine(source.image, self._matrix, (CROP, CROP), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
        extractor = self.sessions["liveportrait_feature_extractor"]
        generator = self.sessions["liveportrait_generator"]
        # The volume feeds the generator on every frame: keep it where the generator runs, as
        # an OrtValue that the generator's IO binding binds directly (never copied back).
        (volume,) = extractor.run({extractor.inputs[0].name: _blob(crop)})
        self._features = generator.to_device(volume) if generator.io_binding else volume
        self._source_motion = self._motion(source.image, source.face.landmarks, SOURCE_CROP)
        self._source_points = self._source_motion.keypoints()
        self._mask = self._oval(CROP * 2)
        self._reference = None
        self._last = None

    @staticmethod
    def _oval(size: int) -> np.ndarray:
        mask = np.zeros((size, size), np.float32)
        cv2.ellipse(mask, (size // 2, int(size * 0.55)), (int(size * 0.36), int(size * 0.44)), 0, 0, 360,
                    1.0, -1)
        return cv2.GaussianBlur(mask, (0, 0), size * 0.04)

    def animate(self, frame: Frame, faces: list[Face]) -> np.ndarray:
        if self._source is None:
            return frame.image
        if not faces:  # nobody in front of the camera: hold the last pose
            return self._last if self._last is not None else self._source.image
        face = max(faces, key=lambda f: f.size)
        driving = self._motion(frame.image, face.landmarks)
        if self._reference is None:
            self._reference = driving
        source, reference = self._source_motion, self._reference
        # Relative motion (LivePortrait's default): the driver's change since the reference.
        rotation_matrix = (driving.rotation @ reference.rotation.T) @ source.rotation
        expression = source.expression + (driving.expression - reference.expression)
        scale = source.scale * (driving.scale / max(reference.scale, 1e-6))
        translation = source.translation + (driving.translation - reference.translation)
        translation[2] = 0.0
        driven = source.keypoints(rotation_matrix, expression, scale, translation)
        # facefusion/facefusion facefusion/processors/modules/face_editor/core.py (apply_edit,
        # forward_stitch_motion_points, forward_generate_frame) and expression_restorer/core.py:
        # the stitcher takes source = the driven keypoints, target = the portrait's own, and
        # returns the stitched driven keypoints; the generator takes source = those, target =
        # the portrait's keypoints (the ones its feature volume was extracted at).
        stitcher = self.sessions["liveportrait_stitcher"]
        stitched = stitcher.run({"source": driven, "target": self._source_points})[0]
        generator = self.sessions["liveportrait_generator"]
        image = generator.run({"feature_volume": self._features,
                               "source": np.asarray(stitched, np.float32).reshape(driven.shape),
                               "target": self._source_points})[0]
        rendered = (np.clip(image[0].transpose(1, 2, 0), 0, 1) * 255 + 0.5).astype(np.uint8)[:, :, ::-1]
        self._last = self._paste(np.ascontiguousarray(rendered))
        return self._last

    def _paste(self, rendered: np.ndarray) -> np.ndarray:
        portrait = self._source.image
        height, width = portrait.shape[:2]
        size = rendered.shape[0]
        matrix = self._matrix * np.float32(size / CROP)  # picture -> rendered-size crop
        # Only the part of the portrait the crop covers is touched.
        corners = cv2.transform(np.float32([[[0, 0], [size, 0], [0, size], [size, size]]]),
                                cv2.invertAffineTransform(matrix))[0]
        x0, y0 = np.floor(corners.min(axis=0)).astype(int)
        x1, y1 = np.ceil(corners.max(axis=0)).astype(int)
        box = (max(0, x0), max(0, y0), min(width, x1), min(height, y1))
        result = portrait.copy()
        if box[2] - box[0] < 2 or box[3] - box[1] < 2:
            return result
        image = paste_region(rendered, matrix, box)
        mask = self._mask if self._mask is not None and self._mask.shape[0] == size else self._oval(size)
        alpha = paste_region(mask, matrix, box, cv2.INTER_LINEAR)
        region = result[box[1]:box[3], box[0]:box[2]]
        region[:] = cv2.blendLinear(image, region, alpha, 1.0 - alpha)
        return result

    def close(self) -> None:
        self._source = None
        self._features = None
