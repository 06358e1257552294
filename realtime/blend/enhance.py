"""Face enhancement (GFPGAN-class restorers, 512 px FFHQ-aligned) of a swapped face crop.

The neural swapper renders a 128 px face: on a 720p frame that is visibly soft. As FaceFusion's
face_enhancer does (facefusion/processors/modules/face_enhancer/core.py enhance_face, run after
the swapper has pasted its face), the enhancer's input is the 512 px FFHQ-aligned crop of the
FRAME with the swapped face pasted in: real pixels around the face (hair, forehead, jaw), not
the 128 px swap crop upscaled with a smeared border. It restores detail and hands back the 512
crop (the paste-back then samples from 512 px instead of 128). With `every = N` the model runs on
every Nth frame of a face; in between, its last correction (enhanced minus input, in the
pose-normalised crop, so it stays on the face when the head moves) is added to the new crop.
"""

from __future__ import annotations

import cv2
import numpy as np

from realtime.inference.align import FFHQ_UNIT, compose, similarity_matrix

SIZE = 512


def pasted_crop(image: np.ndarray, to_ffhq: np.ndarray, crop: np.ndarray, matrix: np.ndarray,
                margin: int = 6) -> np.ndarray:
    """The 512 FFHQ crop of `image` as it is once `crop` (frame -> crop map `matrix`) is pasted
    into it with a softened box mask (FaceFusion's paste_back with create_box_mask)."""
    frame_part = cv2.warpAffine(image, to_ffhq, (SIZE, SIZE), flags=cv2.INTER_CUBIC,
                                borderMode=cv2.BORDER_REPLICATE)
    crop_to_ffhq = compose(to_ffhq, cv2.invertAffineTransform(matrix))
    swapped = cv2.warpAffine(crop, crop_to_ffhq, (SIZE, SIZE), flags=cv2.INTER_CUBIC,
                             borderMode=cv2.BORDER_REPLICATE)
    size = crop.shape[0]
    box = np.zeros((size, size), np.float32)
    box[margin:size - margin, margin:size - margin] = 1.0
    box = cv2.GaussianBlur(box, (0, 0), max(margin / 2, 0.5))
    alpha = cv2.warpAffine(box, crop_to_ffhq, (SIZE, SIZE), flags=cv2.INTER_LINEAR)[:, :, None]
    return (swapped * alpha + frame_part * (1.0 - alpha) + 0.5).astype(np.uint8)


class FaceEnhancer:
    """Wraps a ModelSession with GFPGAN's interface: input (1, 3, 512, 512) RGB in [-1, 1]."""

    def __init__(self, session, every: int = 1) -> None:
        self.session = session
        self.every = max(1, int(every))
        self._input = session.inputs[0].name
        self._corrections: dict[int, np.ndarray] = {}
        self._counts: dict[int, int] = {}
        self.runs = 0

    def _run(self, crop: np.ndarray) -> np.ndarray:
        blob = crop[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32) * (2.0 / 255.0) - 1.0
        (output,) = self.session.run({self._input: blob})[:1]
        self.runs += 1
        image = (np.clip(output[0], -1.0, 1.0) + 1.0) * 127.5
        return image.transpose(1, 2, 0)[:, :, ::-1].astype(np.float32)

    def enhance(self, image: np.ndarray, points: np.ndarray, crop: np.ndarray, matrix: np.ndarray,
                key: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Enhance the face whose five key points are `points` in `image` (the frame), after the
        swapper's `crop` (frame -> crop map `matrix`) is pasted there.

        Returns the enhanced 512 px FFHQ crop (BGR uint8) and its frame -> crop map. `key`
        tells faces apart (the track id) for the every-Nth-frame reuse.
        """
        to_ffhq = similarity_matrix(points, FFHQ_UNIT * SIZE)
        big = pasted_crop(image, to_ffhq, crop, matrix)
        count = self._counts.get(key, 0)
        self._counts[key] = count + 1
        base = big.astype(np.float32)
        if count % self.every == 0 or key not in self._corrections:
            correction = self._run(big) - base
            self._corrections[key] = correction
        else:
            correction = self._corrections[key]
        result = np.clip(base + correction, 0, 255).astype(np.uint8)
        return result, to_ffhq

    def forget(self, keep: set[int]) -> None:
        """Drop the state of faces that are gone."""
        for key in list(self._corrections):
            if key not in keep:
                self._corrections.pop(key, None)
                self._counts.pop(key, None)
