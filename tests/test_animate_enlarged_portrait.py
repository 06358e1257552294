"""A portrait smaller than the output (s42, 512 px, in a 1280x720 output: enlarged 1.41x) is animated at its own
size and the finished frame enlarged once (`Portrait.to_output`): a still driver leaves exactly the fitted portrait,
a moving head leaves the backdrop and the photo's straight edge where they are (main's output-size mesh bent the
photo's edge by up to 172 levels on d3), and the moved face keeps the still portrait's sharpness."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from realtime.animate.mesh import MeshAnimator, fit_picture
from realtime.frame import Frame
from realtime.settings import FaceSettings, Settings
from tests.conftest import detect_one, head_moved, media, read_video

pytestmark = pytest.mark.media

SIZE = (1280, 720)


def _laplacian(image: np.ndarray) -> float:
    return float(np.mean(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.CV_64F) ** 2))


@pytest.fixture(scope="module")
def driven(library):
    """s42 at 1280x720: its fitted picture and face box, and the outputs for d9's frame 0 (twice) and the same
    frame tilted by 8 degrees and moved right by a tenth of the face (a head move, no expression)."""
    from realtime.faces import create_detector

    detector = create_detector(FaceSettings(min_confidence=0.3), static=True)
    try:
        still = read_video(media("d9.mp4"))[0]
        reference = detect_one(detector, still)
        moved = head_moved(still, reference, 8.0, 1.0, 0.1)
        moved_face = detect_one(detector, moved)
    finally:
        detector.close()
    source = library.get(str(media("s42.jpg")))
    animator = MeshAnimator(Settings(mode="animate").replace(portrait_size=SIZE))
    animator.set_source(source)
    outputs = []
    for index, (image, face) in enumerate([(still, reference), (still, reference), (moved, moved_face)]):
        outputs.append(animator.animate(Frame(index=index, image=image, capture_ns=0, pts=index / 30,
                                              faces=[face]), [face]).copy())
    fitted, landmarks = fit_picture(source.image, source.face.landmarks.astype(np.float64), SIZE)
    (x0, y0), (x1, y1) = np.floor(landmarks[:, :2].min(axis=0)).astype(int), np.ceil(landmarks[:, :2].max(axis=0)).astype(int)
    return {"animator": animator, "fitted": fitted, "box": (x0, y0, x1, y1), "outputs": outputs,
            "left": (SIZE[0] - round(source.image.shape[1] * SIZE[1] / source.image.shape[0])) // 2}


def test_a_still_driver_leaves_the_enlarged_portrait_exactly_as_fitted(driven):
    for output in driven["outputs"][:2]:
        assert output.shape == (SIZE[1], SIZE[0], 3)
        assert np.array_equal(output, driven["fitted"])


def test_a_head_move_leaves_the_backdrop_and_the_photos_edge_where_they_are(driven):
    """The head moves (the face does: PSNR under 30 dB over its box), the blurred backdrop beside the 720 px
    photo and the photo's straight edge do not (main's mesh over the whole output bent them: backdrop 10 / 126
    levels, the photo's edge 161 / 96 levels on this move, left / right)."""
    moved, fitted, left = driven["outputs"][2], driven["fitted"], driven["left"]
    assert left == 280
    x0, y0, x1, y1 = driven["box"]
    face_error = np.mean((moved[y0:y1, x0:x1].astype(np.float64) - fitted[y0:y1, x0:x1]) ** 2)
    assert 10 * np.log10(255.0 ** 2 / face_error) < 30  # the face moved
    difference = np.abs(moved.astype(np.int16) - fitted).max(axis=2)
    assert difference[:, :left].max() == 0 and difference[:, -left:].max() == 0  # the backdrop
    assert difference[:, left:left + 2].max() <= 16 and difference[:, -left - 2:-left].max() <= 16  # the photo's edge
    # The new path: animated at the portrait's own size (512 px), half the pixels to move.
    assert driven["animator"]._portrait.image.shape[:2] == (512, 512)


def test_a_moved_face_keeps_the_still_portraits_sharpness(driven):
    """The face moved by a head turn and shift is as sharp as the still portrait (Laplacian energy over the face
    box, >= 0.95 of the still's: 1.00; main's warp at the output size 0.98; the moved part enlarged bilinearly, or
    the whole frame enlarged bicubically, 0.74)."""
    x0, y0, x1, y1 = driven["box"]
    still = _laplacian(driven["fitted"][y0:y1, x0:x1])
    moved = _laplacian(driven["outputs"][2][y0:y1, x0:x1])
    assert moved >= 0.95 * still, (moved, still)
