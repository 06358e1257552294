"""What the CPU-cost work (issue 21) promises a user: the bench says what a frame costs in CPU and
where it goes, its competitor processes never outlive it (Ctrl-C included), a profile can be
recorded, the garbage collector's freeze leaks nothing, and landmarks read fast are the same
landmarks. No timings are asserted here (the speed goals live in benchmarks/results)."""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import time
import weakref
from pathlib import Path

import numpy as np
import pytest

from realtime.metrics import Metrics
from realtime.pipeline import Pipeline, SettingsBox
from realtime.settings import Settings
from tests.conftest import ROOT, ListSource, media, run_cli


def _competitors(parent: int) -> list[int]:
    """Pids of the busy-loop children of `parent` (benchmarks.cpu.CpuLoad)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == parent and b"getppid" in cmdline:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def _gone(pids: list[int], within_s: float = 3.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not any(_alive(pid) for pid in pids):
            return True
        time.sleep(0.05)
    return False


needs_proc = pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")


@needs_proc
def test_bench_reports_cpu_per_frame_by_thread_and_stops_its_competitors(tmp_path):
    bench = subprocess.Popen(
        [sys.executable, "-m", "realtime.cli", "bench", "--input", "demo", "--size", "320x180",
         "--max", "--frames", "10", "--warmup", "2", "--cpu-load", "2", "--json", "--no-save"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    seen: set[int] = set()
    while bench.poll() is None:
        seen.update(_competitors(bench.pid))
        time.sleep(0.05)
    out, err = bench.communicate()
    assert bench.returncode == 0, err
    assert len(seen) == 2, "two competitor processes while frames were measured"
    assert _gone(list(seen)), "the competitors outlived the benchmark"
    doc = json.loads(out)
    assert doc["settings"]["cpu_load"] == 2
    assert any("--cpu-load" in note for note in doc["notes"])
    for run in doc["runs"].values():
        assert run["cpu_ms_per_frame"] > 0
        assert 0 <= run["cpu_sys_ms_per_frame"] <= run["cpu_ms_per_frame"]
        threads = run["cpu_ms_per_frame_by_thread"]
        # By thread, adding up to (about) the whole process's figure.
        assert sum(threads.values()) == pytest.approx(run["cpu_ms_per_frame"], rel=0.35)
    assert {"facecam-detect", "facecam-swap"} <= set(doc["runs"]["pipelined"]["cpu_ms_per_frame_by_thread"])


@needs_proc
@pytest.mark.parametrize("how", ["ctrl-c", "kill -9"])
def test_the_competitors_end_with_the_bench_even_when_it_is_interrupted(how):
    bench = subprocess.Popen(
        [sys.executable, "-m", "realtime.cli", "bench", "--input", "demo", "--size", "320x180",
         "--paced", "--frames", "3000", "--cpu-load", "1", "--no-save"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 120
        seen: list[int] = []
        while not seen and time.monotonic() < deadline and bench.poll() is None:
            seen = _competitors(bench.pid)
            time.sleep(0.05)
        assert seen, "the competitor never started"
        bench.send_signal(signal.SIGINT if how == "ctrl-c" else signal.SIGKILL)
        _, err = bench.communicate(timeout=60)
    finally:
        if bench.poll() is None:
            bench.kill()
    if how == "ctrl-c":
        assert bench.returncode == 130, err
        assert "Traceback" not in err
    assert _gone(seen), f"a competitor kept a core busy after {how}"


def test_bench_refuses_a_negative_cpu_load_in_one_line():
    result = run_cli("bench", "--cpu-load", "-1", "--no-save")
    assert result.returncode == 2
    assert "--cpu-load" in result.stderr and "Traceback" not in result.stderr


def test_bench_records_a_flame_graph_of_the_run(tmp_path):
    pytest.importorskip("benchmarks.cpu")
    from benchmarks.cpu import Profiler

    try:
        Profiler.executable()
    except Exception:
        pytest.skip("py-spy is not installed (pip install 'facecam[bench]')")
    svg = tmp_path / "profile.svg"
    result = run_cli("bench", "--input", "demo", "--size", "320x180", "--max", "--frames", "30",
                     "--warmup", "2", "--no-sequential", "--no-save", "--profile", str(svg),
                     timeout=240)
    assert result.returncode == 0, result.stderr
    text = svg.read_text()
    assert text.startswith("<?xml") and "<svg" in text
    # The stage threads' own code is in it (start-up is not: the profile starts after it).
    assert "_stage_loop" in text and "facecam-" in text


class _Cycle:
    """A reference cycle holding a sizeable array: only the cyclic collector can free it."""

    def __init__(self) -> None:
        self.me = self
        self.payload = np.ones(16 * 1024, np.uint8)


class _CycleMaker:
    name = "detect"

    def __init__(self) -> None:
        self.made: list[weakref.ref] = []
        self.frozen_while_running: list[int] = []

    def configure(self, settings) -> None:
        pass

    def process(self, frame):
        self.made.append(weakref.ref(_Cycle()))
        self.frozen_while_running.append(gc.get_freeze_count())
        return frame

    def close(self) -> None:
        pass


def test_the_frozen_heap_still_frees_what_frames_leave_and_thaws_after_the_run():
    maker = _CycleMaker()
    images = [np.zeros((8, 8, 3), np.uint8)] * 800
    assert gc.get_freeze_count() == 0
    pipeline = Pipeline(ListSource(images), [maker], SettingsBox(Settings()), Metrics(), live=False)
    pipeline.start()
    assert pipeline.join(timeout=300)
    # Frozen while frames flowed (start-up's objects out of the collector's walks)...
    assert min(maker.frozen_while_running) > 0
    # ...yet the garbage the frames made was collected as it went: not all 800 kept.
    alive = sum(ref() is not None for ref in maker.made)
    assert len(maker.made) == 800 and alive < 400, f"{alive} cycles of 800 still alive"
    # And nothing stays frozen once the pipeline is over.
    assert gc.get_freeze_count() == 0


def test_landmarks_read_without_a_loop_are_the_same_landmarks():
    import importlib

    from realtime.faces.mediapipe_mesh import import_mediapipe, landmark_array

    import_mediapipe()
    landmark_pb2 = importlib.import_module("mediapipe.framework.formats.landmark_pb2")
    rng = np.random.default_rng(1)
    points = rng.uniform(-0.2, 1.2, (478, 3)).astype(np.float32)
    points[5] = 0.0  # a zero is still written (proto2 optional fields that are set)
    message = landmark_pb2.NormalizedLandmarkList()
    for x, y, z in points:
        message.landmark.add(x=x, y=y, z=z)
    assert landmark_array(message).dtype == np.float32
    np.testing.assert_array_equal(landmark_array(message), points)
    # Records of another shape (visibility set) take the plain path, same answer.
    message.landmark[3].visibility = 0.5
    np.testing.assert_array_equal(landmark_array(message), points)
    assert landmark_array(landmark_pb2.NormalizedLandmarkList()).shape == (0, 3)


def test_the_face_mesh_on_a_real_photo_gives_the_landmarks_the_loop_gives():
    import cv2

    from realtime.faces.mediapipe_mesh import MediaPipeFaceMesh

    image = cv2.imread(str(media("s42.jpg")))
    mesh = MediaPipeFaceMesh(Settings(), static=True)
    try:
        faces = mesh.detect(image)
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        result = mesh._mesh.process(rgb)
    finally:
        mesh.close()
    assert len(faces) == 1
    expected = np.array([(p.x, p.y, p.z) for p in result.multi_face_landmarks[0].landmark],
                        np.float32) * np.array([image.shape[1], image.shape[0], image.shape[1]],
                                               np.float32)
    np.testing.assert_allclose(faces[0].landmarks, expected, atol=1e-3)


def test_opencv_threads_setting_sizes_opencvs_pool_and_follows_a_live_change():
    import cv2

    from realtime.assembly import ModeStage

    default = cv2.getNumThreads()
    cv2.setNumThreads(-1)
    opencv_choice = cv2.getNumThreads()
    try:
        stage = ModeStage(Settings(mode="passthrough"), sources=None)  # built: the default, 1
        assert cv2.getNumThreads() == 1
        stage.configure(Settings(mode="passthrough").replace(opencv_threads=0))
        assert cv2.getNumThreads() == opencv_choice
        stage.configure(Settings(mode="passthrough").replace(opencv_threads=2))
        assert cv2.getNumThreads() == 2
    finally:
        cv2.setNumThreads(default)


def test_bench_cpu_is_a_kind_of_the_bench_command(capsys):
    from realtime.cli import main

    with pytest.raises(SystemExit) as done:
        main(["bench", "cpu", "--help"])
    assert done.value.code == 0 and "--cpu-load 1" in capsys.readouterr().out
