"""Bridge kept (s30-bridge, issue 13): the target's glasses bridge and nose pads on the written files.

    PYTHONPATH=$PWD python benchmarks/results/s30-bridge/bridge.py WORK OUT [--pairs s12_d9 ...] [--crops]

WORK is a quality_swap --written work folder (passthrough_<t>.mp4, <s>_<t>.mp4 as the benchmark writes
them). Per pair, over every frame the passthrough has a face on:
- bridge_kept: realism.edges_kept (the target's Canny edges the output has within 2 px, as "glasses
  kept") in the BRIDGE box: x between the inner eye corners (133, 362), y from 0.5 of their gap above
  them down to the corners' line (the bridge over the nose);
- pads_kept: the same in the PADS box: x between the corners, y from their line down a third of the way
  to the nose tip (landmark 4) (the nose pads and their arms);
- box_kept: both boxes as one;
- bridge_contrast / ring_contrast: how strongly the output draws the camera's edges in the middle
  of the BRIDGE box (the middle 60% of its width: the bar over the nose, not the lens rims and eye
  corners at its ends) / in the glasses metric's eye ring (realism.eye_ring_mask): the mean gradient magnitude (Sobel of the
  grey level, blurred 1 px) at the camera's Canny edge pixels there, output over camera (1 = as plain
  as the camera's; a bridge that melts into a lighter nose is kept as an edge but reads lower).
With --crops: per pair a PNG of six moments, each output | camera of the box grown 1.6x, 3x enlarged.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from benchmarks import realism
from benchmarks.quality_written import decode, landmarks_of

MOMENTS = {"d9": [4, 28, 43, 55, 38, 36], "d13": [10, 16, 43, 46, 40, 42]}


def boxes(landmarks: np.ndarray) -> dict[str, tuple[int, int, int, int]]:
    inner = landmarks[[133, 362], :2]
    tip = landmarks[4, :2]
    gap = float(abs(inner[1, 0] - inner[0, 0]))
    x0, x1 = int(round(inner[:, 0].min())), int(round(inner[:, 0].max()))
    line = float(inner[:, 1].mean())
    y0 = int(round(line - 0.5 * gap))
    ym = int(round(line))
    y1 = int(round(line + (tip[1] - line) / 3.0))
    return {"bridge": (x0, y0, x1, ym), "pads": (x0, ym, x1, y1), "box": (x0, y0, x1, y1)}


def kept(out: np.ndarray, cam: np.ndarray, box) -> float:
    x0, y0, x1, y1 = box
    region = np.zeros(cam.shape[:2], bool)
    region[max(0, y0):y1, max(0, x0):x1] = True
    return realism.edges_kept(out, cam, region)


def _gradient(image: np.ndarray) -> np.ndarray:
    grey = cv2.GaussianBlur(realism.grey(image).astype(np.float32), (0, 0), 1.0)
    return cv2.magnitude(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))


def contrast(out: np.ndarray, cam: np.ndarray, region: np.ndarray) -> float:
    wanted = realism.edges(cam) & region
    if wanted.sum() < 5:
        return float("nan")
    return float(_gradient(out)[wanted].mean() / max(float(_gradient(cam)[wanted].mean()), 1e-6))


def frames(path: Path, count: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The file's frames as written and with the mark taken off (float32)."""
    images, _ = decode(path, count)
    session = realism.file_session(path)
    return images, [realism.unmark(image, session) for image in images]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("work", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--pairs", nargs="+", default=[f"{s}_{t}" for s in ("s9", "s10", "s12", "s42") for t in ("d9", "d13")])
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--crops", action="store_true")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    cams: dict[str, tuple[list, list]] = {}
    result = {}
    for pair in args.pairs:
        source, target = pair.split("_")
        path = args.work / f"{pair}.mp4"
        if not path.exists():
            print("missing", path, file=sys.stderr)
            continue
        if target not in cams:
            raw, cam = frames(args.work / f"passthrough_{target}.mp4", args.frames)
            cams[target] = (cam, landmarks_of(raw))
        cam, marks = cams[target]
        out = frames(path, args.frames)[1]
        values: dict[str, list[float]] = {"bridge": [], "pads": [], "box": [], "bridge_contrast": [], "ring_contrast": []}
        for index in range(min(len(out), len(cam))):
            if marks[index] is None:
                continue
            for name, box in boxes(marks[index]).items():
                values[name].append(kept(out[index], cam[index], box))
            x0, y0, x1, y1 = boxes(marks[index])["bridge"]
            x0, x1 = int(x0 + 0.2 * (x1 - x0)), int(x1 - 0.2 * (x1 - x0))
            region = np.zeros(cam[index].shape[:2], bool)
            region[max(0, y0):y1, max(0, x0):x1] = True
            values["bridge_contrast"].append(contrast(out[index], cam[index], region))
            values["ring_contrast"].append(contrast(out[index], cam[index], realism.eye_ring_mask(marks[index], cam[index].shape)))
        result[pair] = {(name if "contrast" in name else f"{name}_kept"): float(np.nanmean(v)) for name, v in values.items()}
        print(pair, " ".join(f"{k} {v:.3f}" for k, v in result[pair].items()))
        if args.crops:
            tiles = []
            for index in MOMENTS.get(target, [0, 10, 20, 30, 40, 50]):
                if index >= len(out) or marks[index] is None:
                    continue
                x0, y0, x1, y1 = boxes(marks[index])["box"]
                cx, cy, half_w, half_h = (x0 + x1) / 2, (y0 + y1) / 2, 0.8 * (x1 - x0), 0.8 * (y1 - y0)
                a, b = int(cx - half_w), int(cy - half_h)
                c, d = int(cx + half_w), int(cy + half_h)
                pieces = [cv2.resize(np.clip(p[b:d, a:c], 0, 255).astype(np.uint8), None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC) for p in (out[index], cam[index])]
                tile = np.concatenate([pieces[0], np.full((pieces[0].shape[0], 4, 3), 255, np.uint8), pieces[1]], axis=1)
                cv2.putText(tile, f"#{index}", (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 255, 255), 1)
                tiles.append(tile)
            if tiles:
                height = max(t.shape[0] for t in tiles)
                width = max(t.shape[1] for t in tiles)
                tiles = [cv2.copyMakeBorder(t, 0, height - t.shape[0] + 4, 0, width - t.shape[1], cv2.BORDER_CONSTANT) for t in tiles]
                rows = [np.concatenate(tiles[i:i + 3], axis=1) for i in range(0, len(tiles), 3)]
                if len(rows) > 1 and rows[-1].shape[1] < rows[0].shape[1]:
                    rows[-1] = cv2.copyMakeBorder(rows[-1], 0, 0, 0, rows[0].shape[1] - rows[-1].shape[1], cv2.BORDER_CONSTANT)
                cv2.imwrite(str(args.out / f"crops_{pair}.png"), np.concatenate(rows, axis=0))
    (args.out / "bridge.json").write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
