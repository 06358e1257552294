"""What each feature costs per frame, and the floor under them (issue 21), in one sitting.

    python -m benchmarks.cpu_ladder --input ../shared/media/d13.mp4 --source ../shared/media/s0.jpg

The engine's own stages (realtime/assembly.py, as `facecam bench` runs them), as fast as
possible (file mode: nothing dropped, so every decoded frame is a frame out and CPU per frame is
not inflated by work thrown away), once per rung:

- every feature on (the defaults);
- each feature off in turn (several faces, small faces, colour transfer, relight, camera grain,
  glasses, hands, clean texture): what switching it off saves;
- the minimal swap: all of them off;
- the floor: passthrough (decode + face mesh + tracking + the output's label and mark, no swap).

CPU ms per frame is the whole process's CPU time (all threads, user + system, start-up excluded)
over the frames out. Rounds are interleaved (every rung once, then again) and the median is kept,
so every rung sees the same ups and downs of a shared machine. Writes
<results>/cpu-ladder.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

RUNGS: dict[str, dict] = {
    "every feature on (defaults)": {},
    "one face only (max_faces 1)": {"max_faces": 1},
    "no small-face search (small_faces off)": {"small_faces": False},
    "no colour transfer (color_transfer 0)": {"color_transfer": 0.0},
    "no relight (shading 0)": {"shading": 0.0},
    "no camera grain (grain 0)": {"grain": 0.0},
    "no glasses keep (keep_occluders off)": {"keep_occluders": False},
    "no hand keep (keep_hands off)": {"keep_hands": False},
    "raw source photo (clean_source off)": {"clean_source": False},
    "minimal swap (all of the above off)": {
        "max_faces": 1, "small_faces": False, "color_transfer": 0.0, "shading": 0.0, "grain": 0.0,
        "keep_occluders": False, "keep_hands": False, "clean_source": False},
    "floor: passthrough (decode + mesh + output)": {"mode": "passthrough", "max_faces": 1,
                                                    "small_faces": False},
}


def _one(settings, frames: int, warmup: int) -> dict:
    from benchmarks.latency import Benchmark

    run = Benchmark(settings, paced=False, frames=frames, warmup=warmup,
                    sequential=False).run()["runs"]["pipelined"].summary()
    return {"cpu_ms_per_frame": run["cpu_ms_per_frame"], "fps": run["fps"],
            "by_thread": run["cpu_ms_per_frame_by_thread"], "faces_mean": run["faces_mean"]}


def measure(args: argparse.Namespace) -> dict:
    from benchmarks import latency_report
    from realtime.settings import Settings

    base = Settings().replace(input=args.input, source=args.source, outputs=("null",))
    names = [name for name in RUNGS if not args.only or any(o in name for o in args.only)]
    rounds: dict[str, list[dict]] = {name: [] for name in names}
    load = [os.getloadavg()[0]]
    for index in range(args.rounds):
        for name in names:
            result = _one(base.replace(**RUNGS[name]), args.frames, args.warmup)
            rounds[name].append(result)
            print(f"round {index + 1} {name}: {result['cpu_ms_per_frame']:.1f} ms CPU/frame, "
                  f"{result['fps']:.1f} FPS", file=sys.stderr, flush=True)
        load.append(os.getloadavg()[0])
    rungs = {}
    for name, results in rounds.items():
        median = statistics.median(r["cpu_ms_per_frame"] for r in results)
        threads = sorted({t for r in results for t in r["by_thread"]})
        rungs[name] = {
            "changes": RUNGS[name], "cpu_ms_per_frame": median,
            "cpu_ms_per_frame_rounds": [r["cpu_ms_per_frame"] for r in results],
            "fps_median": statistics.median(r["fps"] for r in results),
            "faces_mean": statistics.median(r["faces_mean"] for r in results),
            "by_thread": {t: statistics.median(r["by_thread"].get(t, 0.0) for r in results)
                          for t in threads}}
    everything = rungs.get("every feature on (defaults)", {}).get("cpu_ms_per_frame")
    for rung in rungs.values():
        rung["saves_ms"] = None if everything is None else everything - rung["cpu_ms_per_frame"]
    return {"benchmark": "facecam CPU ladder (issue 21)",
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": latency_report.machine(), "versions": latency_report.versions(),
            "settings": {"input": args.input, "source": args.source, "frames": args.frames,
                         "warmup": args.warmup, "rounds": args.rounds},
            "load_average_1min_between_rounds": [round(x, 2) for x in load],
            "uptime": _uptime(), "notes": list(args.note), "rungs": rungs}


def _uptime() -> str:
    try:
        import subprocess

        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except Exception:  # informative only
        return ""


def markdown(doc: dict) -> str:
    s = doc["settings"]
    lines = [f"# facecam CPU ladder: {s['input']} + {s['source']}, mesh swap, as fast as possible",
             "", f"{doc['created']} · {doc['machine'].get('processor')} · "
             f"{doc['machine'].get('cpu_count')} cores · `uptime` at the end: {doc['uptime']} · "
             f"1-min load between rounds {doc['load_average_1min_between_rounds']}", ""]
    lines += [f"- {note}" for note in doc["notes"]]
    lines += [f"- {s['frames']} frames per run after {s['warmup']} warm-up frames, {s['rounds']} "
              "interleaved rounds, median. CPU ms per frame: the whole process (all threads, "
              "user + system), start-up excluded.", "",
              "| rung | CPU ms/frame (median) | saves vs all on | rounds | FPS | faces | "
              "mediapipe | detect | swap | blend | output | capture + av:h264 |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, rung in doc["rungs"].items():
        t = rung["by_thread"]
        saves = "" if rung["saves_ms"] is None else f"{rung['saves_ms']:+.1f}"
        lines.append(
            f"| {name} | {rung['cpu_ms_per_frame']:.1f} | {saves} | "
            + ", ".join(f"{v:.1f}" for v in rung["cpu_ms_per_frame_rounds"])
            + f" | {rung['fps_median']:.1f} | {rung['faces_mean']:.2f} | "
            + " | ".join(f"{t.get(k, 0.0):.1f}" for k in
                         ("mediapipe", "facecam-detect", "facecam-swap", "facecam-blend", "facecam-output"))
            + f" | {t.get('facecam-capture', 0.0) + t.get('av:h264', 0.0):.1f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from benchmarks.bench_cli import DEFAULT_RESULTS

    parser = argparse.ArgumentParser(prog="python -m benchmarks.cpu_ladder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", "-i", default="../shared/media/d13.mp4")
    parser.add_argument("--source", default="../shared/media/s0.jpg")
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", action="append", default=[], metavar="TEXT",
                        help="only the rungs whose name contains TEXT (repeatable)")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument("--name", default="cpu-ladder")
    parser.add_argument("--note", action="append", default=[])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    doc = measure(args)
    text = markdown(doc)
    print(text)
    if not args.no_write:
        args.results.mkdir(parents=True, exist_ok=True)
        stem = args.results / args.name
        stem.with_suffix(".json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        stem.with_suffix(".md").write_text(text, encoding="utf-8")
        print(f"wrote {stem}.json, .md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
