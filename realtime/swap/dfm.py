"""DeepFaceLab models live: the `.dfm` files DeepFaceLive and FaceFusion's deep_swapper load.

A `.dfm` is an ONNX graph exported by DeepFaceLab (iperov/DeepFaceLab models/Model_SAEHD/Model.py
and Model_AMP/Model.py `export_dfm`, tf2onnx, opset 12). The contract, as iperov/DeepFaceLive
modelhub/DFLive/DFMModel.py reads it:
- input `in_face:0`, (N, res, res, 3) NHWC float32, BGR in [0, 1], the face aligned the way
  DeepFaceLab aligned the training faces;
- AMP models only: a second input `morph_value:0`, shape (1,), how much of the celeb's identity
  (DeepFaceLive's default 0.75);
- outputs, in this order: `out_face_mask:0` (N, res, res, 1), the model's mask of the input face;
  `out_celeb_face:0` (N, res, res, 3), the swapped face; `out_celeb_face_mask:0` (N, res, res, 1).
A model carries no face type: DeepFaceLab trains each for one (half, mid-full, full, whole face,
head), so the user says which (`dfm_face_type`; whole_face is what DeepFaceLive's published
models use).

Per frame: the 68 dlib points are derived from the face mesh (realtime/faces/dlib68.py), the
face is aligned with DeepFaceLab's get_transform_mat (facelib/LandmarksProcessor.py), the model
runs on all faces in one batch, and the swapped face goes back through the inverse transform as
a FaceLayer whose alpha is DeepFaceLive's mask (face mask x celeb mask, FaceMerger.py) times
facecam's own feathered oval; the blend stage matches colour and composites.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import cv2
import numpy as np

from realtime.faces.dlib68 import landmarks68
from realtime.faces.source import SourceFace
from realtime.frame import Face, FaceLayer, Frame
from realtime.inference.align import crop_coverage, paste_region, similarity_matrix
from realtime.inference.errors import ModelMismatchError, ModelMissingError
from realtime.inference.session import SessionConfig, create_session
from realtime.inference.store import models_dir
from realtime.settings import Settings
from realtime.swap.inswapper import oval_mask

log = logging.getLogger(__name__)

# facelib/LandmarksProcessor.py FaceType_to_padding_remove_align (the *_NO_ALIGN types are
# for extraction only, never for a merge).
FACE_TYPE_PADDING = {"half_face": 0.0, "midfull_face": 0.0675, "full_face": 0.2109375,
                     "whole_face": 0.40, "head": 0.70}

# facelib/LandmarksProcessor.py landmarks_2D_new: the mean face of 68-points 17..48 and 54 in
# the unit square.
LANDMARKS_2D_NEW = np.array([
    [0.000213256, 0.106454], [0.0752622, 0.038915], [0.18113, 0.0187482], [0.29077, 0.0344891],
    [0.393397, 0.0773906], [0.586856, 0.0773906], [0.689483, 0.0344891], [0.799124, 0.0187482],
    [0.904991, 0.038915], [0.98004, 0.106454], [0.490127, 0.203352], [0.490127, 0.307009],
    [0.490127, 0.409805], [0.490127, 0.515625], [0.36688, 0.587326], [0.426036, 0.609345],
    [0.490127, 0.628106], [0.554217, 0.609345], [0.613373, 0.587326], [0.121737, 0.216423],
    [0.187122, 0.178758], [0.265825, 0.179852], [0.334606, 0.231733], [0.260918, 0.245099],
    [0.182743, 0.244077], [0.645647, 0.231733], [0.714428, 0.179852], [0.793132, 0.178758],
    [0.858516, 0.216423], [0.79751, 0.244077], [0.719335, 0.245099], [0.254149, 0.780233],
    [0.726104, 0.780233]], np.float64)

MORPH_DEFAULT = 0.75  # DeepFaceLive's DFMModel.convert default


def _transform(points: np.ndarray, matrix: np.ndarray, invert: bool = False) -> np.ndarray:
    if invert:
        matrix = cv2.invertAffineTransform(matrix)
    return points @ matrix[:, :2].T + matrix[:, 2]


def _estimate_averaged_yaw(points: np.ndarray) -> float:
    left = ((points[27][0] - points[0][0]) + (points[28][0] - points[1][0]) + (points[29][0] - points[2][0])) / 3.0
    right = ((points[16][0] - points[27][0]) + (points[15][0] - points[28][0]) + (points[14][0] - points[29][0])) / 3.0
    return float(right - left)


def transform_matrix(points68: np.ndarray, size: int, face_type: str) -> np.ndarray:
    """2x3 frame -> aligned-crop map: DeepFaceLab's get_transform_mat (facelib/
    LandmarksProcessor.py), line for line: a similarity fit of 33 points to the mean face, the
    unit square's corners in the frame, padded along its diagonals for the face type (whole
    face moved 7% up, head 50% down and by the yaw), then the affine map of three corners."""
    points68 = np.asarray(points68, np.float64)
    fit = np.concatenate([points68[17:49], points68[54:55]])
    mat = similarity_matrix(fit, LANDMARKS_2D_NEW).astype(np.float64)
    g_p = _transform(np.array([(0, 0), (1, 0), (1, 1), (0, 1), (0.5, 0.5)], np.float64), mat, invert=True)
    g_c = g_p[4].copy()
    tb_diag = (g_p[2] - g_p[0]) / np.linalg.norm(g_p[2] - g_p[0])
    bt_diag = (g_p[1] - g_p[3]) / np.linalg.norm(g_p[1] - g_p[3])
    padding = FACE_TYPE_PADDING[face_type]
    mod = np.linalg.norm(g_p[0] - g_p[2]) * (padding * math.sqrt(2.0) + 0.5)
    if face_type == "whole_face":
        vec = g_p[0] - g_p[3]
        length = np.linalg.norm(vec)
        g_c += vec / length * length * 0.07
    elif face_type == "head":
        yaw = _estimate_averaged_yaw(_transform(points68, mat))
        hvec = g_p[0] - g_p[1]
        hlen = np.linalg.norm(hvec)
        yaw *= abs(math.tanh(yaw * 2))
        g_c -= hvec / hlen * (yaw * hlen / 2.0)
        vvec = g_p[0] - g_p[3]
        vlen = np.linalg.norm(vvec)
        g_c += vvec / vlen * vlen * 0.50
    corners = np.array([g_c - tb_diag * mod, g_c + bt_diag * mod, g_c + tb_diag * mod], np.float32)
    target = np.float32([(0, 0), (size, 0), (size, size)])
    return cv2.getAffineTransform(corners, target)


def dfm_files(folder: Path) -> list[Path]:
    """The `.dfm` models in a folder (facecam models list, the GUI's choices)."""
    return sorted(folder.glob("*.dfm")) if folder.is_dir() else []


def resolve_dfm(name: str | None, folder: Path) -> Path:
    """A `.dfm` path from the `dfm_model` setting: a path, or a file name / stem in the models
    folder. Raises ModelMissingError with the files that are there."""
    if not name:
        raise ModelMissingError("--swapper dfm needs a DeepFaceLab model: set dfm_model to a .dfm "
                                f"file (or put one in {folder}){_available(folder)}")
    path = Path(name).expanduser()
    for candidate in (path, folder / path.name, folder / f"{path.name}.dfm"):
        if candidate.is_file():
            return candidate
    raise ModelMissingError(f"DeepFaceLab model {name!r} not found (as a path or in {folder})"
                            f"{_available(folder)}")


def _available(folder: Path) -> str:
    names = [p.name for p in dfm_files(folder)]
    return f"; available: {', '.join(names)}" if names else ""


def _output_order(names: list[str]) -> list[int]:
    """Indices of (face mask, celeb face, celeb mask) among the outputs: by name when the export
    kept DeepFaceLab's names, else by position (DeepFaceLive reads them by position)."""
    wanted = ("out_face_mask", "out_celeb_face", "out_celeb_face_mask")
    bare = [name.split(":")[0] for name in names]
    if all(name in bare for name in wanted):
        return [bare.index(name) for name in wanted]
    return [0, 1, 2]


class DFMSwapper:
    name = "dfm"

    def __init__(self, settings: Settings) -> None:
        folder = models_dir(settings.inference)
        self.path = resolve_dfm(settings.swap.dfm_model, folder)
        self.session = create_session(self.path, SessionConfig.from_settings(settings), name=self.path.stem)
        inputs = self.session.inputs
        if not inputs or "in_face" not in inputs[0].name or len(inputs) > 2 or (
                len(inputs) == 2 and "morph_value" not in inputs[1].name):
            raise ModelMismatchError(f"{self.path.name} is not a DeepFaceLab .dfm model: its inputs are "
                                     f"{[t.name for t in inputs]} (expected in_face[, morph_value])")
        shape = inputs[0].shape
        if len(shape) != 4 or shape[3] != 3 or not isinstance(shape[1], int) or shape[1] != shape[2]:
            raise ModelMismatchError(f"{self.path.name}: in_face has shape {list(shape)}, expected "
                                     "(N, res, res, 3)")
        if len(self.session.outputs) != 3:
            raise ModelMismatchError(f"{self.path.name}: {len(self.session.outputs)} outputs, a .dfm has 3 "
                                     "(out_face_mask, out_celeb_face, out_celeb_face_mask)")
        self.resolution = int(shape[1])
        self.batched = not isinstance(shape[0], int) or shape[0] != 1
        self.morph_input = inputs[1].name if len(inputs) == 2 else None
        self._input = inputs[0].name
        self._order = _output_order(self.session.output_names)
        log.info("%s: DeepFaceLab model, %d px%s", self.path.name, self.resolution,
                 ", AMP (morph)" if self.morph_input else "")
        self.configure(settings)

    def model_sessions(self) -> list:
        return [self.session]

    def configure(self, settings: Settings) -> None:
        self.blend = settings.blend
        self.face_type = settings.swap.dfm_face_type
        self.morph = float(settings.swap.morph)
        if self.morph_input is None and self.morph != MORPH_DEFAULT:
            log.info("%s is not an AMP model: morph has no effect", self.path.name)

    def set_source(self, source: SourceFace) -> None:
        """The identity is trained into the model: the source photo is not used."""

    def _run(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        def feeds(batch: np.ndarray) -> dict[str, np.ndarray]:
            values = {self._input: batch}
            if self.morph_input is not None:
                values[self.morph_input] = np.array([self.morph], np.float32)
            return values

        if self.batched or len(crops) == 1:
            outputs = self.session.run(feeds(crops))
        else:
            runs = [self.session.run(feeds(crops[i:i + 1])) for i in range(len(crops))]
            outputs = [np.concatenate([run[k] for run in runs]) for k in range(3)]
        face_mask, celeb, celeb_mask = (outputs[i] for i in self._order)
        return face_mask, celeb, celeb_mask

    def swap(self, frame: Frame, faces: list[Face]) -> list[FaceLayer]:
        if not faces:
            return []
        size = self.resolution
        matrices = [transform_matrix(landmarks68(face.landmarks), size, self.face_type) for face in faces]
        crops = np.stack([cv2.warpAffine(frame.image, matrix, (size, size), flags=cv2.INTER_CUBIC,
                                         borderMode=cv2.BORDER_REPLICATE) for matrix in matrices])
        face_mask, celeb, celeb_mask = self._run(crops.astype(np.float32) * np.float32(1.0 / 255.0))
        layers = []
        for index, (face, matrix) in enumerate(zip(faces, matrices, strict=True)):
            x0, y0, x1, y1 = face.box
            box = (max(0, x0 - 1), max(0, y0 - 1), min(frame.width, x1 + 1), min(frame.height, y1 + 1))
            if box[2] - box[0] < 8 or box[3] - box[1] < 8:
                continue
            image = (np.clip(celeb[index], 0, 1) * 255 + 0.5).astype(np.uint8)
            # DeepFaceLive FaceMerger: the face mask (source) times the celeb mask.
            mask = (np.clip(face_mask[index], 0, 1) * np.clip(celeb_mask[index], 0, 1)).reshape(size, size)
            alpha = oval_mask(face.landmarks, box, face.size, self.blend)
            alpha *= paste_region(mask.astype(np.float32), matrix, box, cv2.INTER_LINEAR)
            alpha *= crop_coverage(size, matrix, box)
            layers.append(FaceLayer(box=box, image=paste_region(np.ascontiguousarray(image), matrix, box),
                                    alpha=np.clip(alpha, 0, 1), face=face))
        return layers

    def close(self) -> None:
        pass
