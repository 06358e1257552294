"""Overlay benchmark: capture -> painted-in-the-page latency and frames painted per second, in a
real browser (Debian's Chromium driven by Playwright), next to the engine's own end-to-end latency.

    python -m benchmarks.overlay --seconds 20 --size 1280x720 --alpha face

Writes benchmarks/results/overlay.{json,md} and overlay.png (the page's screenshot, taken with a
transparent background, over a checkerboard so the alpha can be seen).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import socket
import time
from pathlib import Path

import numpy as np

from realtime.engine import Engine
from realtime.settings import Settings

RESULTS = Path(__file__).resolve().parent / "results"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def browser_cpu_s() -> float:
    """CPU seconds used so far by every Chromium process on this machine (/proc)."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if "chrom" not in (entry / "comm").read_text():
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except OSError:
            continue
    return total


def checkerboard(height: int, width: int, cell: int = 16) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width]
    board = np.where(((ys // cell) + (xs // cell)) % 2 == 0, 200, 150).astype(np.uint8)
    return np.dstack([board] * 3)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def run(seconds: float, size: tuple[int, int], alpha: str, source_input: str, mode: str = "swap") -> dict:
    from PIL import Image
    from playwright.sync_api import sync_playwright

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings().replace(mode=mode, input=source_input, loop=True, live=True, size=size, outputs=("overlay",),
                                  overlay_alpha=alpha, overlay_port=port, stats_overlay=False)
    engine = Engine(settings).start()
    overlay = engine._spec_outputs["overlay"]
    process_cpu_0 = time.process_time()
    chromium = shutil.which("chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": size[0], "height": size[1]})
        page.goto(overlay.url)
        page.wait_for_function("window.facecam && window.facecam.painted > 15", timeout=60_000)
        # Warm-up excluded: latencies and counters from here on.
        page.evaluate("window.facecam.latencies = []")
        painted_0 = page.evaluate("window.facecam.painted")
        engine_out_0 = engine.stats().frames_out
        browser_cpu_0 = browser_cpu_s()
        process_cpu_0 = time.process_time()
        encoded_0 = overlay.frames_encoded
        started = time.monotonic()
        time.sleep(seconds)
        elapsed = time.monotonic() - started
        latencies = page.evaluate("window.facecam.latencies")
        painted = page.evaluate("window.facecam.painted") - painted_0
        stats = engine.stats()
        browser_cpu = browser_cpu_s() - browser_cpu_0
        process_cpu = time.process_time() - process_cpu_0
        encoded = overlay.frames_encoded - encoded_0
        encode_ms = list(overlay.encode_ms[-encoded:]) if encoded else []
        png = page.locator("#overlay").screenshot(omit_background=True)
        browser.close()
    engine.stop()
    frames_out = stats.frames_out - engine_out_0
    rgba = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA")).astype(np.float32)
    board = checkerboard(*rgba.shape[:2]).astype(np.float32)
    shown = rgba[:, :, :3] * (rgba[:, :, 3:] / 255) + board * (1 - rgba[:, :, 3:] / 255)
    stages = stats.as_dict()
    e2e = stages["end_to_end_ms"]
    return {
        "machine": {"cpus": os.cpu_count(), "load": os.getloadavg(), "python": platform.python_version()},
        "settings": {"mode": mode, "size": list(size), "alpha": alpha, "input": source_input, "seconds": seconds},
        "engine": {"fps": frames_out / elapsed, "e2e_ms": e2e, "stats": stages},
        "page": {"painted_fps": painted / elapsed, "painted": painted,
                 "latency_ms": {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
                                "p99": percentile(latencies, 99), "n": len(latencies)}},
        "overlay": {"encoded": encoded, "encode_ms": {"p50": percentile(encode_ms, 50),
                                                      "p95": percentile(encode_ms, 95)}},
        "cpu_ms_per_frame": {"facecam_process": process_cpu * 1000 / max(1, frames_out),
                             "browser": browser_cpu * 1000 / max(1, painted)},
        "_screenshot": np.clip(shown + 0.5, 0, 255).astype(np.uint8),
    }


def markdown(result: dict) -> str:
    page, engine, overlay = result["page"], result["engine"], result["overlay"]
    e2e = engine["e2e_ms"]
    fps = engine["fps"]
    interval = 1000 / fps if fps else float("nan")
    lines = [
        "# Overlay: capture -> painted in a real browser",
        "",
        f"Input {result['settings']['input']} at {result['settings']['size'][0]}x{result['settings']['size'][1]}, "
        f"{result['settings']['mode']} mode, live, alpha `{result['settings']['alpha']}`, {result['settings']['seconds']:.0f} s after warm-up; "
        f"Debian Chromium (headless, software rendering) via Playwright; machine: "
        f"{result['machine']['cpus']} CPUs, load {result['machine']['load'][0]:.1f}.",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| engine frames per second | {fps:.1f} |",
        f"| page frames painted per second | {page['painted_fps']:.1f} |",
        f"| engine end-to-end p50 / p95 (ms) | {e2e.get('p50', float('nan')):.1f} / {e2e.get('p95', float('nan')):.1f} |",
        f"| capture -> painted p50 / p95 / p99 (ms) | {page['latency_ms']['p50']:.1f} / "
        f"{page['latency_ms']['p95']:.1f} / {page['latency_ms']['p99']:.1f} |",
        f"| painted p50 minus engine e2e p50 (frame intervals) | "
        f"{(page['latency_ms']['p50'] - e2e.get('p50', float('nan'))) / interval:.2f} |",
        f"| overlay encode p50 / p95 (ms, its own thread) | {overlay['encode_ms']['p50']:.2f} / "
        f"{overlay['encode_ms']['p95']:.2f} |",
        f"| facecam process CPU per output frame (ms, all threads) | "
        f"{result['cpu_ms_per_frame']['facecam_process']:.1f} |",
        f"| browser CPU per painted frame (ms, all Chromium processes) | {result['cpu_ms_per_frame']['browser']:.1f} |",
        "",
        "The page's screenshot (transparent background) over a checkerboard: `overlay.png`.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--alpha", default="face", choices=("face", "person", "portrait", "frame"))
    parser.add_argument("--input", default="demo")
    parser.add_argument("--mode", default="swap", choices=("swap", "animate", "passthrough"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    result = run(args.seconds, (width, height), args.alpha, args.input, args.mode)
    import cv2

    args.out.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out / "overlay.png"), cv2.cvtColor(result.pop("_screenshot"), cv2.COLOR_RGB2BGR))
    (args.out / "overlay.json").write_text(json.dumps(result, indent=2, default=float))
    (args.out / "overlay.md").write_text(markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
