"""Virtual camera output, against a registered fake pyvirtualcam backend."""

from __future__ import annotations

import time

import numpy as np
import pytest

from realtime.errors import OutputError
from realtime.frame import Frame
from realtime.output import OutputFormat
from realtime.output.virtualcam import VirtualCameraOutput, install_hint
from tests import fake_vcam


@pytest.fixture
def fake_backend():
    import pyvirtualcam

    backend = fake_vcam.register()
    yield backend
    pyvirtualcam.camera.BACKENDS.pop("facecam-fake", None)


def test_sends_bgr_frames_of_the_stream_size_at_its_rate(fake_backend):
    output = VirtualCameraOutput(OutputFormat(size=(321, 241), fps=50, live=True), backend="facecam-fake")
    try:
        picture = np.zeros((241, 321, 3), dtype=np.uint8)
        picture[..., 2] = 255  # red in BGR
        output.write(Frame(0, picture, 0))
        time.sleep(0.5)
    finally:
        output.close()
    camera = fake_backend.instances[-1]
    assert (camera.width, camera.height, camera.fps) == (320, 240, 50)  # even sizes
    times = [t for t, _ in camera.sent]
    assert 15 <= len(times) <= 35  # about 25 frames in 0.5 s at 50 fps
    last = camera.sent[-1][1].reshape(camera.height, camera.width, 3)  # backends get flat buffers
    assert last.shape == (240, 320, 3) and last[10, 10].tolist() == [0, 0, 255]
    assert camera.closed


def test_a_stalled_pipeline_still_gets_frames_at_the_target_rate(fake_backend):
    output = VirtualCameraOutput(OutputFormat(size=(64, 48), fps=40, live=True), backend="facecam-fake")
    try:
        output.write(Frame(0, np.full((48, 64, 3), 7, dtype=np.uint8), 0))
        time.sleep(0.6)  # nothing new arrives: the pipeline "stalled"
    finally:
        output.close()
    camera = fake_backend.instances[-1]
    assert len(camera.sent) >= 15
    assert output.repeats >= 10


def test_no_backend_says_how_to_install_one():
    with pytest.raises(OutputError, match="no virtual camera available") as caught:
        VirtualCameraOutput(OutputFormat(size=(64, 48), fps=30, live=True), backend=None,
                            device="/dev/does-not-exist-facecam")
    assert install_hint() in str(caught.value)
    assert "\n" not in str(caught.value)
