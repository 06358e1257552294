"""The blend stage: colour- and light-match each rendered face to the target and composite it."""

from __future__ import annotations

import cv2
import numpy as np

from realtime.blend.color import ColourSmoother, ToneMemory, recolour_halved
from realtime.blend.composite import composite, poisson_composite, shrink
from realtime.blend.detail import CROSSOVER, camera_detail, source_detail, source_detail_gain, split_sigma
from realtime.blend.kept import shift_kept
from realtime.blend.kernels import as_grey
from realtime.blend.mask import skin_mask
from realtime.blend.mouth import mouth_membrane
from realtime.faces.brows import erase_brows, feature_band
from realtime.frame import FaceLayer, Frame
from realtime.settings import Settings


def detail_on_luma(image: np.ndarray, camera: np.ndarray, layer: FaceLayer, strength: float) -> np.ndarray:
    """`image` (the recoloured face over the box) with its own features' band raised to the
    camera's crispness and its finest band the camera's (`camera`: the target's pixels), both on
    the luma alone.

    Why the luma: the camera's grain, its lens's sharpness and the features' edges live there;
    a webcam's or a file's chroma is sent at half resolution (4:2:0) and has next to nothing in
    the band exchanged. One single-channel chain instead of three channels cut the four steps
    from 10.7 to ~4 ms per 720p face (benchmarks/swap_cost.py). The change is added equally to
    B, G and R: with BT.601's luma weights summing to 1 that moves the luma by exactly the change
    and leaves both chroma differences (B - Y, R - Y) as they were."""
    sigma = split_sigma(layer.scale)
    luma, camera_luma = as_grey(image), as_grey(camera)
    gain = source_detail_gain(luma, camera_luma, layer.alpha, sigma)
    detailed = source_detail(luma, 1.0 + strength * (gain - 1.0), sigma)
    # The target's own brows and lash lines are not grain (realtime/faces/brows.py), where the
    # camera's picture has them (FaceLayer.grain_points: unmoved by the face-shape transfer, or the
    # target's brow came back through the grain as a ghost arc beside the moved one).
    points = layer.face.landmarks if layer.grain_points is None else layer.grain_points
    grain, features = feature_band(camera_luma, detailed, layer.alpha, points, layer.box,
                                   layer.face.size, sigma, band_sigma=CROSSOVER * sigma)
    detailed = camera_detail(detailed, grain, layer.scale, strength, layer.alpha, keep=features)
    change = cv2.subtract(detailed, luma, dtype=cv2.CV_16S)
    return cv2.add(image, cv2.merge([change] * 3), dtype=cv2.CV_8U)


class BlendStage:
    name = "blend"

    def __init__(self, settings: Settings) -> None:
        self._smoother = ColourSmoother()
        self._tone = ToneMemory()
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
            if reduced:
                work_target = shrink(target, layer.image.shape[1::-1])
                face_size *= layer.image.shape[1] / target.shape[1]
            # Colour statistics and shading are averages: a quarter-resolution skin mask will do.
            region = skin_mask(layer.face.landmarks, layer.box, layer.face.size, layer.alpha, step=4)
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
            image = recolour_halved(layer.image, work_target, region, settings.color_transfer, shading, face_size,
                                    lambda stats, key=track: self._smoother.update(key, stats, time_s),
                                    (layer.alpha, edge_points, edge_box, settings.feather), settings.skin_tone,
                                    (self._tone, track, time_s))
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
            # The target's own brows out of the picture under the layer (realtime/faces/brows.py):
            # the camera's grain below and the composite read it.
            erase_brows(target, layer.alpha, layer.face.landmarks, layer.box, layer.face.size, kept, image,
                        settings.opacity)
            if not settings.mouth_mask:
                image = mouth_membrane(image, target, layer.face.landmarks, layer.box, layer.face.size)
            if settings.grain > 0:
                # The camera's own pixels where the shape transfer moved the picture (FaceLayer.grain).
                camera = layer.grain if layer.grain is not None and layer.grain.shape == target.shape else target
                image = detail_on_luma(image, camera, layer, settings.grain)
            # The target's kept features (glasses frames, a closing eye) on the new face's colour.
            # (In place: `target` is the canvas under the layer, which the composite blends onto.)
            shift_kept(target, image, layer.alpha, kept, layer.face.size, kept_lines, settings.opacity)
            if settings.poisson:
                poisson_composite(canvas, layer, image, settings.opacity)
            else:
                composite(canvas, layer, image, settings.opacity)
        frame.output = canvas
        return frame

    def close(self) -> None:
        self._smoother.reset()
        self._tone.reset()


def _enlarged(piece: tuple[np.ndarray, tuple[int, int]] | None, factor: float) -> tuple[np.ndarray, tuple[int, int]] | None:
    """A (map, (x, y)) piece of a layer at its working size, at the box's size."""
    if piece is None:
        return None
    keep, (kx, ky) = piece
    size = (max(1, round(keep.shape[1] * factor)), max(1, round(keep.shape[0] * factor)))
    return cv2.resize(keep, size, interpolation=cv2.INTER_LINEAR), (round(kx * factor), round(ky * factor))
