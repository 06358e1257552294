"""The CPU goals of issue 21, measured in one run, side by side.

    facecam bench cpu --input ../shared/media/d13.mp4 --source ../shared/media/s0.jpg
    python -m benchmarks.cpu_floor ...                      # the same

One process, one after the other, each with the engine's own stages (realtime/assembly.py):

1. **720p30 paced**, embedded swap, one face: CPU ms per output frame for the whole process
   (every thread, user + system, start-up excluded; goal <= 10), end-to-end p50 (<= 20 ms) and
   p99 (<= 33 ms). The same run with OpenCV's default thread pool (`--opencv-threads 0`) beside
   it, so the effect of that setting is measured in the same conditions.
2. **1080p30 paced** with one competitor process keeping a core busy (`--cpu-load 1`, the call
   app): end-to-end p99 (<= 33 ms).
3. **720p as fast as possible**: pipelined FPS (>= 150) and pipelined / sequential (>= 1.5x).

Then, outside the figures, the 720p paced run once more under py-spy (`--profile`): the flame
graph of where the CPU goes, committed next to the results. Each run reports CPU by thread
(MediaPipe's workers, FFmpeg's decoder, the stage threads), the garbage collector's pauses, the
load average at its start and end. Writes <results>/<name>.{json,md,png} (+ -profile.svg).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path

GOALS = {
    "cpu_ms_per_frame_720p_paced": ("<=", 10.0),
    "e2e_p50_ms_720p_paced": ("<=", 20.0),
    "e2e_p99_ms_720p_paced": ("<=", 33.0),
    "e2e_p99_ms_1080p_paced_cpu_load_1": ("<=", 33.0),
    "fps_720p_max_pipelined": (">=", 150.0),
    "ratio_pipelined_over_sequential_720p_max": (">=", 1.5),
}


class _GcPauses:
    """Collections and the time they held the interpreter, while installed."""

    def __init__(self) -> None:
        self.counts = [0, 0, 0]
        self.seconds = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.counts[info["generation"]] += 1
            self.seconds += time.perf_counter() - self._started

    def reset(self) -> None:
        self.counts = [0, 0, 0]
        self.seconds = 0.0

    def __enter__(self) -> _GcPauses:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc_info) -> None:
        gc.callbacks.remove(self)


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else []


def _scenario(label: str, settings, *, paced: bool, frames: int, warmup: int,
              sequential: bool = False, cpu_load: int = 0, profile: Path | None = None) -> dict:
    from benchmarks.latency import Benchmark, build_stages, ratios

    load_start = _load()
    with _GcPauses() as pauses:
        def build(settings):
            built = build_stages(settings)
            pauses.reset()  # the collector's work while frames flow, not during start-up
            return built

        measured = Benchmark(settings, paced=paced, frames=frames, warmup=warmup,
                             sequential=sequential, cpu_load=cpu_load, profile=profile).run(build)
    runs = measured["runs"]
    out = {"label": label, "size": list(runs["pipelined"].size), "paced": paced,
           "cpu_load": cpu_load, "opencv_threads": settings.inference.opencv_threads,
           "load_average_at_start": load_start, "load_average_at_end": _load(),
           "gc": {"collections_by_generation": pauses.counts, "pause_ms_total": 1000 * pauses.seconds},
           "runs": {engine: run.summary() for engine, run in runs.items()}}
    if "sequential" in runs:
        out["ratios_pipelined_over_sequential"] = ratios(runs["pipelined"], runs["sequential"])
    print(f"{label}: " + "; ".join(
        f"{engine} {run['fps']:.1f} FPS, CPU {run['cpu_ms_per_frame']:.1f} ms/frame, "
        f"e2e p50 {run['end_to_end_ms']['p50']:.1f} p99 {run['end_to_end_ms']['p99']:.1f}"
        for engine, run in out["runs"].items()), file=sys.stderr, flush=True)
    return out


def measure(args: argparse.Namespace) -> dict:
    from benchmarks import latency_report
    from realtime.settings import Settings

    base = Settings().replace(input=args.input, source=args.source, outputs=("null",))
    native = base.replace(opencv_threads=args.opencv_threads)
    started = latency_report.machine()
    first = _scenario("720p30 paced", native, paced=True, frames=args.frames, warmup=args.warmup)
    width, height = first["size"]
    big = (1080, 1920) if height > width else (1920, 1080)
    scenarios = [
        first,
        _scenario("720p30 paced, OpenCV's default pool (--opencv-threads 0)",
                  base.replace(opencv_threads=0), paced=True, frames=args.frames, warmup=args.warmup),
        _scenario("1080p30 paced, --cpu-load 1", native.replace(size=big), paced=True,
                  frames=args.frames, warmup=args.warmup, cpu_load=1),
        _scenario("720p as fast as possible", native, paced=False, frames=args.max_frames,
                  warmup=args.warmup, sequential=True),
    ]
    paced, loaded, fastest = scenarios[0], scenarios[2], scenarios[3]
    figures = {
        "cpu_ms_per_frame_720p_paced": paced["runs"]["pipelined"]["cpu_ms_per_frame"],
        "e2e_p50_ms_720p_paced": paced["runs"]["pipelined"]["end_to_end_ms"]["p50"],
        "e2e_p99_ms_720p_paced": paced["runs"]["pipelined"]["end_to_end_ms"]["p99"],
        "e2e_p99_ms_1080p_paced_cpu_load_1": loaded["runs"]["pipelined"]["end_to_end_ms"]["p99"],
        "fps_720p_max_pipelined": fastest["runs"]["pipelined"]["fps"],
        "ratio_pipelined_over_sequential_720p_max": fastest["ratios_pipelined_over_sequential"]["fps"] or 0.0,
    }
    goals = {name: {"measured": figures[name], "goal": f"{op} {target:g}",
                    "met": figures[name] <= target if op == "<=" else figures[name] >= target}
             for name, (op, target) in GOALS.items()}
    doc = {"benchmark": "facecam CPU floor (issue 21)",
           "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "machine": started, "versions": latency_report.versions(),
           "settings": {"input": args.input, "source": args.source, "mode": "swap", "swapper": "mesh",
                        "frames": args.frames, "max_frames": args.max_frames, "warmup": args.warmup,
                        "opencv_threads": args.opencv_threads},
           "notes": list(args.note), "goals": goals, "scenarios": scenarios}
    doc["machine"]["load_average_at_end"] = _load()
    if args.profile:
        from realtime.errors import FacecamError

        profile = args.results / f"{args.name}-profile.svg"
        try:
            _scenario("720p30 paced, under py-spy (not in the figures)", native, paced=True,
                      frames=args.frames, warmup=args.warmup, profile=profile)
            doc["profile"] = profile.name  # beside the results
        except FacecamError as error:  # no py-spy, no ptrace: the figures above still count
            print(f"facecam: no profile: {error}", file=sys.stderr)
            doc["notes"].append(f"No profile: {error}")
    return doc


# -- report ------------------------------------------------------------------------------------
def markdown(doc: dict) -> str:
    from benchmarks.latency_report import thread_table

    machine = doc["machine"]
    lines = [f"# facecam CPU floor: {doc['settings']['input']}, mesh swap, one face", "",
             f"{doc['created']} · {machine.get('processor')} · {machine.get('cpu_count')} cores · "
             f"load average at start {machine.get('load_average_at_start')}, at end "
             f"{machine.get('load_average_at_end')} · "
             + ", ".join(f"{k} {v}" for k, v in doc["versions"].items()), ""]
    lines += [f"- {note}" for note in doc["notes"]]
    lines += ["- CPU ms per frame: the whole process's CPU time (every thread, user + system) from "
              "a run's start (start-up excluded) to its end, over the frames that came out.",
              f"- The first {doc['settings']['warmup']} frames of every run are warm-up (excluded "
              "from latency and FPS, included in CPU time).", "",
              "## Goals", "", "| goal | measured | target | met |", "|---|---|---|---|"]
    for name, goal in doc["goals"].items():
        lines.append(f"| {name} | {goal['measured']:.2f} | {goal['goal']} | "
                     f"{'yes' if goal['met'] else '**no**'} |")
    lines += ["", "## Runs", "",
              "| run | engine | FPS | CPU ms/frame | of it kernel | e2e p50 | p95 | p99 | dropped | "
              "detect p50 | swap p50 | blend p50 | output p50 | GC pauses (ms, collections) | "
              "load avg start → end |", "|---" * 15 + "|"]
    for scenario in doc["scenarios"]:
        for engine, run in scenario["runs"].items():
            stages = run["stages_ms"]
            e2e = run["end_to_end_ms"]
            gc_cell = (f"{scenario['gc']['pause_ms_total']:.1f} ({sum(scenario['gc']['collections_by_generation'])})")
            lines.append(
                f"| {scenario['label']} ({run['size'][0]}x{run['size'][1]}) | {engine} | {run['fps']:.1f} | "
                f"{run['cpu_ms_per_frame']:.1f} | {run['cpu_sys_ms_per_frame']:.1f} | {e2e['p50']:.1f} | "
                f"{e2e['p95']:.1f} | {e2e['p99']:.1f} | {run['drops']} | "
                + " | ".join(f"{stages.get(s, {}).get('p50', 0.0):.1f}" for s in ("detect", "swap", "blend", "output"))
                + f" | {gc_cell} | {scenario['load_average_at_start'][:1]} → {scenario['load_average_at_end'][:1]} |")
    for scenario in doc["scenarios"]:
        if scenario.get("ratios_pipelined_over_sequential"):
            ratio = scenario["ratios_pipelined_over_sequential"]["fps"]
            lines += ["", f"{scenario['label']}: pipelined / sequential FPS x{ratio:.2f}."]
    lines += ["", "## Where the CPU goes, by thread (ms per output frame)"]
    for scenario in doc["scenarios"]:
        lines += ["", f"### {scenario['label']}"]
        lines += thread_table(scenario["runs"])[2:]
    if doc.get("floor"):
        lines += ["", "## The floor", "", *doc["floor"]]
    if doc.get("profile"):
        lines += ["", f"Profile of the 720p30 paced run (py-spy, idle threads left out): "
                      f"`{doc['profile']}`."]
    return "\n".join(lines) + "\n"


def plot(doc: dict, path: Path) -> None:
    """CPU ms per output frame by thread, one stacked bar per run, with the 10 ms goal."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bars = []
    for scenario in doc["scenarios"]:
        for engine, run in scenario["runs"].items():
            bars.append((f"{scenario['label']}\n{engine}", run["cpu_ms_per_frame_by_thread"]))
    names: list[str] = []
    for _, parts in bars:
        names.extend(n for n in parts if n not in names)
    figure, axes = plt.subplots(figsize=(10, 1.5 + 0.6 * len(bars)))
    colours = plt.get_cmap("tab20")
    for position, (_, parts) in enumerate(bars):
        left = 0.0
        for index, name in enumerate(names):
            value = parts.get(name, 0.0)
            axes.barh(position, value, left=left, color=colours(index % 20),
                      label=name if position == 0 else None)
            left += value
    axes.axvline(GOALS["cpu_ms_per_frame_720p_paced"][1], color="black", linestyle="--",
                 linewidth=1, label="goal: 10 ms per frame (720p30 paced)")
    axes.set_yticks(range(len(bars)), [label for label, _ in bars], fontsize=7)
    axes.invert_yaxis()
    axes.set_xlabel("CPU ms per output frame, by thread (whole process, user + system)")
    axes.set_title(f"facecam CPU per frame, {doc['settings']['input']} (load average "
                   f"{doc['machine'].get('load_average_at_start', ['?'])[0]} on "
                   f"{doc['machine'].get('cpu_count')} cores)", fontsize=10)
    axes.legend(loc="lower right", fontsize=7, ncol=2)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from benchmarks.bench_cli import DEFAULT_RESULTS

    parser.add_argument("--input", "-i", default="../shared/media/d13.mp4",
                        help="the 720p webcam-like video (default ../shared/media/d13.mp4)")
    parser.add_argument("--source", default="../shared/media/s0.jpg", help="the face to wear")
    parser.add_argument("--frames", type=int, default=300, help="frames per paced run")
    parser.add_argument("--max-frames", type=int, default=200,
                        help="frames per as-fast-as-possible run")
    parser.add_argument("--warmup", type=int, default=15)
    parser.add_argument("--opencv-threads", type=int, default=1,
                        help="the engine's setting for the main runs (default 1, the default)")
    parser.add_argument("--no-profile", dest="profile", action="store_false",
                        help="skip the extra run under py-spy")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument("--name", default="latency-cpu-floor")
    parser.add_argument("--note", action="append", default=[])
    parser.add_argument("--floor", action="append", default=[], metavar="TEXT",
                        help="a line for the 'floor' section (what bounds the figures)")


def run(args: argparse.Namespace) -> int:
    doc = measure(args)
    doc["floor"] = list(args.floor)
    args.results.mkdir(parents=True, exist_ok=True)
    stem = args.results / args.name
    stem.with_suffix(".json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    stem.with_suffix(".md").write_text(markdown(doc), encoding="utf-8")
    plot(doc, stem.with_suffix(".png"))
    for goal, value in doc["goals"].items():
        print(f"{goal}: {value['measured']:.2f} (goal {value['goal']}: "
              f"{'met' if value['met'] else 'not met'})", file=sys.stderr)
    print(f"wrote {stem}.json, .md, .png" + (f", {doc['profile']}" if doc.get("profile") else ""),
          file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="facecam bench cpu", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
