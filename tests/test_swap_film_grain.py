"""A clean photo face on a grainy film clip keeps the film's grain (issue 13; s31's blind judge on
s42 over d20: "an evenly pinkish soft patch against the grainy film look").

The media's film clip (d20) reaches us as 480p H.264: its grain is mostly gone (the median skin
pixel's band is under half a grey level at 1-2 px) and the written swap carries what is left at
0.97-1.00 of the camera's (benchmarks/results/s32-film). This guards the coarser case: d20's frame
with strong film grain added (clumps of 2 px, 8 grey levels RMS: more than any clip of the media),
s42's photo swapped on it by the real swapper and blend stage. The new face's skin must be nearly
as grainy as the camera's at 2 and 4 px. The camera's band just below the split (crossover_fill)
carries it: without it the face read 0.73 and 0.86 of the camera's (main 0.87 and 0.91).

The grain itself (the output with grain less the output without) is carried at 0.77 at 2 px and 0.60 at
4 px: coarser than the crossover the face keeps its own clean band, a finer and fainter grain than the
camera's at 3x. That is a known shortfall (xfail, strict), not fixed: no camera-only detector told such
grain from a webcam's own skin band (benchmarks/results/s32-film).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from benchmarks import realism
from realtime.faces.source import SourceLibrary
from realtime.settings import FaceSettings
from tests.conftest import frame_of, swapped_picture


def _film_grain(image: np.ndarray, clump: float, level: float, seed: int = 1) -> np.ndarray:
    """`image` with luma grain: white noise blurred by a Gaussian of `clump` px, `level` grey levels
    RMS, added to B, G and R alike."""
    noise = cv2.GaussianBlur(np.random.default_rng(seed).normal(0, 1, image.shape[:2]).astype(np.float32),
                             (0, 0), clump)
    noise *= level / float(noise.std())
    return np.clip(image.astype(np.float32) + noise[:, :, None], 0, 255).astype(np.uint8)


def _bands(grey: np.ndarray, mask: np.ndarray) -> list[float]:
    """RMS over `mask` of the difference-of-Gaussians bands at 1, 2 and 4 px (I - G1, G1 - G2, G2 - G4)."""
    blurs = [grey] + [cv2.GaussianBlur(grey, (0, 0), s) for s in (1.0, 2.0, 4.0)]
    return [float(np.sqrt(np.mean((blurs[k] - blurs[k + 1])[mask] ** 2))) for k in range(3)]


@pytest.fixture(scope="module")
def grainy_swap():
    """(clean frame, grainy frame, face, output on the clean frame, output on the grainy one): the face
    found on the clean frame for both, so that the two outputs differ by the grain alone."""
    from realtime.faces import create_detector

    clean = frame_of("d20.mp4", 30)
    image = _film_grain(clean, clump=2.0, level=8.0)
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    library = SourceLibrary()
    try:
        faces = detector.detect(clean)
        assert faces
        outputs = [swapped_picture(library, picture, faces) for picture in (clean, image)]
    finally:
        detector.close()
        library.close()
    return clean, image, faces[0], outputs[0], outputs[1]


def test_a_photo_face_on_a_grainy_film_clip_is_as_grainy_as_the_camera(grainy_swap):
    _, image, face, _, output = grainy_swap
    skin = realism.skin_regions(face.landmarks, realism.lab(image))["skin"]
    out, camera = _bands(realism.grey(output), skin), _bands(realism.grey(image), skin)
    ratios = [o / c for o, c in zip(out, camera, strict=True)]
    # 1, 2, 4 px: main 1.03, 0.87, 0.91; without the crossover fill 0.97, 0.73, 0.86.
    assert ratios[1] >= 0.8, ratios
    assert ratios[2] >= 0.85, ratios
    # ... and not grainier than the camera (the fill and the fine match add the camera's band, no more).
    assert max(ratios) <= 1.2, ratios


@pytest.mark.xfail(strict=True, reason="issue 13, s32-film: coarse film grain is carried at 0.60 of the camera's "
                   "at 4 px (0.77 at 2 px); no camera-only detector told such grain from the skin's own band")
def test_the_coarse_film_grain_itself_reaches_the_new_face(grainy_swap):
    # The grain alone: the output on the grainy frame less the output on the clean one (the same face,
    # the same points), against the grain added to the camera. main: 1, 2, 4 px 1.08, 0.77, 0.60 (without
    # the crossover fill 0.96, 0.54, 0.41)
    # (the whole-skin band above hides it: the new face's own features fill that band).
    clean, image, face, clean_output, output = grainy_swap
    skin = realism.skin_regions(face.landmarks, realism.lab(clean))["skin"]
    carried = _bands(realism.grey(output) - realism.grey(clean_output), skin)
    added = _bands(realism.grey(image) - realism.grey(clean), skin)
    ratios = [o / c for o, c in zip(carried, added, strict=True)]
    assert ratios[1] >= 0.8 and ratios[2] >= 0.8, ratios
