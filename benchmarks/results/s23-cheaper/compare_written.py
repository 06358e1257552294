"""Per pair, the per-pixel difference between two folders of written files (made with
benchmarks/results/s23-budget/run_fixed_mark.py, so the invisible mark is the same): the largest,
the 99.9th percentile (of every pixel of every frame, a pixel's difference = its largest channel's),
the pixels over 2 levels, and where the largest is (frame, x, y) for a crop. Optionally writes 3x
crops (main | branch | difference x8) around the largest difference of each pair.

    python benchmarks/results/s23-cheaper/compare_written.py <main folder> <branch folder> [--crops DIR] [--json X]
"""

import argparse
import json
import os

import av
import cv2
import numpy as np


def frames(path: str) -> list[np.ndarray]:
    with av.open(path) as container:
        return [frame.to_ndarray(format="bgr24") for frame in container.decode(video=0)]


def crop3(a: np.ndarray, b: np.ndarray, x: int, y: int, half: int = 50) -> np.ndarray:
    h, w = a.shape[:2]
    x0, y0 = min(max(0, x - half), w - 2 * half), min(max(0, y - half), h - 2 * half)
    ca, cb = a[y0:y0 + 2 * half, x0:x0 + 2 * half], b[y0:y0 + 2 * half, x0:x0 + 2 * half]
    diff = np.clip(np.abs(ca.astype(int) - cb.astype(int)) * 8, 0, 255).astype(np.uint8)
    row = np.concatenate([ca, np.full((2 * half, 2, 3), 255, np.uint8), cb,
                          np.full((2 * half, 2, 3), 255, np.uint8), diff], axis=1)
    return cv2.resize(row, None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST)


parser = argparse.ArgumentParser()
parser.add_argument("first")
parser.add_argument("second")
parser.add_argument("--crops")
parser.add_argument("--json")
args = parser.parse_args()
rows = {}
for name in sorted(os.listdir(args.first)):
    if not name.endswith(".mp4"):
        continue
    ours, theirs = frames(os.path.join(args.first, name)), frames(os.path.join(args.second, name))
    per_pixel = []
    largest, at = -1, (0, 0, 0)
    for index, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        difference = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2)
        per_pixel.append(difference.ravel())
        if int(difference.max()) > largest:
            largest = int(difference.max())
            y, x = np.unravel_index(int(difference.argmax()), difference.shape)
            at = (index, int(x), int(y))
    every = np.concatenate(per_pixel)
    row = {"frames": len(ours), "max": largest, "p99_9": float(np.percentile(every, 99.9)),
           "over_2": int((every > 2).sum()), "over_2_per_frame": round(int((every > 2).sum()) / len(ours), 1),
           "nonzero_frac": round(float((every > 0).mean()), 5), "max_at_frame_x_y": at}
    rows[name] = row
    print(name, json.dumps(row))
    if args.crops and largest > 0:
        os.makedirs(args.crops, exist_ok=True)
        index, x, y = at
        cv2.imwrite(os.path.join(args.crops, f"{name[:-4]}_f{index}_3x.png"), crop3(ours[index], theirs[index], x, y))
print("worst max", max(r["max"] for r in rows.values()), "worst p99.9", max(r["p99_9"] for r in rows.values()))
if args.json:
    with open(args.json, "w") as handle:
        json.dump(rows, handle, indent=1)
