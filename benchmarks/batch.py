"""Batch benchmark: frames per second of `facecam batch` with 1 and 2 local workers (and Ray when
installed), and the fixed cost of one job (start-up: engine, MediaPipe, encoder, C2PA signing).

    python -m benchmarks.batch --clips 4 --frames 90

Clips are cut from ../shared/media at 512x512; results go to benchmarks/results/batch.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parent.parent
MEDIA = Path(os.environ.get("FACECAM_MEDIA", ROOT.parent / "shared" / "media"))
NAMES = ("d3", "d6", "d9", "d10", "d14", "d20")


def cut(source: Path, target: Path, frames: int) -> None:
    import av

    with av.open(str(source)) as reader, av.open(str(target), "w") as writer:
        stream = writer.add_stream("libx264", rate=25)
        stream.width, stream.height = 512, 512
        stream.pix_fmt = "yuv420p"
        for number, frame in enumerate(reader.decode(video=0)):
            if number >= frames:
                break
            small = frame.reformat(512, 512, format="yuv420p")
            small.pts = None
            for packet in stream.encode(small):
                writer.mux(packet)
        for packet in stream.encode():
            writer.mux(packet)


def batch(inputs: list[Path], out: Path, *extra: str) -> dict:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "realtime.cli", "batch", *map(str, inputs), "-o", str(out),
                           "--json", "--redo", *extra], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"batch failed: {done.stderr.strip().splitlines()[-1:]}")
    report = json.loads(done.stdout)
    report["wall_s"] = wall
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--ray", action="store_true", help="also run on a local Ray (facecam[scale])")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        clips = []
        for number in range(args.clips):
            clip = work / f"clip{number}.mp4"
            cut(MEDIA / f"{NAMES[number % len(NAMES)]}.mp4", clip, args.frames)
            clips.append(clip)
        tiny = []
        for number in range(4):
            clip = work / f"tiny{number}.mp4"
            cut(MEDIA / "d9.mp4", clip, 1)
            tiny.append(clip)
        runs = [("local", 1, ["--workers", "1"]), ("local", 2, ["--workers", "2"])]
        if args.ray:
            runs += [("ray", 2, ["--ray", "--workers", "2"])]
        for engine, workers, extra in runs:
            report = batch(clips, work / f"out-{engine}-{workers}", *extra)
            rows.append({"engine": engine, "workers": workers, "frames": report["frames"],
                         "wall_s": report["wall_s"], "fps": report["frames"] / report["wall_s"],
                         "job_s": [r["seconds"] for r in report["results"]]})
        overhead = batch(tiny, work / "out-tiny", "--workers", "1")
    per_job = sum(r["seconds"] for r in overhead["results"]) / len(overhead["results"])
    result = {"clips": args.clips, "frames_per_clip": args.frames, "size": "512x512", "cpus": os.cpu_count(),
              "load": os.getloadavg(), "runs": rows, "job_overhead_s": per_job,
              "scaling_2_vs_1": rows[1]["fps"] / rows[0]["fps"]}
    lines = ["# facecam batch: throughput", "",
             f"{args.clips} clips x {args.frames} frames at 512x512, mesh swap, {os.cpu_count()} CPUs, "
             f"load average {os.getloadavg()[0]:.1f} at the end (other jobs shared the machine).", "",
             "| engine | workers | frames | wall (s) | frames/s |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {r['engine']} | {r['workers']} | {r['frames']} | {r['wall_s']:.1f} | {r['fps']:.1f} |" for r in rows]
    lines += ["", f"2 workers vs 1: x{result['scaling_2_vs_1']:.2f}. Fixed cost of one job (a 1-frame clip: "
              f"engine start, MediaPipe, encoder, C2PA signing): {per_job:.2f} s."]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "batch.json").write_text(json.dumps(result, indent=2))
    (args.out / "batch.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
