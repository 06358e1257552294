"""The latency benchmark's arithmetic, on a synthetic pipeline of sleep stages with known delays.

Tolerances are generous: these machines are shared, and a sleep only ever overshoots."""

from __future__ import annotations

import json
import time

import cv2
import numpy as np
import pytest

from benchmarks.latency import (
    FrameTiming,
    RunResult,
    latency_target,
    ratios,
    run_pipelined,
    run_sequential,
    scaled_size,
    tile,
)
from realtime.capture import Captured
from realtime.settings import Settings
from tests.conftest import media, run_cli


class SleepStage:
    """A stage that takes a known time: `delays_ms[frame.index % len(delays_ms)]`."""

    def __init__(self, name: str, *delays_ms: float) -> None:
        self.name = name
        self.delays_ms = delays_ms

    def configure(self, settings) -> None:
        pass

    def process(self, frame):
        time.sleep(self.delays_ms[frame.index % len(self.delays_ms)] / 1000)
        return frame

    def close(self) -> None:
        pass


class TinySource:
    """`count` small pictures at `fps`, each read taking `read_ms`."""

    live = False
    name = "tiny"

    def __init__(self, count: int, fps: float = 30.0, read_ms: float = 1.0) -> None:
        self.count, self.fps, self.read_ms = count, fps, read_ms
        self.size = (16, 16)
        self.frame_count = count
        self._index = 0

    def read(self):
        if self._index >= self.count:
            return None
        time.sleep(self.read_ms / 1000)
        self._index += 1
        return Captured(np.zeros((16, 16, 3), np.uint8), pts=(self._index - 1) / self.fps)

    def close(self) -> None:
        pass


DELAYS = {"detect": 10.0, "swap": 20.0, "blend": 5.0, "output": 2.0}
SLOWEST = max(DELAYS.values())
TOTAL = sum(DELAYS.values())


def sleep_stages():
    return [SleepStage(name, ms) for name, ms in DELAYS.items()]


def near(value: float, expected: float, low: float = 0.97, high: float = 1.35, slack: float = 4.0):
    """A measured time is at least (almost) what was slept, and not much more."""
    return expected * low - 0.5 <= value <= expected * high + slack


def test_summary_arithmetic_on_known_timings():
    # 20 frames out every 10 ms; e2e of frame i is i ms; stage "a" takes i ms too; 5 warm-up.
    timings = [FrameTiming(i, capture_ns=i * 10_000_000, done_ns=i * 10_000_000 + i * 1_000_000,
                           stages_ms={"capture": 1.0, "a": float(i)}, faces=1) for i in range(20)]
    run = RunResult("pipelined", True, 100.0, (16, 16), warmup=5, frames_in=25, timings=timings,
                    drops={"a": 5}, wall_s=1.0, cpu_s=0.5)
    summary = run.summary()
    assert summary["frames_measured"] == 15
    assert summary["end_to_end_ms"]["p50"] == pytest.approx(12.0)  # median of 5..19
    assert summary["end_to_end_ms"]["max"] == pytest.approx(19.0)
    assert summary["end_to_end_ms"]["p95"] == pytest.approx(np.percentile(np.arange(5, 20), 95))
    assert summary["stages_ms"]["a"]["p99"] == pytest.approx(np.percentile(np.arange(5, 20), 99))
    # 15 frames over (19*11 - 5*11) ms of output times: 14 intervals of 11 ms.
    assert summary["fps"] == pytest.approx(14 / 0.154)
    assert summary["drops"] == 5
    assert summary["cpu_percent_of_one_core"] == pytest.approx(50.0)
    assert summary["cpu_ms_per_frame_out"] == pytest.approx(500.0 / 20)
    assert summary["waiting_ms_p50"] == pytest.approx(0.0)
    target = latency_target(run)
    assert target["frame_interval_ms"] == pytest.approx(10.0)
    assert not target["met"] and target["limiting"] == "a"


def test_max_pipelined_runs_at_the_slowest_stage_sequential_at_the_sum():
    frames, warmup = 70, 5
    pipelined = run_pipelined(TinySource(frames), sleep_stages(), Settings(), paced=False,
                              max_frames=frames, warmup=warmup)
    sequential = run_sequential(TinySource(frames), sleep_stages(), Settings(), paced=False,
                                max_frames=frames, warmup=warmup)
    for run in (pipelined, sequential):
        stages = run.stage_percentiles()
        assert list(stages) == ["capture", *DELAYS]
        for name, delay in DELAYS.items():
            assert near(stages[name].p50, delay), (run.engine, name, stages[name])
        assert len(run.measured) == frames - warmup
        assert run.summary()["drops"] == 0
    # Throughput: the slowest stage (pipelined) against the sum of all (sequential, reads included).
    assert near(1000 / pipelined.fps(), SLOWEST), pipelined.fps()
    assert near(1000 / sequential.fps(), TOTAL + 1.0), sequential.fps()
    # In one thread a frame's e2e is the sum of the stages after capture.
    assert near(sequential.end_to_end().p50, TOTAL)
    assert ratios(pipelined, sequential)["fps"] > 1.4


def test_paced_pipeline_keeps_up_where_the_sequential_loop_drops():
    # 40 fps input (25 ms apart): every stage is faster than that, their sum (37 ms) is not.
    frames, warmup = 80, 5
    pipelined = run_pipelined(TinySource(frames, fps=40.0), sleep_stages(), Settings(), paced=True,
                              max_frames=frames, warmup=warmup)
    sequential = run_sequential(TinySource(frames, fps=40.0), sleep_stages(), Settings(), paced=True,
                                max_frames=frames, warmup=warmup)
    p, s = pipelined.summary(), sequential.summary()
    assert p["frames_captured"] == s["frames_captured"] == frames
    assert near(p["fps"], 40.0, low=0.85, high=1.05, slack=0), p["fps"]
    assert p["drops"] <= frames * 0.1
    # The pipeline's latency is the sum of its stages plus little waiting.
    assert near(p["end_to_end_ms"]["p50"], TOTAL, high=1.3), p["end_to_end_ms"]
    # The loop manages one frame per 37 ms and the camera drops the rest.
    assert near(1000 / s["fps"], TOTAL), s["fps"]
    assert s["drops"] >= frames * 0.2
    # Its frames also wait for the loop to come round: never less than the sum of the stages.
    assert s["end_to_end_ms"]["p50"] >= TOTAL
    assert ratios(pipelined, sequential)["fps"] > 1.2


def test_percentiles_follow_an_uneven_stage():
    # One frame in ten takes 40 ms, the rest 4 ms: p50 4, p95 and max about 40.
    frames = 100
    stages = [SleepStage("detect", *([4.0] * 9 + [40.0]))]
    run = run_pipelined(TinySource(frames, read_ms=0.2), stages, Settings(), paced=False,
                        max_frames=frames, warmup=0)
    detect = run.stage_percentiles()["detect"]
    assert near(detect.p50, 4.0)
    # The max is one sample: a busy machine may stretch it, but never below the longest sleep.
    assert near(detect.p95, 40.0) and detect.max >= 40.0 * 0.97
    assert detect.count == frames


def test_scaling_helpers():
    assert scaled_size((720, 1280), 480) == (480, 854)
    assert scaled_size((1280, 720), 1080) == (1920, 1080)
    image = np.zeros((120, 200, 3), np.uint8)
    image[40:80, 60:140] = 200  # a "face" in the middle
    for count, blobs in ((1, 1), (2, 2), (4, 4)):
        tiled = tile(image, count)
        assert tiled.shape == image.shape
        found, _ = cv2.connectedComponents((tiled[..., 0] > 0).astype(np.uint8))
        assert found - 1 == blobs


def test_bench_command_writes_json_markdown_and_plot(tmp_path):
    out = tmp_path / "doc.json"
    result = run_cli("bench", "--input", "demo", "--size", "480x270", "--max", "--frames", "12",
                     "--warmup", "3", "--repeat", "2", "--json-file", str(out),
                     "--results", str(tmp_path / "res"),
                     "--note", "shared machine", timeout=240)
    assert result.returncode == 0, result.stderr
    doc = json.loads(out.read_text())
    assert set(doc["runs"]) == {"pipelined", "sequential"}
    for run in doc["runs"].values():
        assert run["frames_measured"] == 24 and run["warmup_frames_excluded"] == 3
        assert run["repeats"] == 2 and len(run["per_repeat"]) == 2
        assert {"capture", "detect", "swap", "blend", "output"} <= set(run["stages_ms"])
        assert run["end_to_end_ms"]["p50"] > 0 and run["fps"] > 0 and run["peak_rss_mb"] > 50
        assert run["faces_mean"] > 0.9, "the demo face must be found"
    assert doc["ratios_pipelined_over_sequential"]["fps"] > 0
    assert doc["settings"]["device"] == "auto" and "shared machine" in doc["notes"]
    assert {"machine", "versions"} <= set(doc)
    stem = tmp_path / "res" / "latency-max-auto"
    assert stem.with_suffix(".json").exists() and stem.with_suffix(".png").stat().st_size > 5000
    markdown = stem.with_suffix(".md").read_text()
    assert "| **end to end** |" in markdown and "warm-up" in markdown
    assert "| e2e p50 of each run |" in markdown
    assert "pipelined/sequential" in result.stderr
    from benchmarks.latency_report import summary_table

    table = summary_table([doc]).splitlines()
    assert len(table) == 4 and "| max | pipelined |" in table[2] and "| max | sequential |" in table[3]


def test_bench_rejects_bad_counts_in_one_line():
    result = run_cli("bench", "--frames", "0", "--no-save")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("facecam: error")
    assert "--frames" in result.stderr and "Traceback" not in result.stderr


def test_scaling_grid_measures_every_size_and_face_count(tmp_path):
    from benchmarks.latency import Benchmark

    opened = []

    def open_tiny(settings):
        opened.append((settings.capture.size, settings.faces.max_faces))
        return TinySource(10, read_ms=0.2)

    def build(settings):
        return [SleepStage("detect", 1.0), SleepStage("swap", 2.0)], lambda: None

    measured = Benchmark(Settings(), paced=False, frames=5, warmup=1, scaling=True, scaling_frames=4,
                         open_source=open_tiny).run(build)
    assert set(measured["runs"]) == {"pipelined", "sequential"}
    rows = measured["scaling"]
    assert [row["label"] for row in rows] == ["480p x1 face", "720p x1 face", "1080p x1 face",
                                              "720p x2 faces", "720p x4 faces"]
    assert [row["size"] for row in rows] == [[480, 480], [720, 720], [1080, 1080], [720, 720],
                                             [720, 720]]
    # Each point asks the detector for the settings' max_faces (8 by default), at least as many
    # faces as the tiles hold.
    assert [faces for _, faces in opened[2:]] == [8] * 10
    opened.clear()
    Benchmark(Settings().replace(max_faces=1), paced=False, frames=5, warmup=1, scaling=True,
              scaling_frames=4, open_source=open_tiny).run(build)
    assert [faces for _, faces in opened[2:]] == [1, 1, 1, 1, 1, 1, 2, 2, 4, 4]
    for row in rows:
        assert row["runs"]["pipelined"]["frames_measured"] == 4
        assert row["ratios"]["fps"] > 0

    from benchmarks import latency_report

    doc = latency_report.document(measured["runs"], rows, {"mode": "swap", "device": "cpu"}, [])
    written = latency_report.write(doc, tmp_path, "latency-test")
    assert [p.suffix for p in written] == [".json", ".md", ".png"]
    assert "## Scaling" in written[1].read_text() and "720p x4 faces" in written[1].read_text()
    assert "latency_target" not in doc  # as fast as possible: no latency verdict


def test_bench_on_the_webcam_like_video_paced():
    video = media("d13.mp4")
    result = run_cli("bench", "--input", str(video), "--paced", "--frames", "15", "--warmup", "5",
                     "--json", "--no-save", timeout=240)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    pipelined = doc["runs"]["pipelined"]
    assert pipelined["size"] == [720, 1280] and pipelined["source_fps"] == pytest.approx(30, abs=0.5)
    assert pipelined["frames_captured"] == 20 and pipelined["faces_mean"] > 0.9
    # Paced like a camera: never faster than the video's own rate. (The run's time, not the
    # output FPS: on a loaded machine a stage that stalls releases the frames queued behind it
    # in a burst, and 15 frames measure that burst.)
    assert pipelined["wall_s"] >= 19 / 30 * 0.95
    assert doc["latency_target"]["frame_interval_ms"] == pytest.approx(33.3, abs=0.5)


def test_device_flows_into_the_inference_settings():
    from benchmarks import bench_cli
    from realtime.cli import build_parser

    args = build_parser().parse_args(["bench", "--device", "cuda", "--input", "demo", "--max",
                                      "--json-file", "out.json"])
    settings = bench_cli._settings(args)
    assert settings.inference.device == "cuda" and settings.output.outputs == ("null",)
    assert args.json_file == "out.json" and args.paced is False
    assert build_parser().parse_args(["bench", "--json"]).json is True  # as for every command


def test_bench_missing_input_is_one_line(tmp_path):
    result = run_cli("bench", "--input", str(tmp_path / "nope.mp4"), "--no-save")
    assert result.returncode == 2, result.stderr
    assert "input not found" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("name, content", [("nope.mp4", None), ("broken.mp4", b"not a video")])
def test_bench_refuses_a_bad_input_before_starting_any_engine(tmp_path, monkeypatch, name, content):
    # The user waited 49 s of engine start-up for the one line "input not found" (s32-tests).
    from benchmarks import bench_cli, latency
    from realtime.cli import build_parser
    from realtime.errors import FacecamError

    def no_engine(*args, **kwargs):
        raise AssertionError("an engine was started before the input was checked")

    monkeypatch.setattr(latency, "Benchmark", no_engine)
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    args = build_parser().parse_args(["bench", "--input", str(path), "--no-save"])
    with pytest.raises(FacecamError):
        bench_cli.run_latency(args)


def test_pooled_runs_count_every_frame_and_skip_the_gap_between_runs():
    from benchmarks.latency import pool

    def run(start_ns, e2e_ms):
        # 10 frames out every 20 ms from start_ns, 2 of them warm-up.
        timings = [FrameTiming(i, start_ns + i * 20_000_000, start_ns + i * 20_000_000 + int(e2e_ms * 1e6),
                               {"a": e2e_ms}) for i in range(10)]
        return RunResult("pipelined", True, 50.0, (16, 16), warmup=2, frames_in=11, timings=timings,
                         drops={"a": 1}, wall_s=1.0, cpu_s=0.25)

    pooled = pool([run(0, 10.0), run(60_000_000_000, 30.0)])  # a minute apart
    summary = pooled.summary()
    assert summary["repeats"] == 2 and summary["frames_measured"] == 16
    assert summary["fps"] == pytest.approx(50.0)  # not diluted by the minute between the runs
    assert summary["end_to_end_ms"]["p50"] == pytest.approx(20.0)  # half at 10, half at 30
    assert summary["drops"] == 2 and summary["drops_by_stage"] == {"a": 2}
    assert summary["cpu_percent_of_one_core"] == pytest.approx(25.0)
    assert [r["end_to_end_p50_ms"] for r in summary["per_repeat"]] == pytest.approx([10.0, 30.0])
