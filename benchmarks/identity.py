"""Identity distance with a model independent of facecam: dlib's 128-d face-recognition ResNet
(the model behind the `face_recognition` package; distance < 0.6 conventionally means "same
person"). dlib finds the face and its 5 key points itself (HOG detector + 5-point shape
predictor), so nothing of facecam's own landmarks leaks into the measurement.

Needs the `eval` extra: dlib-bin and face-recognition-models.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np


class IdentityModelMissing(RuntimeError):
    pass


class IdentityModel:
    def __init__(self, upsample: int = 1) -> None:
        try:
            import dlib
            import face_recognition_models as models
        except ImportError as error:
            raise IdentityModelMissing(
                "the identity model needs the eval extra: pip install -e '.[eval]'") from error
        self._dlib = dlib
        self._models = models
        self.upsample = upsample

    @cached_property
    def _detector(self):
        return self._dlib.get_frontal_face_detector()

    @cached_property
    def _shape(self):
        return self._dlib.shape_predictor(self._models.pose_predictor_five_point_model_location())

    @cached_property
    def _encoder(self):
        return self._dlib.face_recognition_model_v1(self._models.face_recognition_model_location())

    def embed(self, image_bgr: np.ndarray, box: tuple[int, int, int, int] | None = None) -> np.ndarray | None:
        """128-d descriptor of the largest face (or of the face in `box`, x0,y0,x1,y1, when dlib's
        own detector misses it); None when there is no face."""
        rgb = np.ascontiguousarray(image_bgr[:, :, ::-1])
        rects = list(self._detector(rgb, self.upsample))
        if rects:
            rect = max(rects, key=lambda r: r.width() * r.height())
        elif box is not None:
            rect = self._dlib.rectangle(*(int(v) for v in box))
        else:
            return None
        shape = self._shape(rgb, rect)
        return np.asarray(self._encoder.compute_face_descriptor(rgb, shape), dtype=np.float32)

    @staticmethod
    def distance(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.linalg.norm(a - b))
