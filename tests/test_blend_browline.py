"""A straight line along the top of the target's erased brows (issue 13, s21-browline): s10 (a
painting) on d10 showed a light line with a dark bar under it along the top of d10's brows.

The blend stage erases the target's brows from the picture under the layer (erase_brows,
realtime/faces/brows.py), but with the face-shape transfer the camera detail reads the camera's
own, unmoved pixels (FaceLayer.grain), where the brows were not erased: their band came back on
the new face along the brow's straight top edge. Measured as the output's band-pass step across
the camera's brow top edge, in grey levels (the camera's own step there: ~27-32).

Real photo and frame (s10, d10 frame 45 from ../shared/media), MediaPipe, the real swapper and
blend stage.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from realtime.blend.stage import BlendStage
from realtime.faces.topology import topology
from realtime.frame import Frame
from realtime.settings import FaceSettings, Settings
from realtime.swap.mesh import MeshSwapper
from tests.conftest import frame_of, media


def band(grey: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(grey, (0, 0), 1.0) - cv2.GaussianBlur(grey, (0, 0), 4.0)


def brow_top_steps(output: np.ndarray, camera: np.ndarray, points: np.ndarray, size: float) -> list[float]:
    """Per brow, the output's band just above the camera's brow top edge minus just below it
    (mean over the brow's middle 60%): a line the camera's brow edge leaves on the new face."""
    grey = [cv2.cvtColor(x, cv2.COLOR_BGR2GRAY).astype(np.float32) for x in (output, camera)]
    ours = band(grey[0])
    steps = []
    for brow in (topology().right_eyebrow, topology().left_eyebrow):
        p = points[brow, :2]
        span = float(np.ptp(p[:, 0]))
        top, bottom = int(p[:, 1].min() - 0.05 * size), int(p[:, 1].max() + 0.02 * size)
        values = []
        for x in range(int(p[:, 0].min() + 0.2 * span), int(p[:, 0].max() - 0.2 * span)):
            column = np.diff(grey[1][top:bottom, x])
            y = top + int(np.argmin(column[: len(column) * 2 // 3]))  # the steepest darkening: the top edge
            values.append(ours[y - 2:y + 1, x].mean() - ours[y + 2:y + 5, x].mean())
        steps.append(float(np.mean(values)))
    return steps


def blended_s10_on_d10(library, settings: Settings) -> tuple[np.ndarray, np.ndarray, object]:
    """s10 swapped onto d10's frame 45 and blended: (output, camera frame, face); skips where the
    frame has no face-shape transfer (the camera detail then reads the erased target)."""
    from realtime.faces import create_detector

    image = frame_of("d10.mp4", 45)
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    try:
        face = detector.detect(image)[0]
    finally:
        detector.close()
    swapper = MeshSwapper(settings)
    try:
        swapper.set_source(library.get(str(media("s10.jpg"))))
        frame = Frame(index=0, image=image, capture_ns=0, pts=0.0, faces=[face])
        frame.layers = swapper.swap(frame, [face])
        if frame.layers[0].grain_points is None:
            pytest.skip("no face-shape transfer on this frame: the camera detail reads the erased target")
        output = BlendStage(settings).process(frame).output
    finally:
        swapper.close()
    return output, image, face


def test_no_line_along_the_top_of_the_targets_erased_brows(library):
    output, image, face = blended_s10_on_d10(library, Settings())
    steps = brow_top_steps(output, image, face.landmarks, face.size)
    # integrate: 7.3 / 9.0 levels (a line seen at 1x); erased in the camera's picture too: 3.3 / 4.4.
    assert max(steps) < 5.5, steps


def test_the_camera_grain_pictures_brows_are_erased_on_its_luma_alone(library, monkeypatch):
    """The camera's grain picture (FaceLayer.grain) has the target's brows erased on its luma alone:
    the camera detail reads nothing else of it, and one plane is a third of the erase's fill blend
    (issue 13's budget: the brow erase 4.1 -> 3.4 ms on d13 + s42; the output within 1 level at the
    99.9th percentile, unseen at 3x on the written files; benchmarks/results/s23-cheaper). The line
    along the top of the erased brows stays away (the bound above)."""
    import realtime.blend.stage as stage

    planes = []
    real_erase = stage.erase_brows

    def recorded(picture, *args, **kwargs):
        planes.append(1 if picture.ndim == 2 else picture.shape[2])
        return real_erase(picture, *args, **kwargs)

    monkeypatch.setattr(stage, "erase_brows", recorded)
    output, image, face = blended_s10_on_d10(library, Settings())
    assert planes == [3, 1]  # the picture under the layer in colour, the grain picture's luma
    assert max(brow_top_steps(output, image, face.landmarks, face.size)) < 5.5
