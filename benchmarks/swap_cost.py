"""What each part of the mesh swap costs, per face, on one core.

    python -m benchmarks.swap_cost --input ../shared/media/d13.mp4 --source ../shared/media/s42.jpg

Runs detect -> swap -> blend in this thread over the first frames of a video, once per
variant (everything on; then each feature switched off through its setting), with OpenCV held
to one thread, and times swap and blend with the process's CPU clock (`time.process_time`: it
also counts MediaPipe Hands' own threads; the face detection is done beforehand, outside the
clock): on a machine shared with other jobs, wall-clock times say more about the neighbours than
about the code. The clean texture is made once per source photo and reported separately.

Then, per part (each named function's CPU time per frame, p50), with everything on, for the
720p face and for a face filling a 1080p frame (the input's face region enlarged into 1920x1080,
deterministically), the latter twice in the same run: rendered at its full size (the code before
issue 19's bound) and at the bounded working size (`realtime/swap/mesh.py: WORK_FACE_PX`),
with how far apart their pictures are (PSNR over the face box, sharpness ratio).
Writes benchmarks/results/swap_cost.json and .md.

With --base REV the same measurement is first run on another revision's code (exported with
`git archive`, this interpreter, same frames and machine, right before), and the Markdown gets a
before -> after table per variant and per part:

    nice -n 10 python -m benchmarks.swap_cost --frames 40 --base main
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import time
from pathlib import Path

import av
import cv2
import numpy as np

from realtime.blend.stage import BlendStage
from realtime.faces import create_detector
from realtime.faces.source import SourceLibrary
from realtime.frame import Frame
from realtime.settings import Settings
from realtime.swap.stage import SwapStage

RESULTS = Path(__file__).resolve().parent / "results"

VARIANTS = {
    "all on (defaults)": {},
    "no relight (shading=0)": {"shading": 0.0},
    "no camera grain (grain=0)": {"grain": 0.0},
    "no glasses keep (keep_occluders=false)": {"keep_occluders": False},
    "no hand keep (keep_hands=false)": {"keep_hands": False},
    "raw source photo (clean_source=false)": {"clean_source": False},
    "all five off": {"shading": 0.0, "grain": 0.0, "keep_occluders": False, "keep_hands": False,
                     "clean_source": False},
}


def frames(path: str, count: int) -> list[np.ndarray]:
    pictures = []
    with av.open(path) as container:
        for frame in container.decode(video=0):
            pictures.append(frame.to_ndarray(format="bgr24"))
            if len(pictures) >= count:
                break
    return pictures


# The parts timed one by one: (module, attribute, label). A part a checkout lacks is left out
# (benchmarks/swap_parts.py times older checkouts with this list).
PARTS = [
    ("realtime.swap.mesh", "piecewise_affine_maps", "warp maps"),
    ("realtime.swap.mesh", "piecewise_affine_maps_from", "warp maps"),  # one rasterisation for both of a turned source's maps (s33)
    ("realtime.faces.warp", "WarpMaps.remap", "remap (texture)"),
    ("realtime.swap.mesh", "MeshSwapper._relight", "relight"),
    ("realtime.swap.mesh", "face_mask", "face mask"),
    ("realtime.swap.mesh", "glasses_mask", "glasses keep"),
    ("realtime.swap.mesh", "hair_mask", "hair keep"),
    ("realtime.swap.mesh", "HandOccluder.update", "hands (every 5th frame)"),
    ("realtime.swap.mesh", "shrink", "shrink to working size"),
    ("realtime.blend.stage", "skin_mask", "skin mask"),
    ("realtime.blend.stage", "recolour_halved", "colour transfer"),
    ("realtime.blend.stage", "shrink", "shrink to working size"),
    ("realtime.blend.stage", "mouth_membrane", "open mouth's edge"),
    ("realtime.blend.stage", "source_detail_gain", "detail boost, measured"),
    ("realtime.blend.stage", "source_detail", "detail boost"),
    ("realtime.blend.stage", "camera_detail", "camera grain"),
    ("realtime.blend.stage", "composite", "composite"),
    # Sessions 18-21's finer parts (before: copied into each benchmarks/results/s1x-budget/parts.py).
    ("realtime.blend.stage", "erase_brows", "brow erase"),
    ("realtime.blend.stage", "erase_lashes", "lash erase"),
    ("realtime.blend.stage", "feature_band", "feature band (brows, lids)"),
    ("realtime.blend.stage", "kept_in_layer", "kept features' shift"),
    ("realtime.swap.mesh", "edge_off_skin", "edge off skin"),
    ("realtime.swap.mesh", "MeshSwapper._transfer_shape", "shape transfer (all)"),
    ("realtime.swap.mesh", "plan", "shape plan"),
    ("realtime.swap.mesh", "warp", "shape warp"),
    ("realtime.swap.mesh", "MeshSwapper._glasses_unmoved", "shape: glasses unmoved"),
    ("realtime.swap.mesh", "_mouth_grain", "shape: mouth grain"),
    # Sessions 22-28's parts (issue 13, benchmarks/results/s29-swapcost).
    ("realtime.blend.stage", "detail_on_luma", "luma detail chain (all)"),
    ("realtime.blend.stage", "fine_match_gain", "finest-band match"),
    ("realtime.blend.relight", "brow_band_floor", "brow-band floor"),
    ("realtime.swap.shadows", "nose_shade_zone", "nose shade zone"),
    ("realtime.swap.mesh", "eye_zones", "eye zones"),
]


@contextlib.contextmanager
def timed_parts():
    """Wraps each of PARTS so that its CPU time adds up per frame; yields the running totals
    (label -> seconds), which the caller reads and clears per frame."""
    import importlib

    totals: dict[str, float] = collections.defaultdict(float)
    undo = []
    for module_name, attribute, label in PARTS:
        owner = importlib.import_module(module_name)
        *path, name = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        original = getattr(owner, name, None)
        if original is None:
            continue

        def timed(*args, _original=original, _label=label, **kwargs):
            start = time.process_time()
            try:
                return _original(*args, **kwargs)
            finally:
                totals[_label] += time.process_time() - start

        setattr(owner, name, timed)
        undo.append((owner, name, original))
    try:
        yield totals
    finally:
        for owner, name, original in reversed(undo):
            setattr(owner, name, original)


def measure(pictures, faces, settings: Settings, library: SourceLibrary, parts: bool = False,
            outputs: list | None = None) -> dict:
    swap, blend = SwapStage(settings, library), BlendStage(settings)
    swap_ms, blend_ms = [], []
    per_part: dict[str, list[float]] = collections.defaultdict(list)
    with timed_parts() if parts else contextlib.nullcontext({}) as totals:
        for index, (picture, found) in enumerate(zip(pictures, faces, strict=True)):
            frame = Frame(index=index, image=picture, capture_ns=0, pts=index / 30.0, faces=list(found))
            totals.clear()
            start = time.process_time()
            swap.process(frame)
            middle = time.process_time()
            blend.process(frame)
            end = time.process_time()
            if outputs is not None:
                outputs.append(frame.output)
            if index >= 3:  # warm-up
                swap_ms.append((middle - start) * 1000)
                blend_ms.append((end - middle) * 1000)
                for label in {label for _, _, label in PARTS}:
                    per_part[label].append(totals.get(label, 0.0) * 1000)
    swap.close()
    both = np.array(swap_ms) + np.array(blend_ms)
    row = {"swap_p50_ms": float(np.median(swap_ms)), "blend_p50_ms": float(np.median(blend_ms)),
           "swap_blend_p50_ms": float(np.median(both)), "swap_blend_p95_ms": float(np.percentile(both, 95)),
           # The mean counts the parts that run every Nth frame (light fit, hands) at their share.
           "swap_blend_mean_ms": float(np.mean(both))}
    if parts:
        row["parts_p50_ms"] = {label: float(np.median(values)) for label, values in per_part.items()}
        row["parts_mean_ms"] = {label: float(np.mean(values)) for label, values in per_part.items()}
    return row


def huge_face_frames(pictures, face) -> list[np.ndarray]:
    """Each picture's region around `face` (1.1 face heights tall, 16:9, the picture reflected
    where the region runs past it) enlarged into 1920x1080: a face that fills a 1080p frame."""
    x0, y0, x1, y1 = face.box
    height = int((y1 - y0) * 1.1)
    width = height * 16 // 9
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    frames_out = []
    for picture in pictures:
        padded = cv2.copyMakeBorder(picture, height, height, width, width, cv2.BORDER_REFLECT)
        top, left = cy - height // 2 + height, cx - width // 2 + width
        region = padded[top:top + height, left:left + width]
        frames_out.append(cv2.resize(region, (1920, 1080), interpolation=cv2.INTER_CUBIC))
    return frames_out


def picture_distance(first: list[np.ndarray], second: list[np.ndarray], faces) -> dict:
    """PSNR over each face box and the ratio of their sharpness (mean |Laplacian| inside the box)."""
    psnrs, ratios = [], []
    for a, b, found in zip(first, second, faces, strict=True):
        if not found:
            continue
        x0, y0, x1, y1 = found[0].box
        box_a = a[y0:y1, x0:x1].astype(np.float32)
        box_b = b[y0:y1, x0:x1].astype(np.float32)
        error = float(((box_a - box_b) ** 2).mean())
        psnrs.append(10 * np.log10(255.0 ** 2 / max(error, 1e-9)))

        def sharpness(box):
            return float(np.abs(cv2.Laplacian(cv2.cvtColor(box, cv2.COLOR_BGR2GRAY), cv2.CV_32F)).mean())

        ratios.append(sharpness(box_b) / max(sharpness(box_a), 1e-6))
    return {"face_box_psnr_db_min": float(min(psnrs)), "face_box_psnr_db_median": float(np.median(psnrs)),
            "sharpness_ratio_median": float(np.median(ratios))}


def measure_revision(args) -> dict:
    """This benchmark's result on revision args.base (its own code and its own swap_cost.py),
    run in a temporary export with the same interpreter and inputs."""
    import os
    import subprocess
    import sys
    import tempfile

    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(["git", "archive", args.base], cwd=root, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        command = [sys.executable, "-m", "benchmarks.swap_cost", "--input", str(Path(args.input).resolve()),
                   "--source", str(Path(args.source).resolve()), "--frames", str(args.frames),
                   "--huge-frames", str(args.huge_frames)]
        subprocess.run(command, check=True, cwd=folder, env=dict(os.environ, PYTHONPATH=folder))
        return json.loads((Path(folder) / "benchmarks" / "results" / "swap_cost.json").read_text())


def before_after(revision: str, before: dict, after: dict) -> list[str]:
    """Markdown: swap+blend per variant and each part's p50, `revision` -> this tree."""
    lines = ["", f"## Before -> after ({revision} -> this tree, same frames, run right after each other)", "",
             "| variant | swap+blend p50 ms before | after | after / before |", "| --- | --- | --- | --- |"]
    for name, row in after["variants"].items():
        old = before["variants"].get(name)
        if old is None:
            continue
        lines.append(f"| {name} | {old['swap_blend_p50_ms']:.1f} | {row['swap_blend_p50_ms']:.1f} | "
                     f"{row['swap_blend_p50_ms'] / old['swap_blend_p50_ms']:.2f} |")
    old_parts = before["variants"]["all on (defaults)"].get("parts_p50_ms", {})
    new_parts = after["variants"]["all on (defaults)"].get("parts_p50_ms", {})
    lines += ["", "Per part, everything on (CPU ms per frame, p50):", "",
              "| part | before | after |", "| --- | --- | --- |"]
    for label in dict.fromkeys([*old_parts, *new_parts]):
        lines.append(f"| {label} | {old_parts.get(label, 0.0):.2f} | {new_parts.get(label, 0.0):.2f} |")
    huge_old, huge_new = before.get("huge_face_1080p"), after.get("huge_face_1080p")
    if huge_old and huge_new:
        key = "bounded working size (after)"
        lines += ["", f"Face filling a 1080p frame, swap+blend p50: {huge_old[key]['swap_blend_p50_ms']:.1f} -> "
                  f"{huge_new[key]['swap_blend_p50_ms']:.1f} ms."]
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", default="../shared/media/d13.mp4")
    parser.add_argument("--source", default="../shared/media/s42.jpg")
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--huge-frames", type=int, default=20,
                        help="frames of the face-filling-1080p case (0: skip it)")
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--base", default=None, help="also measure this git revision first (before -> after)")
    args = parser.parse_args(argv)
    before = measure_revision(args) if args.base else None
    cv2.setNumThreads(1)
    pictures = frames(args.input, args.frames)
    settings = Settings().replace(source=args.source)
    detector = create_detector(settings.faces)
    faces = [detector.detect(picture) for picture in pictures]
    detector.close()
    library = SourceLibrary()
    source = library.get(args.source)
    from realtime.swap.texture import make_clean_texture

    start = time.process_time()
    make_clean_texture(source.image, source.face.landmarks)
    texture_ms = (time.process_time() - start) * 1000
    face_sizes = [face.size for found in faces for face in found]
    rows = {}
    for name, changes in VARIANTS.items():
        variant = settings.replace(**changes) if changes else settings
        rows[name] = measure(pictures, faces, variant, library, parts=not changes)
        print(f"{name:42s} swap {rows[name]['swap_p50_ms']:5.1f}  blend {rows[name]['blend_p50_ms']:5.1f}  "
              f"swap+blend p50 {rows[name]['swap_blend_p50_ms']:5.1f} mean {rows[name]['swap_blend_mean_ms']:5.1f} ms CPU")
    # A head that holds still (the first frame with a face, repeated; a still picture as input):
    # the swapper may reuse what depends only on the landmarks (realtime/swap/mesh.py, REUSE_PX).
    still = next((index for index, found in enumerate(faces) if found), None)
    if still is not None:
        name = "still head (one frame repeated), all on"
        rows[name] = measure([pictures[still]] * len(pictures), [faces[still]] * len(pictures), settings, library)
        print(f"{name:42s} swap {rows[name]['swap_p50_ms']:5.1f}  blend {rows[name]['blend_p50_ms']:5.1f}  "
              f"swap+blend p50 {rows[name]['swap_blend_p50_ms']:5.1f} mean {rows[name]['swap_blend_mean_ms']:5.1f} ms CPU")
    huge = None
    if args.huge_frames > 0 and any(faces):
        import realtime.swap.mesh as mesh

        first = next(found[0] for found in faces if found)
        big = huge_face_frames(pictures[:args.huge_frames], first)
        detector = create_detector(settings.faces)
        big_faces = [detector.detect(picture) for picture in big]
        detector.close()
        bound = mesh.WORK_FACE_PX
        huge = {"frame_size": [1920, 1080], "frames": len(big), "work_face_px": bound,
                "face_size_px_median": float(np.median([f.size for found in big_faces for f in found]))}
        outputs = {}
        floor = getattr(mesh, "WORK_FLOOR_PX", None)  # the working size's lower bound (session 20)
        for name, cap in (("full size (before)", float("inf")), ("bounded working size (after)", bound)):
            mesh.WORK_FACE_PX = cap
            if floor is not None:
                mesh.WORK_FLOOR_PX = cap if cap == float("inf") else floor
            outputs[name] = []
            huge[name] = measure(big, big_faces, settings, library, parts=True, outputs=outputs[name])
            print(f"1080p face filling the frame, {name:30s} swap+blend p50 "
                  f"{huge[name]['swap_blend_p50_ms']:5.1f} mean {huge[name]['swap_blend_mean_ms']:5.1f} ms CPU")
        mesh.WORK_FACE_PX = bound
        huge["after_vs_before"] = picture_distance(*outputs.values(), big_faces)
        print("  after vs before:", huge["after_vs_before"])
    library.close()
    result = {"input": args.input, "source": args.source, "frames": len(pictures),
              "frame_size": list(pictures[0].shape[1::-1]), "face_size_px_median": float(np.median(face_sizes)),
              "clean_texture_once_ms": texture_ms, "clock": "process CPU time, OpenCV 1 thread",
              "variants": rows, "huge_face_1080p": huge}
    print(f"clean texture (once per photo): {texture_ms:.0f} ms CPU")
    if not args.no_save:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "swap_cost.json").write_text(json.dumps(result, indent=2))
        lines = [f"# Mesh swap cost per face ({Path(args.input).name}, {result['frame_size'][0]}x"
                 f"{result['frame_size'][1]}, face {result['face_size_px_median']:.0f} px; source "
                 f"{Path(args.source).name})", "",
                 "`python -m benchmarks.swap_cost` — CPU time of the process (detection done beforehand), OpenCV on one thread, "
                 f"{len(pictures) - 3} frames after 3 of warm-up.", "",
                 "| variant | swap p50 ms | blend p50 ms | swap+blend p50 ms | p95 ms | mean ms |",
                 "| --- | --- | --- | --- | --- | --- |"]
        for name, row in rows.items():
            lines.append(f"| {name} | {row['swap_p50_ms']:.1f} | {row['blend_p50_ms']:.1f} | "
                         f"{row['swap_blend_p50_ms']:.1f} | {row['swap_blend_p95_ms']:.1f} | {row['swap_blend_mean_ms']:.1f} |")
        lines += ["", f"Clean texture, made once per source photo: {texture_ms:.0f} ms CPU."]
        columns = [(f"720p face ({result['face_size_px_median']:.0f} px)", rows["all on (defaults)"])]
        if huge is not None:
            lines += ["", f"## A face filling a 1080p frame ({huge['face_size_px_median']:.0f} px; {Path(args.input).name} "
                      f"enlarged, {huge['frames'] - 3} frames after 3 of warm-up), everything on", "",
                      "| rendered at | swap p50 ms | blend p50 ms | swap+blend p50 ms | p95 ms | mean ms |",
                      "| --- | --- | --- | --- | --- | --- |"]
            for name in ("full size (before)", "bounded working size (after)"):
                row = huge[name]
                lines.append(f"| {name} | {row['swap_p50_ms']:.1f} | {row['blend_p50_ms']:.1f} | "
                             f"{row['swap_blend_p50_ms']:.1f} | {row['swap_blend_p95_ms']:.1f} | {row['swap_blend_mean_ms']:.1f} |")
            distance = huge["after_vs_before"]
            lines += ["", f"Working size: face {huge['work_face_px']:.0f} px (`WORK_FACE_PX`). After vs before, "
                      f"same frames: PSNR over the face box {distance['face_box_psnr_db_median']:.1f} dB median "
                      f"(min {distance['face_box_psnr_db_min']:.1f}), sharpness ratio {distance['sharpness_ratio_median']:.3f}."]
            columns += [("1080p face, before", huge["full size (before)"]), ("1080p face, after", huge["bounded working size (after)"])]
        lines += ["", "## Per part, everything on (CPU ms per frame, p50; mean in brackets)", "",
                  "| part | " + " | ".join(name for name, _ in columns) + " |",
                  "| --- |" + " --- |" * len(columns)]
        labels = list(dict.fromkeys(label for _, _, label in PARTS))
        for label in labels:
            cells = [f"{row['parts_p50_ms'].get(label, 0.0):.2f} ({row['parts_mean_ms'].get(label, 0.0):.2f})"
                     for _, row in columns]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        cells = [f"{row['swap_blend_p50_ms']:.1f} ({row['swap_blend_mean_ms']:.1f})" for _, row in columns]
        lines.append("| swap + blend, all | " + " | ".join(cells) + " |")
        if before is not None:
            result["before"] = {"revision": args.base, "variants": before["variants"]}
            (RESULTS / "swap_cost.json").write_text(json.dumps(result, indent=2))
            lines += before_after(args.base, before, result)
        (RESULTS / "swap_cost.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
