"""The neural swapper: InsightFace's inswapper_128 (user-downloaded weights, ONNX).

Once per source photo: the ArcFace embedding (w600k_r50, 112 px aligned crop), projected by
the swapper's `emap` matrix (the last initializer of its graph) and normalised into the
`source` latent. Per frame: every selected face is aligned by its 5 key points to the 128 px
ArcFace template, all faces go through the swapper in one batched run when the model's batch
dimension allows it, and each result is drawn back through the inverse transform inside the
face box as a FaceLayer; the blend stage then matches colour and composites, as for the mesh
swapper. Optionally a GFPGAN-class enhancer restores the 128 px result at 512 px first.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from realtime.faces.source import SourceFace
from realtime.faces.topology import five_points, topology
from realtime.frame import Box, Face, FaceLayer, Frame
from realtime.inference.align import align, crop_coverage, paste_region
from realtime.inference.errors import DeviceError, ModelMismatchError
from realtime.inference.session import SessionConfig, create_session, is_static
from realtime.inference.store import ModelStore
from realtime.settings import BlendSettings, Settings

log = logging.getLogger(__name__)

SWAP_SIZE = 128
RECOGNISER_SIZE = 112
RECOGNISER = "w600k_r50"
ENHANCER = "gfpgan_1_4"


def read_emap(path: Path) -> np.ndarray:
    """The (512, 512) `emap` matrix: by InsightFace's convention, the graph's last initializer."""
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise DeviceError("the inswapper needs the onnx package to read its emap: "
                          "pip install 'facecam[cpu]' (or [gpu])") from None
    model = onnx.load(str(path))
    emap = numpy_helper.to_array(model.graph.initializer[-1]).astype(np.float32)
    if emap.shape != (512, 512):
        raise ModelMismatchError(f"{Path(path).name}: the last initializer has shape {emap.shape}, "
                                 "not the (512, 512) emap an inswapper model carries")
    return emap


# The mask is built at 1/_MASK_STEP resolution: it is eroded and blurred by tens of pixels anyway
# (a full-resolution erosion with a 70 px kernel costs tens of ms on a 720p face).
_MASK_STEP = 4


def oval_mask(landmarks: np.ndarray, box: Box, face_size: float, blend: BlendSettings) -> np.ndarray:
    """(h, w) float32 alpha over `box`: the face oval, eroded and feathered in proportion to the
    face. Unlike the mesh swapper's mask, no holes for the eyes and the mouth: the neural swap
    renders them itself; with `mouth_mask` the target's own lips are kept."""
    top = topology()
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    small = (max(1, -(-width // _MASK_STEP)), max(1, -(-height // _MASK_STEP)))
    local = (landmarks[:, :2] - np.array([x0, y0], np.float32)) * (16.0 / _MASK_STEP)
    mask = np.zeros((small[1], small[0]), np.uint8)
    cv2.fillPoly(mask, [np.round(local[top.face_oval]).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=4)
    if blend.mouth_mask:
        cv2.fillPoly(mask, [np.round(local[top.outer_lips]).astype(np.int32)], 0, lineType=cv2.LINE_AA, shift=4)
    feather = blend.feather * face_size / _MASK_STEP
    erode = int(blend.erosion * face_size / _MASK_STEP + feather)
    if erode >= 1:
        mask = cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * erode + 1, 2 * erode + 1)))
    alpha = mask.astype(np.float32) * (1.0 / 255.0)
    if feather / 2 > 0.3:
        alpha = cv2.GaussianBlur(alpha, (0, 0), feather / 2)
    return cv2.resize(alpha, (width, height), interpolation=cv2.INTER_LINEAR)


class InswapperSwapper:
    name = "inswapper"

    def __init__(self, settings: Settings, store: ModelStore | None = None) -> None:
        self._store = store or ModelStore.from_settings(settings)
        inference = settings.inference
        # Every missing file is reported before anything heavy is loaded.
        for name in (inference.swap_model, RECOGNISER) + ((ENHANCER,) if inference.enhancer == "gfpgan" else ()):
            self._store.require(name)
        self._config = SessionConfig.from_settings(settings)
        self.recogniser = self._session(RECOGNISER)
        self.swap_model = ""
        self.enhancer = None
        self._latent: np.ndarray | None = None
        self._embedding: np.ndarray | None = None
        self.configure(settings)

    def model_sessions(self) -> list:
        """Every ONNX Runtime session this swapper runs (the engine reports their providers)."""
        sessions = [self.recogniser, self.swapper]
        if self.enhancer is not None:
            sessions.append(self.enhancer.session)
        return sessions

    def _session(self, name: str):
        session = create_session(self._store.require(name), self._config, name=name)
        self._store.spec(name).check_io({t.name: t.shape for t in session.inputs},
                                        {t.name: t.shape for t in session.outputs})
        return session

    def _load_swapper(self, name: str) -> None:
        self.swapper = self._session(name)
        self.emap = read_emap(self._store.require(name))
        self.swap_model = name
        # A fixed batch dimension of 1 (the released model) means one run per face.
        self.batched = not is_static(self.swapper.input("target").shape[:1])
        # A dynamic-batch export takes one source row per target row: the latent is tiled to N.
        self._tile_source = self.batched and not is_static(self.swapper.input("source").shape[:1])
        self._target_type = self.swapper.input("target").dtype
        self._source_type = self.swapper.input("source").dtype
        if self._embedding is not None:
            self._latent = self._project(self._embedding)

    def prepare(self, settings: Settings) -> None:
        """Engine.update: the weights `settings` name must be there before they are switched to."""
        store = ModelStore.from_settings(settings)
        inference = settings.inference
        for name in (inference.swap_model,) + ((ENHANCER,) if inference.enhancer == "gfpgan" else ()):
            store.require(name)

    def configure(self, settings: Settings) -> None:
        """Blend options, enhancer on/off and the swapper weights change live (the device needs
        a new swapper: it is fixed when the sessions are created)."""
        inference = settings.inference
        self.blend = settings.blend
        if inference.swap_model != self.swap_model:
            self._load_swapper(inference.swap_model)
        if inference.enhancer == "gfpgan" and self.enhancer is None:
            from realtime.blend.enhance import FaceEnhancer

            self.enhancer = FaceEnhancer(self._session(ENHANCER), inference.enhance_every)
        elif inference.enhancer == "none":
            self.enhancer = None
        if self.enhancer is not None:
            self.enhancer.every = inference.enhance_every

    # -- source ------------------------------------------------------------------------------
    def embedding(self, image: np.ndarray, face: Face) -> np.ndarray:
        """The L2-normalised ArcFace embedding (512,) of `face` in `image`."""
        crop, _ = align(image, five_points(face.landmarks), RECOGNISER_SIZE)
        blob = (crop[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32) - 127.5) / 127.5
        (vector,) = self.recogniser.run({self.recogniser.inputs[0].name: blob})[:1]
        vector = vector.reshape(-1).astype(np.float32)
        return vector / max(float(np.linalg.norm(vector)), 1e-6)

    def _project(self, embedding: np.ndarray) -> np.ndarray:
        latent = embedding[None] @ self.emap
        return (latent / max(float(np.linalg.norm(latent)), 1e-6)).astype(self._source_type)

    def set_source(self, source: SourceFace) -> None:
        self._embedding = self.embedding(source.image, source.face)
        self._latent = self._project(self._embedding)

    # -- frames ------------------------------------------------------------------------------
    def _swap_crops(self, blobs: np.ndarray) -> np.ndarray:
        def feeds_for(batch: np.ndarray) -> dict[str, np.ndarray]:
            latent = np.repeat(self._latent, len(batch), axis=0) if self._tile_source else self._latent
            return {"target": batch.astype(self._target_type), "source": latent}

        if self.batched or len(blobs) == 1:
            return self.swapper.run(feeds_for(blobs))[0]
        return np.concatenate([self.swapper.run(feeds_for(blobs[i:i + 1]))[0] for i in range(len(blobs))])

    def swap(self, frame: Frame, faces: list[Face]) -> list[FaceLayer]:
        if self._latent is None or not faces:
            return []
        aligned = [align(frame.image, five_points(face.landmarks), SWAP_SIZE) for face in faces]
        blobs = np.stack([crop[:, :, ::-1].transpose(2, 0, 1) for crop, _ in aligned]).astype(np.float32)
        blobs *= 1.0 / 255.0
        results = self._swap_crops(blobs)
        layers = []
        for face, (_, matrix), result in zip(faces, aligned, results, strict=True):
            crop = (np.clip(result.astype(np.float32).transpose(1, 2, 0), 0, 1) * 255 + 0.5).astype(np.uint8)
            crop = np.ascontiguousarray(crop[:, :, ::-1])
            paste_matrix = matrix
            if self.enhancer is not None:
                crop, paste_matrix = self.enhancer.enhance(frame.image, five_points(face.landmarks), crop,
                                                           matrix, key=face.track_id)
            layer = self._layer(frame, face, crop, paste_matrix, matrix)
            if layer is not None:
                layers.append(layer)
        if self.enhancer is not None:
            self.enhancer.forget({face.track_id for face in faces})
        return layers

    def _layer(self, frame: Frame, face: Face, crop: np.ndarray, paste_matrix: np.ndarray,
               swap_matrix: np.ndarray) -> FaceLayer | None:
        x0, y0, x1, y1 = face.box
        box = (max(0, x0 - 1), max(0, y0 - 1), min(frame.width, x1 + 1), min(frame.height, y1 + 1))
        if box[2] - box[0] < 8 or box[3] - box[1] < 8:
            return None
        image = paste_region(crop, paste_matrix, box)
        alpha = oval_mask(face.landmarks, box, face.size, self.blend)
        alpha *= crop_coverage(SWAP_SIZE, swap_matrix, box)  # only where the swapper saw the face
        return FaceLayer(box=box, image=image, alpha=alpha, face=face)

    def close(self) -> None:
        self._latent = None
