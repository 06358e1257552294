"""Soak test: live-paced input through swap -> virtual camera -> recorder for minutes on end.

    python -m benchmarks.soak [--minutes 10] [--size 640x360] [--fps 30]

A call runs for an hour: memory or threads that creep up, a virtual camera that slows down, or a
crash after minute seven are what this catches. The demo clip (looped, paced like a camera) is
swapped, sent to a virtual camera (a fake pyvirtualcam backend that only counts, so no device is
needed) and recorded to an MP4. Resident memory and thread count are sampled every few seconds;
"start" is taken after a warm-up (caches, encoder buffers and allocator pools fill first), "end"
at the end, and both must agree within 5%. Results: benchmarks/results/soak.json and soak.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

from realtime.settings_cli import parse_size

RESULTS = Path(__file__).resolve().parent / "results"


class CountingBackend:
    """A pyvirtualcam backend that counts frames and their times; nothing leaves the process."""

    sent = 0
    times: list[float] = []

    def __init__(self, width, height, fps, fourcc, device, **kw) -> None:
        self._device = device or "/dev/soak-vcam"

    def send(self, frame) -> None:
        CountingBackend.sent += 1
        CountingBackend.times.append(time.monotonic())
        if len(CountingBackend.times) > 4000:
            del CountingBackend.times[:2000]

    def close(self) -> None:
        pass

    def device(self) -> str:
        return self._device

    def native_fourcc(self):
        return None


def process_status() -> tuple[float, int]:
    """(resident memory in MiB, threads) of this process, from /proc (Linux)."""
    fields = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["Threads"])


def run(args: argparse.Namespace) -> int:
    import pyvirtualcam

    from realtime import Engine, Settings

    pyvirtualcam.register_backend("soak-counter", CountingBackend)
    duration = args.minutes * 60
    warmup = min(60.0, duration / 5)
    with tempfile.TemporaryDirectory() as folder:
        recording = Path(folder) / "soak.mp4"
        settings = Settings().replace(
            input="demo", loop=True, size=args.size, fps=args.fps, live=True, mode="swap",
            outputs=("vcam", str(recording)), vcam_backend="soak-counter")
        samples: list[dict] = []
        engine = Engine(settings).start()
        start = time.monotonic()
        crashed = None
        try:
            while time.monotonic() - start < duration:
                time.sleep(args.sample_s)
                if not engine.running:
                    crashed = repr(engine.failure) if engine.failure else "the pipeline ended"
                    break
                rss, threads = process_status()
                stats = engine.stats()
                recent = [t for t in CountingBackend.times if t > time.monotonic() - 5]
                vcam_fps = (len(recent) - 1) / (recent[-1] - recent[0]) if len(recent) > 2 else 0.0
                samples.append({"t_s": round(time.monotonic() - start, 1), "rss_mib": round(rss, 1),
                                "threads": threads, "py_threads": threading.active_count(),
                                "pipeline_fps": round(stats.fps, 2), "vcam_fps": round(vcam_fps, 2),
                                "e2e_p50_ms": round(stats.end_to_end.p50, 1),
                                "errors": sum(stats.errors.values())})
                if args.verbose:
                    print(samples[-1], file=sys.stderr, flush=True)
        finally:
            engine.stop()
        final = engine.stats()
        recorded_mib = recording.stat().st_size / 2**20 if recording.exists() else 0.0
    after_warmup = [s for s in samples if s["t_s"] >= warmup] or samples
    first, last = after_warmup[0], samples[-1]
    rss_change = (last["rss_mib"] - first["rss_mib"]) / first["rss_mib"]
    thread_change = (last["threads"] - first["threads"]) / first["threads"]
    result = {
        "command": "python -m benchmarks.soak " + " ".join(sys.argv[1:]),
        "machine": f"{platform.machine()}, {platform.system()}, Python {platform.python_version()}",
        "minutes": args.minutes, "size": list(args.size), "fps": args.fps,
        "note": args.note, "warmup_s": warmup, "crashed": crashed,
        "start": first, "end": last,
        "rss_change": round(rss_change, 4), "thread_change": round(thread_change, 4),
        "rss_max_mib": max(s["rss_mib"] for s in samples),
        "flat": abs(rss_change) <= 0.05 and abs(thread_change) <= 0.05 and crashed is None,
        "frames_in": final.frames_in, "frames_out": final.frames_out, "dropped": final.dropped,
        "errors": final.errors, "vcam_frames_sent": CountingBackend.sent,
        "vcam_average_fps": round(CountingBackend.sent / max(1.0, samples[-1]["t_s"]), 2),
        "recorded_mib": round(recorded_mib, 1),
        "samples": samples,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "soak.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (RESULTS / "soak.md").write_text(markdown(result), encoding="utf-8")
    print(markdown(result))
    return 0 if result["flat"] else 1


def markdown(result: dict) -> str:
    start, end = result["start"], result["end"]
    return "\n".join([
        f"# Soak: {result['minutes']} min, swap -> virtual camera (fake backend) -> recorder",
        "",
        f"`{result['command']}` on {result['machine']}. {result.get('note', '')}".rstrip(),
        "",
        "| | start (after warm-up) | end | change |",
        "|---|---|---|---|",
        f"| time (s) | {start['t_s']} | {end['t_s']} | |",
        f"| resident memory (MiB) | {start['rss_mib']} | {end['rss_mib']} | {100 * result['rss_change']:+.1f}% |",
        f"| threads | {start['threads']} | {end['threads']} | {100 * result['thread_change']:+.1f}% |",
        f"| pipeline fps | {start['pipeline_fps']} | {end['pipeline_fps']} | |",
        f"| virtual camera fps | {start['vcam_fps']} | {end['vcam_fps']} | |",
        "",
        f"Crashed: {result['crashed'] or 'no'}. Frames: {result['frames_out']} out of "
        f"{result['frames_in']} captured ({result['dropped']} dropped, live mode), errors "
        f"{result['errors'] or 'none'}. Virtual camera: {result['vcam_frames_sent']} frames "
        f"({result['vcam_average_fps']} fps average). Recording: {result['recorded_mib']} MiB. "
        f"Peak memory {result['rss_max_mib']} MiB. Flat within 5%: **{'yes' if result['flat'] else 'no'}**.",
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--size", type=parse_size, default=(640, 360), metavar="WxH")
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--sample-s", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--note", default="", help="a line about the machine, kept with the result")
    parser.add_argument("--verbose", "-v", action="store_true")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
