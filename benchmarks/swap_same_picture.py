"""Does a change to how the swap is computed change the picture? The swap + blend output of
the working tree against another revision's, frame by frame, on pairs of ../shared/media.

    python -m benchmarks.swap_same_picture --base main --frames 10

The other revision is exported (`git archive`) to a temporary folder and run there with this
interpreter, so both sides see the same detections (cached per video) and libraries. Prints max
abs difference and PSNR per pair (whole frame, and inside the face box: the only place the swap
draws), and writes a before | after | difference x8 crop per pair as PNG under --png (look at
them). With --written both revisions run `facecam run --no-label -o out.mp4` as a user would and
the WRITTEN files are compared (after the invisible mark and the encoder):

    python -m benchmarks.swap_same_picture --base main --frames 30 --written --png out/same
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PAIRS = ["s42:d13", "s9:d9", "s12:d3", "s10:d6"]

_RUN = r'''
import pickle, sys
import cv2, numpy as np
cv2.setNumThreads(1)
from realtime.blend.stage import BlendStage
from realtime.faces.source import SourceLibrary
from realtime.frame import Frame
from realtime.settings import Settings
from realtime.swap.stage import SwapStage
detections, source, out = sys.argv[1:4]
pictures, faces = pickle.load(open(detections, "rb"))
settings = Settings().replace(source=source)
library = SourceLibrary()
swap, blend = SwapStage(settings, library), BlendStage(settings)
outputs = []
for index, picture in enumerate(pictures):
    frame = Frame(index=index, image=picture, capture_ns=0, pts=index / 30.0, faces=list(faces[index]))
    swap.process(frame)
    blend.process(frame)
    outputs.append(frame.output if frame.output is not None else picture)
swap.close()
library.close()
np.save(out, np.stack(outputs))
'''


def outputs(code_root: Path, detections: Path, source: Path, out: Path) -> np.ndarray:
    env = dict(os.environ, PYTHONPATH=str(code_root))
    subprocess.run([sys.executable, "-c", _RUN, str(detections), str(source), str(out)], check=True,
                   env=env, cwd=code_root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return np.load(out)


def written(code_root: Path, target: Path, source: Path, count: int, out: Path) -> np.ndarray:
    """The frames of `facecam run` (this interpreter, `code_root`'s code) written to an MP4."""
    import av

    env = dict(os.environ, PYTHONPATH=str(code_root))
    subprocess.run([sys.executable, "-m", "realtime.cli", "run", "--input", str(target), "--source", str(source),
                    "--no-label", "--max-frames", str(count), "-o", str(out)], check=True, env=env, cwd=code_root,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with av.open(str(out)) as container:
        return np.stack([frame.to_ndarray(format="bgr24") for frame in container.decode(video=0)])


def face_psnr(before: np.ndarray, after: np.ndarray, faces) -> list[float]:
    """PSNR inside each frame's face boxes (the swap draws nowhere else)."""
    values = []
    for a, b, found in zip(before, after, faces, strict=False):
        for face in found:
            x0, y0, x1, y1 = face.box
            error = float(((a[y0:y1, x0:x1].astype(np.float64) - b[y0:y1, x0:x1]) ** 2).mean())
            values.append(float("inf") if error == 0 else 10 * np.log10(255.0 ** 2 / error))
    return values


def main(argv=None) -> int:
    import cv2

    from benchmarks.swap_cost import frames
    from realtime.faces import create_detector
    from realtime.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="main", help="the revision to compare with")
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--media", default=str(ROOT.parent / "shared" / "media"))
    parser.add_argument("--pairs", nargs="*", default=PAIRS, help="SOURCE:TARGET names in --media")
    parser.add_argument("--png", default=None, help="folder for before/after crops")
    parser.add_argument("--written", action="store_true",
                        help="compare the files `facecam run --no-label` writes (mark and encoder included)")
    args = parser.parse_args(argv)
    media = Path(args.media)
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder) / "base"
        base.mkdir()
        archive = subprocess.run(["git", "archive", args.base], cwd=ROOT, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
        for pair in args.pairs:
            source_name, target_name = pair.split(":")
            detections = Path(folder) / f"{target_name}.pkl"
            if not detections.exists():
                pictures = frames(str(media / f"{target_name}.mp4"), args.frames)
                detector = create_detector(Settings().faces)
                found = [detector.detect(picture) for picture in pictures]
                detector.close()
                detections.write_bytes(pickle.dumps((pictures, found)))
            source = media / f"{source_name}.jpg"
            if args.written:
                target = media / f"{target_name}.mp4"
                before = written(base, target, source, args.frames, Path(folder) / "before.mp4")
                after = written(ROOT, target, source, args.frames, Path(folder) / "after.mp4")
            else:
                before = outputs(base, detections, source, Path(folder) / "before.npy")
                after = outputs(ROOT, detections, source, Path(folder) / "after.npy")
            found = pickle.loads(detections.read_bytes())[1]
            difference = np.abs(before.astype(np.int16) - after)
            error = float((difference.astype(np.float64) ** 2).mean())
            psnr = float("inf") if error == 0 else 10 * np.log10(255.0 ** 2 / error)
            inside = face_psnr(before, after, found)
            print(f"{pair:10s} {len(before)} frames  max abs diff {int(difference.max()):3d}  PSNR {psnr:.1f} dB  "
                  f"inside the face box: min {min(inside, default=float('inf')):.1f}, "
                  f"median {np.median(inside) if inside else float('inf'):.1f} dB")
            if args.png:
                Path(args.png).mkdir(parents=True, exist_ok=True)
                index = len(before) // 2
                heat = np.clip(difference[index].max(axis=2) * 8, 0, 255).astype(np.uint8)
                sheet = np.hstack([before[index], after[index], cv2.cvtColor(heat, cv2.COLOR_GRAY2BGR)])
                cv2.imwrite(str(Path(args.png) / f"{source_name}_{target_name}.png"), sheet)
                if found[index]:
                    # The face at 3x (before | after): banding or blocks from reduced-size maps show here.
                    x0, y0, x1, y1 = found[index][0].box
                    crops = [cv2.resize(picture[index][y0:y1, x0:x1], None, fx=3, fy=3,
                                        interpolation=cv2.INTER_NEAREST) for picture in (before, after)]
                    cv2.imwrite(str(Path(args.png) / f"{source_name}_{target_name}_face3x.png"), np.hstack(crops))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
