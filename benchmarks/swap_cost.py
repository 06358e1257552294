"""What each part of the mesh swap costs, per face, on one core.

    python -m benchmarks.swap_cost --input ../shared/media/d13.mp4 --source ../shared/media/s42.jpg

Runs detect -> swap -> blend in this thread over the first frames of a video, once per
variant (everything on; then each feature switched off through its setting), with OpenCV held
to one thread, and times swap and blend with the process's CPU clock (`time.process_time`: it
also counts MediaPipe Hands' own threads; the face detection is done beforehand, outside the
clock): on a machine shared with other jobs, wall-clock times say more about the neighbours than
about the code. The clean texture is made once per source photo and reported separately.
Writes benchmarks/results/swap_cost.json and .md.
"""

from __future__ import annotations

import argparse
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


def measure(pictures, faces, settings: Settings, library: SourceLibrary) -> dict:
    swap, blend = SwapStage(settings, library), BlendStage(settings)
    swap_ms, blend_ms = [], []
    for index, (picture, found) in enumerate(zip(pictures, faces, strict=True)):
        frame = Frame(index=index, image=picture, capture_ns=0, pts=index / 30.0, faces=list(found))
        start = time.process_time()
        swap.process(frame)
        middle = time.process_time()
        blend.process(frame)
        end = time.process_time()
        if index >= 3:  # warm-up
            swap_ms.append((middle - start) * 1000)
            blend_ms.append((end - middle) * 1000)
    swap.close()
    both = np.array(swap_ms) + np.array(blend_ms)
    return {"swap_p50_ms": float(np.median(swap_ms)), "blend_p50_ms": float(np.median(blend_ms)),
            "swap_blend_p50_ms": float(np.median(both)), "swap_blend_p95_ms": float(np.percentile(both, 95)),
            # The mean counts the parts that run every Nth frame (light fit, hands) at their share.
            "swap_blend_mean_ms": float(np.mean(both))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", default="../shared/media/d13.mp4")
    parser.add_argument("--source", default="../shared/media/s42.jpg")
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
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
        rows[name] = measure(pictures, faces, variant, library)
        print(f"{name:42s} swap {rows[name]['swap_p50_ms']:5.1f}  blend {rows[name]['blend_p50_ms']:5.1f}  "
              f"swap+blend p50 {rows[name]['swap_blend_p50_ms']:5.1f} mean {rows[name]['swap_blend_mean_ms']:5.1f} ms CPU")
    library.close()
    result = {"input": args.input, "source": args.source, "frames": len(pictures),
              "frame_size": list(pictures[0].shape[1::-1]), "face_size_px_median": float(np.median(face_sizes)),
              "clean_texture_once_ms": texture_ms, "clock": "process CPU time, OpenCV 1 thread",
              "variants": rows}
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
        (RESULTS / "swap_cost.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
