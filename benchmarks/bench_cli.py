"""`facecam bench`: latency per stage and end to end, pipelined engine vs a sequential loop.

    facecam bench --input ../shared/media/d13.mp4 --paced      # webcam-like: latency
    facecam bench --input demo --max --scaling                 # as fast as possible + scaling grid
    facecam bench quality swap --help                          # the other kinds: KINDS below

Writes benchmarks/results/latency-<pacing>-<device>.{json,md,png} (see --results) and prints a
summary; `--json` prints the whole result document on stdout, `--json-file FILE` writes it there.
Every setting of `facecam run` is a flag here too (generated from realtime/settings.py), but
those the benchmark decides itself (`BENCH_EXCLUDED`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[1]
# The project's benchmarks/results from a source checkout, wherever the command is started; an
# installed package has no project folder: ./facecam-results there.
DEFAULT_RESULTS = (_CHECKOUT / "benchmarks" / "results" if (_CHECKOUT / "pyproject.toml").exists()
                   else Path("facecam-results"))

BENCH_EXCLUDED = {
    # Settings the benchmark decides itself, so they have no flag here:
    "outputs": "frames go to a null output: the benchmark measures the engine, not a disk or a display",
    "max_frames": "--max-frames (alias --frames) counts the frames measured after the warm-up",
    "live": "--paced / --max choose the pacing",
    "loop": "the input is measured once (or --repeat N times)",
}


# `facecam bench KIND [ARGS]`: every benchmark from one command. Latency (the default) takes
# the options below; the others take their own (`facecam bench quality swap --help`).
KINDS = {
    "latency": ("benchmarks.bench_cli", "latency per stage and end to end (default; options below)"),
    "quality": ("benchmarks.quality", "swap / animate quality on the videos in ../shared/media"),
    "soak": ("benchmarks.soak", "memory and frame rate over a long run"),
    "cpu": ("benchmarks.cpu_floor", "the CPU goals (issue 21) in one run: CPU ms per frame, "
                                    "latency under load, max FPS, with a py-spy profile"),
    "gpu": ("benchmarks.gpu_inference", "ONNX Runtime providers on stand-in and real models"),
    "watermark": ("benchmarks.watermark", "invisible mark: visibility and detection"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", nargs="?", default="latency", choices=tuple(KINDS),
                        help="which benchmark: " + "; ".join(f"{k}: {h}" for k, (_, h) in KINDS.items()))
    parser.add_argument("kind_args", nargs=argparse.REMAINDER, metavar="...",
                        help="the benchmark's own options (for latency: those below)")
    # Every other setting is a flag here too, made from its declaration (realtime/settings.py),
    # as for `facecam run`: a benchmark runs what the engine runs. (realtime.settings_cli, not
    # realtime.cli: no import loop between the command table and a command.)
    from realtime.settings_cli import add_settings_arguments

    measure = parser.add_argument_group("what to measure")
    measure.add_argument("--max-frames", "--frames", dest="frames", type=int, metavar="N",
                         help="frames to capture after the warm-up (default: the whole input); "
                              "paced runs may drop some of them")
    measure.add_argument("--warmup", type=int, default=None, metavar="N",
                         help="frames excluded at the start of every run (default 15)")
    pacing = measure.add_mutually_exclusive_group()
    pacing.add_argument("--paced", dest="paced", action="store_true", default=True,
                        help="deliver the input at its own frame rate like a webcam (default)")
    pacing.add_argument("--max", dest="paced", action="store_false",
                        help="as fast as possible, nothing dropped (throughput)")
    measure.add_argument("--repeat", type=int, default=1, metavar="N",
                         help="run each engine N times, interleaved, and pool the frames "
                              "(steadier figures on a shared machine)")
    measure.add_argument("--no-sequential", dest="sequential", action="store_false",
                         help="skip the sequential baseline")
    measure.add_argument("--scaling", action="store_true",
                         help="also measure 480p/720p/1080p and 1/2/4 faces (tiled input), "
                              "as fast as possible")
    measure.add_argument("--scaling-frames", type=int, default=60, metavar="N",
                         help="frames measured per scaling point (default 60)")
    measure.add_argument("--cpu-load", type=int, default=0, metavar="N",
                         help="start N competitor processes that keep one core busy each while "
                              "frames are measured (the call app beside facecam); they stop "
                              "with the benchmark, Ctrl-C included")
    results = parser.add_argument_group("results")
    results.add_argument("--results", type=Path, default=DEFAULT_RESULTS, metavar="DIR",
                         help="where the JSON, Markdown and PNG go (default: the project's "
                              "benchmarks/results, or ./facecam-results when installed)")
    results.add_argument("--name", metavar="STEM",
                         help="file name stem (default latency-<paced|max>-<device>)")
    results.add_argument("--no-save", dest="save", action="store_false",
                         help="print only; write no result files")
    results.add_argument("--note", action="append", default=[], metavar="TEXT",
                         help="a line for the results' notes (e.g. 'machine shared with other jobs')")
    results.add_argument("--profile", nargs="?", const="", default=None, metavar="SVG",
                         help="also record a flame graph of the measured runs with py-spy "
                              "(start-up excluded; default file: <results>/<name>-profile.svg)")
    results.add_argument("--json-file", metavar="FILE",
                         help="also write the whole result document as JSON into FILE "
                              "(--json prints it on stdout, as for every command)")
    add_settings_arguments(parser, exclude=tuple(BENCH_EXCLUDED))


def _settings(args: argparse.Namespace):
    from realtime.settings import Settings
    from realtime.settings_cli import settings_from_args

    base = Settings().replace(input="demo")
    return settings_from_args(args, base).replace(outputs=("null",))


def _check(args: argparse.Namespace) -> None:
    from realtime.errors import SettingsError

    for name, flag in (("frames", "--max-frames/--frames"), ("warmup", "--warmup"),
                       ("scaling_frames", "--scaling-frames"), ("repeat", "--repeat"),
                       ("cpu_load", "--cpu-load")):
        value = getattr(args, name)
        zero_ok = name in ("warmup", "cpu_load")
        if value is not None and value < (0 if zero_ok else 1):
            raise SettingsError(f"{flag} must be {'0 or more' if zero_ok else 'at least 1'}, "
                                f"not {value}")


def _check_input(settings) -> None:
    """A missing or unreadable input file is said in one line at once, before the engines start (which
    took 49 s on this machine before the same line came). Cameras are left to the benchmark: opening one
    twice can fail or stall on some drivers."""
    from realtime.capture import open_source

    spec = settings.capture.input.strip()
    if spec in ("auto", "demo") or spec.isdigit():
        return
    open_source(settings.capture).close()


def run(args: argparse.Namespace) -> int:
    if args.kind != "latency":
        import importlib

        return importlib.import_module(KINDS[args.kind][0]).main(args.kind_args)
    if args.kind_args:  # `facecam bench latency --input ...`: the options came after the kind
        parser = argparse.ArgumentParser(prog="facecam bench latency")
        add_arguments(parser)
        again = parser.parse_args(args.kind_args)
        for name in ("json", "quiet", "verbose", "debug"):  # the common flags, given before
            setattr(again, name, getattr(args, name, False))
        args = again
    return run_latency(args)


def run_latency(args: argparse.Namespace) -> int:
    from benchmarks import latency_report
    from benchmarks.latency import WARMUP_FRAMES, Benchmark

    _check(args)
    settings = _settings(args)
    _check_input(settings)
    interactive = sys.stderr.isatty() and not args.json and not args.quiet
    bars = []

    def progress(label: str, total: int | None):
        if not interactive:
            return None
        from tqdm import tqdm

        bar = tqdm(total=total, desc=label, unit="frame", dynamic_ncols=True, leave=False,
                   file=sys.stderr)
        bars.append(bar)

        def update(done: int) -> None:
            bar.update(done - bar.n)

        return update

    started = latency_report.machine()
    warmup = WARMUP_FRAMES if args.warmup is None else args.warmup
    pacing = "paced" if args.paced else "max"
    device = settings.inference.device
    name = args.name or f"latency-{pacing}-{device}"
    profile = None
    if args.profile is not None:
        from benchmarks.cpu import Profiler

        Profiler.executable()  # no py-spy: say so now, not after the start-up
        profile = Path(args.profile) if args.profile else args.results / f"{name}-profile.svg"
    benchmark = Benchmark(settings, paced=args.paced, frames=args.frames, warmup=warmup,
                          sequential=args.sequential, repeat=args.repeat, scaling=args.scaling,
                          scaling_frames=args.scaling_frames,
                          progress=progress if interactive else None,
                          cpu_load=args.cpu_load, profile=profile)
    try:
        measured = benchmark.run()
    finally:
        for bar in bars:
            bar.close()
    recorded = {
        "input": settings.capture.input, "source": settings.source or "built-in face", "mode": settings.mode,
        "swapper": settings.swap.swapper if settings.mode == "swap" else None,
        "animator": settings.animate.animator if settings.mode == "animate" else None,
        "device": device, "size": list(settings.capture.size) if settings.capture.size else None,
        "max_faces": settings.faces.max_faces, "pacing": pacing, "frames": args.frames,
        "warmup": warmup, "repeat": args.repeat, "scaling": args.scaling, "scaling_frames": args.scaling_frames,
        "cpu_load": args.cpu_load, "profile": str(profile) if profile is not None else None,
    }
    notes = ["End to end: from the frame's capture timestamp (delivery by the camera or the paced "
             "file) to the output stage having written it (null output).",
             "CPU ms per frame: the whole process's CPU time (every thread, user + system) from "
             "the start of a run (start-up excluded) to its end, over the frames that came out.",
             *args.note]
    if args.cpu_load:
        notes.append(f"{args.cpu_load} competitor process(es) kept one core busy each while "
                     f"frames were measured (--cpu-load).")
    if settings.mode == "swap" and settings.swap.swapper == "mesh" or \
            settings.mode == "animate" and settings.animate.animator == "mesh":
        notes.append("The embedded mesh engine runs no neural model: it is all CPU whatever "
                     "--device says.")
    doc = latency_report.document(measured["runs"], measured["scaling"], recorded, notes, started)
    written = []
    if args.save:
        written = latency_report.write(doc, args.results, name)
    if args.json_file:
        Path(args.json_file).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(doc, indent=2))
    elif not args.quiet:
        print(_summary(doc), file=sys.stderr)
        for path in written + ([profile] if profile is not None else []):
            print(f"wrote {path}", file=sys.stderr)
    return 0


def _summary(doc: dict) -> str:
    lines = []
    for engine, run in doc["runs"].items():
        e2e = run["end_to_end_ms"]
        stages = ", ".join(f"{name} {p['p50']:.1f}/{p['p95']:.1f}" for name, p in run["stages_ms"].items())
        lines.append(f"{engine:>10}: {run['fps']:.1f} FPS, e2e p50 {e2e['p50']:.1f} p95 {e2e['p95']:.1f} "
                     f"p99 {e2e['p99']:.1f} ms, dropped {run['drops']}, "
                     f"CPU {run['cpu_ms_per_frame']:.1f} ms per frame "
                     f"({run['cpu_percent_of_one_core']:.0f}% of a core); p50/p95 ms: {stages}")
    ratio = doc.get("ratios_pipelined_over_sequential")
    if ratio:
        fps = "n/a" if ratio["fps"] is None else f"{ratio['fps']:.2f}"
        e2e = "n/a" if ratio["end_to_end_p50"] is None else f"{ratio['end_to_end_p50']:.2f}"
        lines.append(f"pipelined/sequential: FPS x{fps}, e2e p50 x{e2e}")
    if "latency_target" in doc:
        lines.append(doc["latency_target"]["text"])
    for row in doc.get("scaling", []):
        run = row["runs"].get("sequential") or row["runs"]["pipelined"]
        lines.append(f"  {row['label']:>14} {row['size'][0]}x{row['size'][1]}: "
                     f"{row['runs']['pipelined']['fps']:.1f} FPS pipelined, "
                     f"{run['end_to_end_ms']['p50']:.1f} ms per frame (p50, sequential)")
    lines.append(f"(first {doc['settings']['warmup']} frames of every run excluded as warm-up)")
    return "\n".join(lines)
