"""Measure across the swap mask's outer edge on a written file (issue 13, s27-outline).

    python outline.py SOURCE TARGET OUT_PREFIX [--frames 15,30,45] [--crops DIR]

Runs `facecam run` in this process (so the layer's alpha, box and landmarks of each frame are
recorded from the blend stage), writes OUT_PREFIX.mp4 (--no-label, 60 frames) and reads it back
with a passthrough of the same target written the same way. Along the mask's edge (the alpha's
0.5 contour of the outer mask, eye and mouth holes filled), pixels are binned by their signed
distance to it (fractions of the face width: the oval's width) and split into forehead (normal
pointing up, within 45 degrees, BROW_GAP of the face's diagonal above the brows) and jaw (pointing
down, within 50 degrees, LIP_GAP below the lower lip). Per bin: mean LAB
lightness, chroma, and the local high-frequency energy (RMS of a 3x3 Laplacian of the luma),
in the output and in the passthrough. JSON to OUT_PREFIX.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

BINS = [(-0.08, -0.04), (-0.04, 0.0), (0.0, 0.04), (0.04, 0.08)]  # negative: outside the mask
BROW_GAP = 0.04
LIP_GAP = 0.04
NAMES = ["out 4-8", "out 0-4", "in 0-4", "in 4-8"]
FINE = np.round(np.arange(-0.12, 0.2401, 0.02), 3)


def record_and_run(source: str, target: str, out: Path, extra: list[str]) -> dict[int, tuple]:
    from realtime.blend import stage as stage_module
    from realtime.cli import main

    seen: dict[int, tuple] = {}
    original = stage_module.BlendStage.process

    def process(self, frame):
        result = original(self, frame)
        if result.layers:
            layer = result.layers[0]
            seen[frame.index] = (tuple(int(v) for v in layer.box), (layer.alpha * 255).astype(np.uint8),
                                 layer.face.landmarks[:, :2].copy())
        return result

    stage_module.BlendStage.process = process
    try:
        rc = main(["run", "--input", target, "--source", source, "-o", str(out), "--no-label",
                   "--max-frames", "60", "--quiet", *extra])
    finally:
        stage_module.BlendStage.process = original
    if rc:
        sys.exit(rc)
    return seen


def decode(path: Path) -> list[np.ndarray]:
    from benchmarks.quality_swap import decode as dec

    return dec(path, 60)[0]


def measure(out: np.ndarray, ref: np.ndarray, box, alpha: np.ndarray, points: np.ndarray) -> dict:
    from realtime.faces.topology import topology

    height, width = out.shape[:2]
    x0, y0, x1, y1 = box
    full = np.zeros((height, width), np.uint8)
    full[y0:y1, x0:x1] = alpha
    inside = (full >= 128).astype(np.uint8)
    # fill the holes (eyes, mouth): only the outer edge counts
    contours, _ = cv2.findContours(inside, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    filled = np.zeros_like(inside)
    cv2.drawContours(filled, contours, -1, 1, -1)
    d_in = cv2.distanceTransform(filled, cv2.DIST_L2, 5)
    d_out = cv2.distanceTransform(1 - filled, cv2.DIST_L2, 5)
    oval = points[topology().face_oval]
    face_w = float(oval[:, 0].max() - oval[:, 0].min())
    signed = (d_in - d_out) / face_w
    # the outward normal from the gradient of the signed distance (smoothed)
    smooth = cv2.GaussianBlur(signed.astype(np.float32), (0, 0), 3)
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1)
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0)
    angle = np.degrees(np.arctan2(gy, gx))  # gradient points inwards: forehead inward = +y (down)
    # Off the features: the forehead above the brows (both faces' brows: the target's and the
    # new one's, which the shape transfer may have moved), the jaw below the lower lip.
    top = topology()
    up = points[10] - points[152]
    up = up / max(float(np.linalg.norm(up)), 1e-6)
    diag = float(np.hypot(*(oval.max(axis=0) - oval.min(axis=0))))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    along = xs * up[0] + ys * up[1]
    brows = points[np.concatenate([top.right_eyebrow, top.left_eyebrow])] @ up
    lips = points[top.outer_lips] @ up
    forehead = (angle > 90 - 45) & (angle < 90 + 45) & (along > brows.max() + BROW_GAP * diag)
    jaw = (angle < -90 + 50) & (angle > -90 - 50) & (along < lips.min() - LIP_GAP * diag)
    result = {"face_width": face_w, "oval_box": [float(v) for v in (*oval.min(axis=0), *oval.max(axis=0))]}
    lab_o = cv2.cvtColor(out, cv2.COLOR_BGR2LAB).astype(np.float32)
    lab_r = cv2.cvtColor(ref, cv2.COLOR_BGR2LAB).astype(np.float32)
    for name, pic, lab in (("output", out, lab_o), ("target", ref, lab_r)):
        grey = cv2.cvtColor(pic, cv2.COLOR_BGR2GRAY).astype(np.float32)
        lap = cv2.Laplacian(grey, cv2.CV_32F, ksize=1)
        lightness = lab[:, :, 0] * (100.0 / 255.0)
        chroma = np.hypot(lab[:, :, 1] - 128, lab[:, :, 2] - 128)
        for zone_name, zone in (("forehead", forehead), ("jaw", jaw)):
            rows = {}
            for (lo, hi), label in zip(BINS, NAMES, strict=True):
                sel = zone & (signed >= lo) & (signed < hi)
                if sel.sum() < 20:
                    continue
                rows[label] = {"L": float(lightness[sel].mean()), "C": float(chroma[sel].mean()),
                               "hf": float(np.sqrt((lap[sel] ** 2).mean())), "n": int(sel.sum())}
            fine = []
            for lo in FINE[:-1]:
                sel = zone & (signed >= lo) & (signed < lo + 0.02)
                fine.append([float(lo), float(lightness[sel].mean()) if sel.sum() > 10 else None,
                             float(chroma[sel].mean()) if sel.sum() > 10 else None,
                             float(np.sqrt((lap[sel] ** 2).mean())) if sel.sum() > 10 else None])
            result[f"{name}_{zone_name}"] = {"bands": rows, "fine": fine}
    return result


def crops(out: np.ndarray, ref: np.ndarray, box, alpha, points, path: str) -> None:
    from realtime.faces.topology import topology

    height, width = out.shape[:2]
    oval = points[topology().face_oval]
    face_w = float(oval[:, 0].max() - oval[:, 0].min())
    cx = int(oval[:, 0].mean())
    half = int(0.32 * face_w)
    x0, x1 = max(0, cx - half), min(width, cx + half)
    full = np.zeros((height, width), np.uint8)
    full[box[1]:box[3], box[0]:box[2]] = alpha
    ys = np.nonzero(full.max(axis=1) >= 128)[0]
    top, bottom = int(ys.min()), int(ys.max())
    tall = int(0.16 * face_w)
    for zone, y in (("forehead", top), ("jaw", bottom)):
        ya, yb = max(0, y - tall), min(height, y + tall)
        pieces = []
        for pic in (out, ref):
            crop = pic[ya:yb, x0:x1].copy()
            pieces.append(cv2.resize(crop, None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST))
        line = np.zeros((pieces[0].shape[0], 4, 3), np.uint8)
        cv2.imwrite(f"{path}_{zone}.png", np.hstack([pieces[0], line, pieces[1]]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("source")
    parser.add_argument("target")
    parser.add_argument("out")
    parser.add_argument("--passthrough", required=True)
    parser.add_argument("--frames", default="15,30,45")
    parser.add_argument("--crops", default=None)
    args, extra = parser.parse_known_args()
    out = Path(args.out + ".mp4")
    frames = [int(v) for v in args.frames.split(",")]
    seen = record_and_run(args.source, args.target, out, extra)
    written, passed = decode(out), decode(Path(args.passthrough))
    report = {}
    for index in frames:
        if index not in seen:
            continue
        box, alpha, points = seen[index]
        report[index] = measure(written[index], passed[index], box, alpha, points)
        if args.crops:
            Path(args.crops).mkdir(parents=True, exist_ok=True)
            crops(written[index], passed[index], box, alpha, points, f"{args.crops}/{Path(args.out).name}_f{index}")
    Path(args.out + ".json").write_text(json.dumps(report, indent=1))
    # summary: output - target per band, averaged over the frames
    for zone in ("forehead", "jaw"):
        print(f"{zone:9s}", end="")
        for label in NAMES:
            dl, dc, ho, ht = [], [], [], []
            for rep in report.values():
                o, t = rep[f"output_{zone}"]["bands"].get(label), rep[f"target_{zone}"]["bands"].get(label)
                if o and t:
                    dl.append(o["L"] - t["L"])
                    dc.append(o["C"] - t["C"])
                    ho.append(o["hf"])
                    ht.append(t["hf"])
            if dl:
                print(f" | {label}: dL {np.mean(dl):+5.1f} dC {np.mean(dc):+5.1f} hf {np.mean(ho):5.2f}/{np.mean(ht):5.2f}",
                      end="")
        print()


if __name__ == "__main__":
    main()
