"""Latency benchmark: every stage and the whole path, pipelined engine vs a sequential loop.

Two ways to run the same stage objects over the same input:

- **pipelined**: `realtime.pipeline.Pipeline`, what the engine runs: one thread per stage,
  one-slot latest-value channels in live mode, bounded queues in file mode.
- **sequential**: the stages called one after another in one thread for each frame, the way a
  single-loop face-swap app works (read, detect, swap, blend, show, repeat).

Two pacings:

- **paced** (`--paced`, live mode): the input is delivered at its own frame rate, like a webcam;
  a frame that the processing cannot take in time is dropped (counted). Latency is what matters.
  For the sequential loop the "camera" is a separate thread, as a real webcam runs in hardware:
  the loop takes the newest frame each time round, and frames it missed are dropped.
- **max** (`--max`, file mode): as fast as possible, nothing dropped; throughput is what matters.
  The sequential loop also reads (decodes) each frame itself: everything in one thread.

End-to-end latency runs from a frame's capture timestamp (when the camera, or the paced file,
delivers it) to the moment the output stage has written it. The first `warmup` frames (by capture
index) are excluded from every figure: model initialisation and caches would otherwise dominate.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import math
import os
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from benchmarks.cpu import CpuLoad, Profiler, ThreadCpu, process_cpu
from realtime.capture import Captured, Source
from realtime.errors import FacecamError
from realtime.frame import Frame
from realtime.metrics import Metrics, Percentiles
from realtime.pipeline import Pipeline, SettingsBox, Stage
from realtime.settings import Settings

WARMUP_FRAMES = 15
"""Frames excluded at the start of every run (MediaPipe graph start-up, first allocations)."""

CHAIN_NAME = "sequential"
"""The name the sequential chain carries as a pipeline stage (not a stage of its own)."""

ENDLESS_INPUT_FRAMES = 300
"""Frames measured from a camera (or any input without an end) when --frames is not given."""

Progress = Callable[[int], None]
"""Called now and then with the number of frames out so far."""


# -- per-frame records -------------------------------------------------------------------------
@dataclass(frozen=True)
class FrameTiming:
    """What one output frame went through; no pictures kept (long runs stay small)."""

    index: int
    capture_ns: int
    done_ns: int
    stages_ms: dict[str, float]
    faces: int = 0
    repeat: int = 0
    """Which repetition of the run this frame belongs to (see `pool`)."""

    @property
    def end_to_end_ms(self) -> float:
        return (self.done_ns - self.capture_ns) / 1e6


def timing_of(frame: Frame, done_ns: int) -> FrameTiming:
    stages = {name: (leave - enter) / 1e6 for name, (enter, leave) in frame.stamps.items()
              if name != CHAIN_NAME}
    return FrameTiming(frame.index, frame.capture_ns, done_ns, stages, len(frame.faces))


def throughput_fps(done_ns: Sequence[int]) -> float:
    """Frames per second between the first and the last of these output times."""
    if len(done_ns) < 2:
        return 0.0
    span = (max(done_ns) - min(done_ns)) / 1e9
    return (len(done_ns) - 1) / span if span > 0 else 0.0


# -- process usage -----------------------------------------------------------------------------

def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports kB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


# -- results -----------------------------------------------------------------------------------
@dataclass
class RunResult:
    engine: str
    """'pipelined' or 'sequential'."""
    paced: bool
    source_fps: float
    size: tuple[int, int]
    warmup: int
    frames_in: int
    timings: list[FrameTiming]
    drops: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0
    cpu_s: float = 0.0
    """CPU time of the whole process (every thread, user + system) from the run's start (after
    start-up: the stages are built before) to its end."""
    peak_rss_mb: float = 0.0
    cpu_sys_s: float = 0.0
    """The system (kernel) part of cpu_s."""
    threads_cpu_s: dict[str, float] = field(default_factory=dict)
    """CPU seconds by thread group (benchmarks.cpu.thread_group) over the run."""
    repeats: int = 1
    """Runs pooled into this one (`pool`); warm-up is excluded from each."""
    per_repeat: list[dict] = field(default_factory=list)
    """A few figures of every pooled run, to see how much they vary."""

    @property
    def measured(self) -> list[FrameTiming]:
        return [t for t in self.timings if t.index >= self.warmup]

    def stage_names(self) -> list[str]:
        names: list[str] = []
        for timing in self.measured:
            names.extend(n for n in timing.stages_ms if n not in names)
        return names

    def stage_percentiles(self) -> dict[str, Percentiles]:
        measured = self.measured
        return {name: Percentiles.of([t.stages_ms[name] for t in measured if name in t.stages_ms])
                for name in self.stage_names()}

    def end_to_end(self) -> Percentiles:
        return Percentiles.of([t.end_to_end_ms for t in self.measured])

    def fps(self) -> float:
        """Output frames per second while frames came out; pooled runs: their total frame
        intervals over their total time (the gaps between runs do not count)."""
        intervals, span_ns = 0, 0
        for repeat in range(self.repeats):
            done = [t.done_ns for t in self.measured if t.repeat == repeat]
            if len(done) >= 2:
                intervals += len(done) - 1
                span_ns += max(done) - min(done)
        return intervals / (span_ns / 1e9) if span_ns > 0 else 0.0

    def brief(self) -> dict:
        """The figures that show the spread between repetitions."""
        return {"fps": self.fps(), "end_to_end_p50_ms": self.end_to_end().p50,
                "cpu_percent_of_one_core": 100.0 * self.cpu_s / self.wall_s if self.wall_s else 0.0}

    def summary(self) -> dict:
        stages = self.stage_percentiles()
        end_to_end = self.end_to_end()
        # Capture happens before the capture timestamp: it is not part of end-to-end latency.
        inside = sum(p.p50 for name, p in stages.items() if name != "capture")
        cores = os.cpu_count() or 1
        cpu_percent = 100.0 * self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0
        measured = self.measured

        def per_frame(seconds: float) -> float:
            return 1000.0 * seconds / len(self.timings) if self.timings else 0.0

        return {
            "engine": self.engine,
            "pacing": "paced" if self.paced else "max",
            "size": list(self.size),
            "source_fps": self.source_fps,
            "repeats": self.repeats,
            "per_repeat": list(self.per_repeat),
            "frames_captured": self.frames_in,
            "frames_out": len(self.timings),
            "frames_measured": len(measured),
            "warmup_frames_excluded": self.warmup,
            "fps": self.fps(),
            # Frames captured after the warm-up that never reached the output; by stage: the
            # whole run, warm-up included (where the pipeline's channels overwrote them).
            "drops": max(0, self.frames_in - self.warmup * self.repeats - len(measured)),
            "drops_by_stage": dict(self.drops),
            "errors": dict(self.errors),
            "end_to_end_ms": end_to_end.as_dict(),
            "stages_ms": {name: p.as_dict() for name, p in stages.items()},
            "waiting_ms_p50": max(0.0, end_to_end.p50 - inside),
            "faces_mean": float(np.mean([t.faces for t in measured])) if measured else 0.0,
            "wall_s": self.wall_s,
            "cpu_s": self.cpu_s,
            "cpu_percent_of_one_core": cpu_percent,
            "cpu_percent_of_machine": cpu_percent / cores,
            # CPU time is much steadier than wall time on a shared machine: what a frame costs.
            "cpu_ms_per_frame_out": per_frame(self.cpu_s),
            # The same figure under the name the goals use, with its kernel part and where it
            # goes by thread (ours are facecam-<stage>; MediaPipe's, FFmpeg's and OpenCV's
            # native workers are named by their libraries).
            "cpu_ms_per_frame": per_frame(self.cpu_s),
            "cpu_sys_ms_per_frame": per_frame(self.cpu_sys_s),
            "cpu_ms_per_frame_by_thread": {name: per_frame(seconds)
                                           for name, seconds in self.threads_cpu_s.items()},
            "peak_rss_mb": self.peak_rss_mb,
        }


def pool(runs: Sequence[RunResult]) -> RunResult:
    """Several runs of one engine as one: every measured frame of each counts (percentiles
    over them all), FPS over the time frames came out, counters and CPU time summed."""
    if len(runs) == 1:
        run = runs[0]
        run.per_repeat = [run.brief()]
        return run
    first = runs[0]
    timings = [dataclasses.replace(t, repeat=k) for k, run in enumerate(runs) for t in run.timings]
    drops: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    for run in runs:
        drops.update(run.drops)
        errors.update(run.errors)
        threads.update(run.threads_cpu_s)
    return RunResult(first.engine, first.paced, first.source_fps, first.size, first.warmup,
                     sum(r.frames_in for r in runs), timings, dict(drops), dict(errors),
                     sum(r.wall_s for r in runs), sum(r.cpu_s for r in runs),
                     max(r.peak_rss_mb for r in runs), repeats=len(runs),
                     per_repeat=[r.brief() for r in runs],
                     cpu_sys_s=sum(r.cpu_sys_s for r in runs),
                     threads_cpu_s=dict(threads.most_common()))


# -- the sequential loop -----------------------------------------------------------------------
class SequentialChain:
    """Every stage, one after another, in the calling thread; stamps each like the pipeline.

    A stage that raises is counted and the frame goes on (as in the pipeline)."""

    name = CHAIN_NAME

    def __init__(self, stages: Sequence[Stage], metrics: Metrics) -> None:
        self.stages = list(stages)
        self.metrics = metrics

    def configure(self, settings: Settings) -> None:
        for stage in self.stages:
            stage.configure(settings)

    def process(self, frame: Frame) -> Frame:
        for stage in self.stages:
            name = stage.name
            enter = time.monotonic_ns()
            try:
                result = stage.process(frame)
            except FacecamError:
                raise
            except Exception as error:
                self.metrics.error(name, error)
                result = None
            leave = time.monotonic_ns()
            frame = result if isinstance(result, Frame) else frame
            frame.stamps[name] = (enter, leave)
            self.metrics.stage(name, (leave - enter) / 1e6)
        return frame

    def close(self) -> None:
        pass  # the stages belong to the caller


def _run_in_pipeline(engine: str, source: Source, stages: list[Stage], settings: Settings,
                     paced: bool, max_frames: int | None, warmup: int,
                     progress: Progress | None) -> RunResult:
    metrics = Metrics(window=(max_frames or 100_000) + 16)
    timings: list[FrameTiming] = []
    failures: list[BaseException] = []
    pipeline = Pipeline(source, stages, SettingsBox(settings), metrics, live=paced,
                        max_frames=max_frames,
                        on_output=lambda frame: timings.append(timing_of(frame, time.monotonic_ns())),
                        on_failure=failures.append)
    threads = ThreadCpu().start()
    cpu_start, wall_start = process_cpu(), time.monotonic()
    try:
        pipeline.start()  # inside: a Ctrl-C arriving as it returns still stops the threads
        while not pipeline.join(0.1):
            if progress is not None:
                progress(len(timings))
    except BaseException:
        pipeline.stop()
        pipeline.join(10)
        raise
    wall, cpu = time.monotonic() - wall_start, process_cpu() - cpu_start
    threads.sample()
    if failures:
        raise failures[0]
    if progress is not None:
        progress(len(timings))
    stats = metrics.snapshot()
    # The native threads (MediaPipe's, the decoder's, OpenCV's pool) outlive the run: read at its
    # end; the stage threads have ended by then and recorded their own time.
    by_thread = _seconds(threads, exclude=set(pipeline.thread_ids.values()))
    for name, seconds in pipeline.thread_cpu_s.items():
        by_thread[name] = by_thread.get(name, 0.0) + seconds
    by_thread = dict(sorted(by_thread.items(), key=lambda kv: -kv[1]))
    return RunResult(engine, paced, float(source.fps), tuple(source.size), warmup, stats.frames_in,
                     timings, stats.drops, stats.errors, wall, cpu.total_s, peak_rss_mb(),
                     cpu_sys_s=cpu.sys_s, threads_cpu_s=by_thread)


def run_pipelined(source: Source, stages: Sequence[Stage], settings: Settings, *, paced: bool,
                  max_frames: int | None = None, warmup: int = WARMUP_FRAMES,
                  progress: Progress | None = None) -> RunResult:
    """The engine's pipeline: one thread per stage."""
    return _run_in_pipeline("pipelined", source, list(stages), settings, paced, max_frames, warmup,
                            progress)


def run_sequential(source: Source, stages: Sequence[Stage], settings: Settings, *, paced: bool,
                   max_frames: int | None = None, warmup: int = WARMUP_FRAMES,
                   progress: Progress | None = None) -> RunResult:
    """The same stages in one thread. Paced: a camera thread delivers frames at the source's
    rate into a one-slot channel and the loop takes the newest. Max: the loop reads too."""
    metrics = Metrics(window=(max_frames or 100_000) + 16)
    chain = SequentialChain(stages, metrics)
    if paced:
        result = _run_in_pipeline("sequential", source, [chain], settings, True, max_frames,
                                  warmup, progress)
        result.errors = {**metrics.snapshot().errors, **result.errors}
        return result
    timings: list[FrameTiming] = []
    chain.configure(settings)
    threads = ThreadCpu().start()
    cpu_start, wall_start = process_cpu(), time.monotonic()
    index = 0
    while max_frames is None or index < max_frames:
        read_start = time.monotonic_ns()
        captured = source.read()
        if captured is None:
            break
        read_end = time.monotonic_ns()
        frame = Frame(index=index, image=captured.image, capture_ns=read_end, pts=captured.pts,
                      placeholder=captured.placeholder)
        frame.stamps["capture"] = (read_start, read_end)
        frame = chain.process(frame)
        timings.append(timing_of(frame, time.monotonic_ns()))
        index += 1
        if progress is not None and index % 5 == 0:
            progress(index)
    wall, cpu = time.monotonic() - wall_start, process_cpu() - cpu_start
    threads.sample()
    if progress is not None:
        progress(index)
    return RunResult("sequential", False, float(source.fps), tuple(source.size), warmup, index,
                     timings, {}, metrics.snapshot().errors, wall, cpu.total_s, peak_rss_mb(),
                     cpu_sys_s=cpu.sys_s, threads_cpu_s=_seconds(threads))


def _seconds(threads: ThreadCpu, exclude: set[int] | None = None) -> dict[str, float]:
    return {name: times.total_s for name, times in threads.by_group(exclude or set()).items()}


def ratios(pipelined: RunResult, sequential: RunResult) -> dict[str, float | None]:
    """pipelined / sequential: FPS (> 1: the pipeline is faster) and e2e p50 (< 1: lower latency)."""
    fps_p, fps_s = pipelined.fps(), sequential.fps()
    e2e_p, e2e_s = pipelined.end_to_end().p50, sequential.end_to_end().p50
    return {"fps": fps_p / fps_s if fps_s > 0 else None,
            "end_to_end_p50": e2e_p / e2e_s if e2e_s > 0 else None}


# -- the real stages ---------------------------------------------------------------------------
def build_stages(settings: Settings) -> tuple[list[Stage], Callable[[], None]]:
    """The engine's stages (`realtime.assembly.build_stages`, what `Engine.start` runs, the
    provenance finisher included) with a null output; and a closer."""
    from realtime.assembly import build_stages as assemble
    from realtime.faces.source import SourceLibrary
    from realtime.output.null import NullOutput

    sources = SourceLibrary()
    try:
        if settings.mode != "passthrough":
            sources.get(settings.source)  # a bad photo fails here, with its own message
        assembled = assemble(settings, sources, outputs=[NullOutput()])
    except BaseException:
        sources.close()
        raise

    def close() -> None:
        try:
            assembled.close()
        finally:
            sources.close()

    gc.collect()  # start-up's garbage, as Engine.start does before its pipeline freezes the rest
    return assembled.stages, close


# -- scaling inputs ----------------------------------------------------------------------------
def scaled_size(size: tuple[int, int], short_side: int) -> tuple[int, int]:
    """(width, height) with the given short side and the same aspect (even numbers: codecs)."""
    width, height = size
    scale = short_side / min(width, height)
    return (2 * round(width * scale / 2), 2 * round(height * scale / 2))


def tile(image: np.ndarray, count: int) -> np.ndarray:
    """`count` (1, 2 or 4) copies of the picture in a grid of the same size: 2 side by side along
    the long side, 4 in a 2x2 grid. Each copy keeps its aspect (scaled to fit, black around), so
    the faces get smaller as they multiply, as they would in a real group shot."""
    if count == 1:
        return image
    height, width = image.shape[:2]
    if count == 2:
        rows, cols = (1, 2) if width >= height else (2, 1)
    elif count == 4:
        rows, cols = 2, 2
    else:
        raise ValueError(f"tile count must be 1, 2 or 4, not {count}")
    cell_w, cell_h = width // cols, height // rows
    scale = min(cell_w / width, cell_h / height)
    small = cv2.resize(image, (max(1, int(width * scale)), max(1, int(height * scale))),
                       interpolation=cv2.INTER_AREA)
    canvas = np.zeros_like(image)
    for row in range(rows):
        for col in range(cols):
            y = row * cell_h + (cell_h - small.shape[0]) // 2
            x = col * cell_w + (cell_w - small.shape[1]) // 2
            canvas[y:y + small.shape[0], x:x + small.shape[1]] = small
    return canvas


class TiledSource:
    """A source whose pictures hold `count` copies of another source's picture."""

    def __init__(self, inner: Source, count: int) -> None:
        self.inner = inner
        self.count = count
        self.name = f"{inner.name} x{count}"
        self.live = inner.live
        self.fps = inner.fps
        self.size = inner.size
        self.frame_count = inner.frame_count

    def read(self) -> Captured | None:
        captured = self.inner.read()
        if captured is None:
            return None
        return Captured(tile(captured.image, self.count), captured.pts, captured.placeholder)

    def close(self) -> None:
        self.inner.close()


# -- what limits latency -----------------------------------------------------------------------
def latency_target(result: RunResult) -> dict:
    """Is e2e p50 below one frame interval? If not, which stage takes the most of it."""
    interval_ms = 1000.0 / result.source_fps if result.source_fps > 0 else math.inf
    end_to_end = result.end_to_end().p50
    stages = {name: p.p50 for name, p in result.stage_percentiles().items() if name != "capture"}
    waiting = max(0.0, end_to_end - sum(stages.values()))
    parts = dict(stages, waiting=waiting)
    limiting = max(parts, key=parts.get) if parts else None
    met = end_to_end < interval_ms
    if met:
        text = (f"end-to-end p50 {end_to_end:.1f} ms is below one frame interval "
                f"({interval_ms:.1f} ms).")
    else:
        shares = ", ".join(f"{name} {value:.1f}" for name, value in
                           sorted(parts.items(), key=lambda kv: -kv[1]))
        text = (f"end-to-end p50 {end_to_end:.1f} ms is not below one frame interval "
                f"({interval_ms:.1f} ms); p50 ms by part: {shares}; the largest is {limiting}.")
    return {"frame_interval_ms": interval_ms, "end_to_end_p50_ms": end_to_end, "met": met,
            "limiting": limiting, "parts_p50_ms": parts, "text": text}


# -- one whole benchmark -----------------------------------------------------------------------
@dataclass
class Benchmark:
    """What to measure; `run()` does both engines (and optionally the scaling grid)."""

    settings: Settings
    paced: bool = True
    frames: int | None = None
    """Frames captured after the warm-up; None: the whole input (a camera or a looped input:
    `ENDLESS_INPUT_FRAMES`)."""
    warmup: int = WARMUP_FRAMES
    sequential: bool = True
    repeat: int = 1
    """Runs per engine, interleaved (pipelined, sequential, pipelined...) and pooled, so that
    both engines see the same ups and downs of a shared machine."""
    scaling: bool = False
    scaling_frames: int = 60
    open_source: Callable[[Settings], Source] | None = None
    progress: Callable[[str, int | None], Progress] | None = None
    """progress(label, total) -> a callback taking frames done (a bar per run)."""
    cpu_load: int = 0
    """Competitor processes keeping one core busy each while frames are measured (the call app
    on the same laptop; benchmarks.cpu.CpuLoad)."""
    profile: Path | None = None
    """Where py-spy writes a flame graph (SVG) of the main runs, start-up excluded."""

    def _source(self, settings: Settings) -> Source:
        if self.open_source is not None:
            return self.open_source(settings)
        from realtime.capture import open_source

        return open_source(settings.capture)

    def _max_frames(self, source: Source, frames: int | None) -> int | None:
        wanted = None if frames is None else frames + self.warmup
        if source.frame_count is not None:
            return source.frame_count if wanted is None else min(wanted, source.frame_count)
        return wanted if wanted is not None else ENDLESS_INPUT_FRAMES + self.warmup

    def _measure(self, engine: str, settings: Settings, stages: list[Stage], frames: int | None,
                 tiles: int = 1, paced: bool | None = None) -> RunResult:
        source = self._source(settings)
        if tiles > 1:
            source = TiledSource(source, tiles)
        try:
            max_frames = self._max_frames(source, frames)
            progress = self.progress(f"{engine} {source.size[0]}x{source.size[1]}"
                                     + (f" x{tiles} faces" if tiles > 1 else ""),
                                     max_frames) if self.progress else None
            run = run_pipelined if engine == "pipelined" else run_sequential
            paced = self.paced if paced is None else paced
            return run(source, stages, settings, paced=paced, max_frames=max_frames,
                       warmup=self.warmup, progress=progress)
        finally:
            source.close()

    def run(self, build: Callable[[Settings], tuple[list[Stage], Callable[[], None]]] = build_stages
            ) -> dict:
        """Measure; returns {'runs': {engine: RunResult}, 'scaling': [...]}."""
        engines = ("pipelined", "sequential") if self.sequential else ("pipelined",)
        measured: dict[str, list[RunResult]] = {engine: [] for engine in engines}
        stages, close = build(self.settings)
        try:
            with contextlib.ExitStack() as around:
                around.enter_context(CpuLoad(self.cpu_load))
                if self.profile is not None:
                    around.enter_context(Profiler(self.profile))
                for _ in range(self.repeat):
                    for engine in engines:
                        measured[engine].append(self._measure(engine, self.settings, stages,
                                                              self.frames))
        finally:
            close()
        runs = {engine: pool(results) for engine, results in measured.items()}
        scaling: list[dict] = []
        if self.scaling:
            with CpuLoad(self.cpu_load):
                scaling = self._scaling(build, runs["pipelined"].size)
        return {"runs": runs, "scaling": scaling}

    def _scaling(self, build, native: tuple[int, int]) -> list[dict]:
        """FPS and latency at 480p, 720p, 1080p (one face) and with 2 and 4 faces at 720p.

        Always as fast as possible, whatever the pacing of the main run: paced, every point would
        show the video's own rate and hide how the cost grows. The pipelined FPS is the
        throughput; the sequential end-to-end time is what one frame costs through all stages."""
        grid = [(480, 1), (720, 1), (1080, 1), (720, 2), (720, 4)]
        rows: list[dict] = []
        for short_side, faces in grid:
            size = scaled_size(native, short_side)
            # The detector looks for the user's max_faces (the engine's), at least the tiles' faces.
            settings = self.settings.replace(size=size, max_faces=max(faces, self.settings.faces.max_faces))
            stages, close = build(settings)
            try:
                measured = {engine: self._measure(engine, settings, stages, self.scaling_frames, faces,
                                                  paced=False)
                            for engine in (("pipelined", "sequential") if self.sequential
                                           else ("pipelined",))}
            finally:
                close()
            row = {"label": f"{short_side}p x{faces} face{'s' if faces > 1 else ''}",
                   "size": list(size), "faces": faces,
                   "runs": {engine: result.summary() for engine, result in measured.items()}}
            if "sequential" in measured:
                row["ratios"] = ratios(measured["pipelined"], measured["sequential"])
            rows.append(row)
        return rows
