"""The pipeline's contract, with synthetic stages of known cost."""

import contextlib
import os
import signal
import threading
import time

import numpy as np
import pytest

from realtime.errors import InputError
from realtime.metrics import Metrics
from realtime.pipeline import BoundedQueue, LatestSlot, Pipeline, SettingsBox
from realtime.settings import Settings
from tests.conftest import ListSource


class SleepStage:
    """Takes `delay` seconds and stamps the frame index into the picture's first pixel."""

    def __init__(self, name, delay=0.0, fail_every=0):
        self.name = name
        self.delay = delay
        self.fail_every = fail_every
        self.seen = []
        self.configured = 0

    def configure(self, settings):
        self.configured += 1

    def process(self, frame):
        self.seen.append(frame.index)
        if self.fail_every and frame.index % self.fail_every == 0:
            raise ValueError(f"boom on {frame.index}")
        time.sleep(self.delay)
        return frame

    def close(self):
        pass


class Sink(SleepStage):
    def __init__(self):
        super().__init__("output")
        self.frames = []

    def process(self, frame):
        self.frames.append(frame)
        return frame


def frames(count, size=(32, 24)):
    images = []
    for index in range(count):
        image = np.zeros((size[1], size[0], 3), dtype=np.uint8)
        image[0, 0] = index % 256
        images.append(image)
    return images


def run(stages, source, live, max_frames=None):
    metrics = Metrics()
    pipeline = Pipeline(source, stages, SettingsBox(Settings()), metrics, live=live, max_frames=max_frames)
    pipeline.start()
    assert pipeline.join(timeout=60)
    return metrics.snapshot()


def test_file_mode_keeps_every_frame_in_order():
    sink = Sink()
    stats = run([SleepStage("detect", 0.002), SleepStage("swap", 0.004), sink],
                ListSource(frames(40)), live=False)
    assert [f.index for f in sink.frames] == list(range(40))
    assert [int(f.image[0, 0, 0]) for f in sink.frames] == list(range(40))
    assert stats.dropped == 0 and stats.frames_out == 40


def test_live_mode_drops_instead_of_queueing():
    # Frames arrive every 10 ms; the slow stage takes 40 ms: most frames must be dropped, and
    # a frame must never wait behind a queue (latency ~ one slow stage + a slot, not growing).
    sink = Sink()
    stats = run([SleepStage("detect", 0.001), SleepStage("swap", 0.040), sink],
                ListSource(frames(60), fps=100), live=True)
    assert stats.dropped > 20
    assert stats.frames_out + stats.dropped == 60
    indices = [f.index for f in sink.frames]
    assert indices == sorted(indices)
    assert stats.end_to_end.p95 < 150  # bounded: 3-4 stage times at most, not 60 x 40 ms


def test_live_mode_paces_a_file_at_its_frame_rate():
    sink = Sink()
    start = time.monotonic()
    stats = run([sink], ListSource(frames(20), fps=50), live=True)
    elapsed = time.monotonic() - start
    assert stats.frames_out == 20
    assert elapsed >= 19 / 50 * 0.9  # 20 frames at 50 fps take about 0.38 s


def test_a_failing_stage_does_not_stop_the_pipeline():
    sink = Sink()
    stats = run([SleepStage("swap", fail_every=10), sink], ListSource(frames(50)), live=False)
    assert len(sink.frames) == 50
    assert stats.errors == {"swap: ValueError": 5}
    failed = [f.index for f in sink.frames if f.errors]
    assert failed == [0, 10, 20, 30, 40]


def test_settings_reach_stages_before_the_next_frame():
    stage = SleepStage("swap")
    box = SettingsBox(Settings())
    source = ListSource(frames(5))
    pipeline = Pipeline(source, [stage], box, Metrics(), live=False)
    box.set(Settings().replace(opacity=0.5))
    pipeline.start()
    pipeline.join(10)
    assert stage.configured == 1  # once for the version it found, not once per frame


def test_a_user_error_from_the_source_ends_the_run_with_that_error():
    class Broken(ListSource):
        def read(self):
            raise InputError("camera 3 vanished")

    failures = []
    pipeline = Pipeline(Broken(frames(1)), [Sink()], SettingsBox(Settings()), Metrics(), live=False,
                        on_failure=failures.append)
    pipeline.start()
    assert pipeline.join(10)
    assert [str(e) for e in failures] == ["camera 3 vanished"]


def test_max_frames():
    sink = Sink()
    run([sink], ListSource(frames(30)), live=False, max_frames=7)
    assert len(sink.frames) == 7


@pytest.mark.parametrize("channel", [LatestSlot(), BoundedQueue(2)])
def test_closed_channels_drain_then_end(channel):
    from realtime.pipeline import END

    sentinel = object()
    channel.put(sentinel)
    channel.close()
    assert channel.get() is sentinel
    assert channel.get() is END


def test_metrics_percentiles_match_known_delays():
    stats = run([SleepStage("detect", 0.010), Sink()], ListSource(frames(30)), live=False)
    detect = stats.stages["detect"]
    assert 9.5 <= detect.p50 <= 30
    assert detect.count == 30


@contextlib.contextmanager
def ctrl_c_after_the_second_thread_starts():
    """Ctrl-C as a user presses it: SIGINT to this process, landing while the pipeline's
    threads are being started (right after the second one). With Python's own Ctrl-C handler:
    an in-process CLI test earlier in the session may have left facecam's, which ignores a
    signal once its run has stopped."""
    started = []
    real_start = threading.Thread.start

    def start(thread):
        real_start(thread)
        if thread.name.startswith("facecam-"):
            started.append(thread.name)
            if len(started) == 2:
                os.kill(os.getpid(), signal.SIGINT)

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    threading.Thread.start = start  # type: ignore[method-assign]
    try:
        yield
    finally:
        threading.Thread.start = real_start  # type: ignore[method-assign]
        signal.signal(signal.SIGINT, previous)


def test_a_ctrl_c_while_the_threads_start_leaves_no_stage_unstarted():
    # Before: the first stages ran and the rest never started, so the caller closed the models
    # under the running ones (MediaPipe used after close: `facecam bench` crashed, exit -11).
    stages = [SleepStage("detect", 0.001), SleepStage("swap", 0.001), Sink()]
    pipeline = Pipeline(ListSource(frames(10000), live=False), stages, SettingsBox(Settings()),
                        Metrics(), live=True)
    with ctrl_c_after_the_second_thread_starts(), pytest.raises(KeyboardInterrupt):
        pipeline.start()
    assert all(thread.ident is not None for thread in pipeline.threads), "a stage never started"
    pipeline.stop()
    assert pipeline.join(5), "the threads did not end after stop"
