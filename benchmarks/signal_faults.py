"""Process faults against a recording: SIGKILL at random points, and a second SIGINT/SIGTERM
during shutdown. Measures what a user keeps.

    python -m benchmarks.signal_faults --kills 12 --doubles 10 [--tree /path/to/facecam]

Each run records the demo clip (passthrough, 320x180, file mode) with `facecam run`, started
through a small wrapper that appends the number of frames handed to the recorder to a trace file
after every `VideoRecorder.write` (the wrapper patches the class, so the same measurement runs
against any checkout: `--tree` points at it). After a kill, the frames that decode from whatever
file is left are compared with the frames that had been handed to the encoder.

Writes benchmarks/results/signal_faults.json and .md (with --out).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WRAPPER = r"""
import os, sys
trace = open(os.environ["FACECAM_TRACE"], "a", buffering=1)
import realtime.output.recorder as recorder
original = recorder.VideoRecorder.write
def write(self, frame):
    original(self, frame)
    trace.write(f"{self.frames_written}\n")
recorder.VideoRecorder.write = write
from realtime.cli import main
sys.argv = ["facecam", *sys.argv[1:]]
sys.exit(main())
"""


def decoded_frames(folder: Path) -> tuple[int, list[str]]:
    """Frames that decode from the video files left in `folder` (the final name or a partial)."""
    import av

    total = 0
    names = []
    for path in sorted(folder.glob("*.mp4")):
        names.append(path.name)
        try:
            with av.open(str(path)) as container:
                for _ in container.decode(video=0):
                    total += 1
        except (av.error.FFmpegError, OSError):
            pass
    return total, names


def handed(trace: Path) -> int:
    lines = trace.read_text().split() if trace.exists() else []
    return int(lines[-1]) if lines else 0


def start(tree: Path, folder: Path, size: str) -> tuple[subprocess.Popen, Path]:
    trace = folder / "trace.txt"
    env = dict(os.environ, PYTHONPATH=str(tree), FACECAM_TRACE=str(trace))
    env.pop("DISPLAY", None)
    process = subprocess.Popen(
        [sys.executable, "-c", WRAPPER, "run", "--input", "demo", "--loop", "--size", size,
         "--mode", "passthrough", "--no-live", "--output", str(folder / "out" / "rec.mp4"), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=folder, env=env)
    return process, trace


def wait_for_frames(process: subprocess.Popen, trace: Path, frames: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while handed(trace) < frames:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"facecam ended early: {process.stderr.read()}")
        time.sleep(0.05)


def kill_run(tree: Path, rng: random.Random, size: str) -> dict:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        process, trace = start(tree, folder, size)
        try:
            wait_for_frames(process, trace, 10)
            time.sleep(rng.uniform(0.0, 4.0))
            process.kill()
            process.wait(30)
        finally:
            if process.poll() is None:
                process.kill()
        given = handed(trace)
        decoded, names = decoded_frames(folder / "out")
        return {"handed": given, "decoded": decoded, "lost": given - decoded, "files": names}


def double_signal_run(tree: Path, rng: random.Random, how: int, size: str) -> dict:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        process, trace = start(tree, folder, size)
        try:
            wait_for_frames(process, trace, 20)
            time.sleep(rng.uniform(0.0, 1.0))
            process.send_signal(how)
            time.sleep(rng.uniform(0.0, 0.15))
            process.send_signal(how)
            try:
                stdout, stderr = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:  # hung: what a user would kill
                process.kill()
                stdout, stderr = process.communicate(timeout=30)
                stderr += "\n(hung for 30 s: killed)"
        finally:
            if process.poll() is None:
                process.kill()
        given = handed(trace)
        decoded, names = decoded_frames(folder / "out")
        try:
            reported = json.loads(stdout).get("frames_out")
        except json.JSONDecodeError:
            reported = None
        clean = process.returncode == 130 and decoded == given and reported in (given, None) \
            and stdout.strip() != ""
        hung = stderr.endswith("(hung for 30 s: killed)")
        return {"exit": "hung" if hung else process.returncode, "handed": given, "decoded": decoded,
                "json_frames_out": reported, "clean": clean, "files": names,
                "stderr_tail": stderr.strip().splitlines()[-2:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=ROOT, help="the facecam checkout to measure")
    parser.add_argument("--kills", type=int, default=12)
    parser.add_argument("--doubles", type=int, default=10, help="runs per signal (SIGINT, SIGTERM)")
    parser.add_argument("--size", default="320x180")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--out", type=Path, help="write NAME.json and NAME.md")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    kills = [kill_run(args.tree, rng, args.size) for _ in range(args.kills)]
    doubles = {sig.name: [double_signal_run(args.tree, rng, sig, args.size) for _ in range(args.doubles)]
               for sig in (signal.SIGINT, signal.SIGTERM)}
    lost = [k["lost"] for k in kills]
    result = {
        "tree": str(args.tree), "size": args.size,
        "kills": kills,
        "kill_frames_lost": {"min": min(lost, default=0), "max": max(lost, default=0),
                             "mean": sum(lost) / len(lost) if lost else 0.0,
                             "unreadable_files": sum(1 for k in kills if k["decoded"] == 0)},
        "double_signals": doubles,
        "double_signal_clean": {name: sum(r["clean"] for r in runs) for name, runs in doubles.items()},
    }
    print(json.dumps({k: result[k] for k in ("kill_frames_lost", "double_signal_clean")}, indent=2))
    if args.out:
        args.out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
        lines = [f"# Process faults against a recording ({args.tree.name})", "",
                 f"demo clip, passthrough, {args.size}, file mode, 30 fps", "",
                 "## SIGKILL at a random point", "", "| run | handed to encoder | decoded | lost |",
                 "|---|---|---|---|"]
        lines += [f"| {i + 1} | {k['handed']} | {k['decoded']} | {k['lost']} |" for i, k in enumerate(kills)]
        summary = result["kill_frames_lost"]
        lines += ["", f"frames lost per kill: min {summary['min']}, mean {summary['mean']:.1f}, "
                  f"max {summary['max']}; unreadable files: {summary['unreadable_files']}", "",
                  "## A second signal during shutdown", "",
                  "| signal | run | exit | handed | decoded | --json frames_out | clean |", "|---|---|---|---|---|---|---|"]
        for name, runs in doubles.items():
            lines += [f"| {name} | {i + 1} | {r['exit']} | {r['handed']} | {r['decoded']} | "
                      f"{r['json_frames_out']} | {'yes' if r['clean'] else 'no'} |" for i, r in enumerate(runs)]
        lines += ["", "clean = exit 130, every frame handed to the encoder decodes, and --json printed "
                  "the frames really written."]
        args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
