"""What the identity shape transfer (`face_shape`, realtime/swap/shape.py) costs per face, on one core.

    python -m benchmarks.shape_cost --frames 30 --amount 0.5

For each target video: detect the faces first (outside the clock), then per frame swap + blend
with `face_shape` 0 and with `--amount`, interleaved frame by frame (the same load on both), CPU
time (`time.process_time`) with OpenCV on one thread; and the transfer's own parts (the field's
fit; the target's pixels and landmarks moved by it) timed alone. Writes
benchmarks/results/shape_cost.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import av
import cv2
import numpy as np

from realtime.blend.stage import BlendStage
from realtime.faces import create_detector
from realtime.faces.source import SourceLibrary
from realtime.frame import Frame
from realtime.settings import FaceSettings, Settings
from realtime.swap.mesh import MeshSwapper
from realtime.swap.shape import ShapeTransfer, apply

RESULTS = Path(__file__).resolve().parent / "results"
MEDIA = Path(__file__).resolve().parent.parent.parent / "shared" / "media"


def frames_of(path: Path, count: int) -> list[np.ndarray]:
    images = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            images.append(frame.to_ndarray(format="bgr24"))
            if len(images) >= count:
                break
    return images


def measure(target: Path, source_path: Path, frames: int, amount: float) -> dict:
    images = frames_of(target, frames)
    detector = create_detector(FaceSettings(max_faces=1), static=False)
    faces = [detector.detect(image) for image in images]
    detector.close()
    library = SourceLibrary()
    source = library.get(str(source_path))
    runs = {}
    for value in (0.0, amount):
        settings = Settings().replace(face_shape=value)
        swapper = MeshSwapper(settings)
        swapper.set_source(source)
        runs[value] = (swapper, BlendStage(settings), [])
    for index, (image, found) in enumerate(zip(images, faces, strict=True)):
        if not found:
            continue
        for value in (0.0, amount):  # interleaved: both see the same moment of the machine's load
            swapper, blend, times = runs[value]
            frame = Frame(index=index, image=image, capture_ns=index * 33_333_333, pts=index / 30, faces=found)
            start = time.process_time()
            frame.layers = swapper.swap(frame, found)
            blend.process(frame)
            times.append(1e3 * (time.process_time() - start))
    transfer = ShapeTransfer()
    transfer.set_source(source.face.landmarks)
    parts: dict[str, list[float]] = {"field": [], "warp": []}
    for index, (image, found) in enumerate(zip(images, faces, strict=True)):
        if not found:
            continue
        landmarks = found[0].landmarks
        start = time.process_time()
        field = transfer.field(landmarks, amount, 0, index / 30)
        middle = time.process_time()
        apply(image, field, landmarks)
        end = time.process_time()
        parts["field"].append(1e3 * (middle - start))
        parts["warp"].append(1e3 * (end - middle))
    for swapper, *_ in runs.values():
        swapper.close()
    library.close()
    size = float(np.median([found[0].size for found in faces if found]))
    off, on = runs[0.0][2], runs[amount][2]
    return {
        "target": target.name, "source": source_path.name, "face_px": size, "frames": len(off), "amount": amount,
        "swap_blend_ms_p50_off": float(np.median(off)), "swap_blend_ms_p50_on": float(np.median(on)),
        "swap_blend_ms_mean_off": float(np.mean(off)), "swap_blend_ms_mean_on": float(np.mean(on)),
        **{f"{name}_ms_p50": float(np.median(values)) for name, values in parts.items()},
        "transfer_ms_p50": float(np.median(np.sum([parts[name] for name in parts], axis=0))),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", nargs="+", default=["d13.mp4", "d9.mp4", "d3.mp4"])
    parser.add_argument("--source", default="s42.jpg")
    parser.add_argument("--media", type=Path, default=MEDIA)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--amount", type=float, default=0.5)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    rows = [measure(args.media / target, args.media / args.source, args.frames, args.amount) for target in args.targets]
    load = os.getloadavg()[0]
    for row in rows:
        row["load_average"] = load
    lines = [f"# Shape transfer cost (face_shape {args.amount} vs 0, CPU ms per face, one OpenCV thread)", "",
             f"`python -m benchmarks.shape_cost --frames {args.frames} --amount {args.amount}`; source "
             f"{args.source}; load average {load:.1f} on {os.cpu_count()} cores (a shared machine: compare the "
             "columns of one row, measured interleaved, rather than rows of different runs).", "",
             "| target | face px | swap+blend p50 off | on | transfer p50 (field fit / warp) |",
             "|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['target']} | {row['face_px']:.0f} | {row['swap_blend_ms_p50_off']:.2f} | "
                     f"{row['swap_blend_ms_p50_on']:.2f} | {row['transfer_ms_p50']:.2f} ({row['field_ms_p50']:.2f} / "
                     f"{row['warp_ms_p50']:.2f}) |")
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "shape_cost.json").write_text(json.dumps(rows, indent=1) + "\n")
        (RESULTS / "shape_cost.md").write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
