"""Face enhancement (GFPGAN-class restorers, 512 px FFHQ-aligned) of a swapped face crop.

The neural swapper renders a 128 px face: on a 720p frame that is visibly soft. The enhancer
takes the swapped crop into the FFHQ 512 alignment, restores detail, and hands back the 512 crop
(the paste-back then samples from 512 px instead of 128). With `every = N` the model runs on
every Nth frame of a face; in between, its last correction (enhanced minus input, in the
pose-normalised crop, so it stays on the face when the head moves) is added to the new crop.
"""

from __future__ import annotations

import cv2
import numpy as np

from realtime.inference.align import FFHQ_UNIT, arcface_template, compose, similarity_matrix

SIZE = 512


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

    def enhance(self, crop: np.ndarray, matrix: np.ndarray, key: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Enhance an ArcFace-aligned crop whose frame -> crop map is `matrix`.

        Returns the enhanced 512 px crop (BGR uint8) and its frame -> crop map. `key` tells
        faces apart (the track id) for the every-Nth-frame reuse.
        """
        to_ffhq = similarity_matrix(arcface_template(crop.shape[0]), FFHQ_UNIT * SIZE)
        big = cv2.warpAffine(crop, to_ffhq, (SIZE, SIZE), flags=cv2.INTER_CUBIC,
                             borderMode=cv2.BORDER_REPLICATE)
        count = self._counts.get(key, 0)
        self._counts[key] = count + 1
        base = big.astype(np.float32)
        if count % self.every == 0 or key not in self._corrections:
            correction = self._run(big) - base
            self._corrections[key] = correction
        else:
            correction = self._corrections[key]
        result = np.clip(base + correction, 0, 255).astype(np.uint8)
        return result, compose(to_ffhq, matrix)

    def forget(self, keep: set[int]) -> None:
        """Drop the state of faces that are gone."""
        for key in list(self._corrections):
            if key not in keep:
                self._corrections.pop(key, None)
                self._counts.pop(key, None)
