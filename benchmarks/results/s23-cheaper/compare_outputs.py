"""Per pair, the per-pixel difference between two folders of in-process outputs (frame.output before
mark and encoder, made with benchmarks/results/s23-budget/outputs.py): largest, 99.9th percentile
(a pixel's difference = its largest channel's, over every pixel of every frame), pixels over 2 levels,
where the largest is; with --crops, 3x crops (main | branch | difference x8) there.

    python benchmarks/results/s23-cheaper/compare_outputs.py <main folder> <branch folder> [--crops DIR] [--json X]
"""

import argparse
import json
import os

import cv2
import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("first")
parser.add_argument("second")
parser.add_argument("--crops")
parser.add_argument("--json")
args = parser.parse_args()


def crop3(a: np.ndarray, b: np.ndarray, x: int, y: int, half: int = 50) -> np.ndarray:
    h, w = a.shape[:2]
    x0, y0 = min(max(0, x - half), w - 2 * half), min(max(0, y - half), h - 2 * half)
    ca, cb = a[y0:y0 + 2 * half, x0:x0 + 2 * half], b[y0:y0 + 2 * half, x0:x0 + 2 * half]
    diff = np.clip(np.abs(ca.astype(int) - cb.astype(int)) * 8, 0, 255).astype(np.uint8)
    bar = np.full((2 * half, 2, 3), 255, np.uint8)
    return cv2.resize(np.concatenate([ca, bar, cb, bar, diff], axis=1), None, fx=3, fy=3,
                      interpolation=cv2.INTER_NEAREST)


rows = {}
for name in sorted(os.listdir(args.first)):
    if not name.endswith(".npz"):
        continue
    a = np.load(os.path.join(args.first, name))["outputs"]
    b = np.load(os.path.join(args.second, name))["outputs"]
    difference = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=3)
    index, y, x = np.unravel_index(int(difference.argmax()), difference.shape)
    every = difference.ravel()
    row = {"frames": len(a), "max": int(every.max()), "p99_9": float(np.percentile(every, 99.9)),
           "over_2": int((every > 2).sum()), "over_2_per_frame": round(int((every > 2).sum()) / len(a), 1),
           "over_8": int((every > 8).sum()), "nonzero_frac": round(float((every > 0).mean()), 5),
           "max_at_frame_x_y": [int(index), int(x), int(y)]}
    rows[name[:-4]] = row
    print(name[:-4], json.dumps(row))
    if args.crops and row["max"] > 0:
        os.makedirs(args.crops, exist_ok=True)
        cv2.imwrite(os.path.join(args.crops, f"{name[:-4]}_f{index}_3x.png"), crop3(a[index], b[index], int(x), int(y)))
print("worst max", max(r["max"] for r in rows.values()), "worst p99.9", max(r["p99_9"] for r in rows.values()))
if args.json:
    with open(args.json, "w") as handle:
        json.dump(rows, handle, indent=1)
