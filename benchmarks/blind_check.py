"""A blind check: face crops of written swaps and of untouched camera frames, shuffled, for a
judge who is not told which is which (issue 13: "shuffle face crops of camera frames and of your
output and ask someone who is not told which is which to pick the fakes").

    python -m benchmarks.blind_check --out /tmp/blind --key /tmp/blind_key.json --seed 22

Each swap is written as a user gets it (`facecam run --input TARGET --source SOURCE --no-label
--max-frames 60`: mark on, H.264; benchmarks/quality_written.write), each camera clip the same way
with `--mode passthrough`. One square crop per clip (the face found afresh by MediaPipe on the
written frame, 1.6 times its extent, 256 px, JPEG quality 95), near frame 45 for swaps and near
frame 15 for camera clips (so that the two crops of one scene are not the same moment). The crops
are shuffled by the seed into OUT/face_NN.jpg; which is which goes to KEY only, which should lie
outside OUT: give the judge OUT and nothing else.

Each scene once (the default): every target clip is shown either swapped or untouched, as the
seed draws it (2 to 5 fakes of 7), so the judge cannot find a fake by comparing it with the
untouched crop of the same room and person. Session 25's judge did exactly that ("the less damaged
crop of each set was usually the real one") when every swap had its untouched twin; `--twins`
keeps that older protocol (7 swaps and 7 camera crops) for comparison with sessions 15-25.

Sessions 15 to 21 ran the twin check with a script kept outside the repository (7 swaps, 7 camera
crops; results in benchmarks/results/*/blind*.md); this is that check, kept.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import cv2

from benchmarks import quality_written
from benchmarks.quality_swap import DEFAULT_MEDIA, _thumbnail

SWAPS = ("s10:d10", "s9:d6", "s9:d20", "s12:d9", "s12:d14", "s42:d20", "s42:d13")
"""The twins protocol's swaps (sessions 15-25)."""
SCENE_SWAPS = (*SWAPS, "s42:d3", "s10:d9")
"""Each scene once: every camera clip has a swap that may stand in for it (d3 had none)."""
CAMERA = ("d3", "d6", "d9", "d10", "d13", "d14", "d20")
FRAMES = 60
SWAP_FRAME, CAMERA_FRAME = 45, 15
CROP_PX = 256


def crop_of(path: Path, summary: dict, near: int) -> tuple:
    """The face crop of the written file's frame nearest `near` that has a face (its mark
    left in: a judge sees the file as it is)."""
    written = quality_written.read(path, FRAMES, summary)
    order = sorted(range(len(written.frames)), key=lambda index: abs(index - near))
    for index in order[:10]:
        landmarks = quality_written.landmarks_of([written.frames[index]])[0]
        if landmarks is not None:
            return _thumbnail(written.frames[index], landmarks, CROP_PX), index
    raise RuntimeError(f"no face in {path} near frame {near}")


def scenes_once(swaps: list[str], camera: list[str], seed: int,
                fakes: tuple[int, int] = (2, 5)) -> list[tuple[str | None, str]]:
    """(source or None, target) with every target of `swaps` and `camera` once: swapped (by one
    of its swaps, drawn) or untouched, drawn by `seed` until the fakes number within `fakes`
    (a judge told nothing of how many there are)."""
    pairs = [(pair.split(":")[0], pair.split(":")[1]) for pair in swaps]
    targets = list(dict.fromkeys([target for _, target in pairs] + list(camera)))
    rng = random.Random(seed)
    for _ in range(1000):
        clips: list[tuple[str | None, str]] = []
        for target in targets:
            sources = [source for source, name in pairs if name == target]
            clips.append((rng.choice(sources), target) if sources and rng.random() < 0.5 else (None, target))
        fake_count = sum(source is not None for source, _ in clips)
        if fakes[0] <= fake_count <= fakes[1] or not pairs:
            return clips
    return clips


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder of the shuffled crops (for the judge)")
    parser.add_argument("--key", type=Path, required=True, help="JSON file of which crop is what (not for the judge)")
    parser.add_argument("--work", type=Path, default=None, help="folder of the written files (default: OUT/../blind_work)")
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--swaps", nargs="+", default=None,
                        help="SOURCE:TARGET media names without extension (default: SCENE_SWAPS, --twins: SWAPS)")
    parser.add_argument("--camera", nargs="+", default=list(CAMERA), help="camera clips shown untouched")
    parser.add_argument("--media", type=Path, default=DEFAULT_MEDIA)
    parser.add_argument("--twins", action="store_true",
                        help="every swap AND every camera clip (sessions 15-25's protocol: a fake can be found by "
                             "comparing it with its scene's untouched crop)")
    args = parser.parse_args(argv)
    if args.key.resolve().is_relative_to(args.out.resolve()):
        print("blind_check: --key must lie outside --out (the judge opens --out)", file=sys.stderr)
        return 2
    work = args.work or args.out.parent / "blind_work"
    work.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.twins:
        clips = [(pair.split(":")[0], pair.split(":")[1]) for pair in args.swaps or SWAPS] + \
            [(None, name) for name in args.camera]
    else:
        clips = scenes_once(args.swaps or list(SCENE_SWAPS), args.camera, args.seed)
    crops = []
    for number, (source, target) in enumerate(clips, 1):
        name = f"{source}_{target}" if source else f"camera_{target}"
        print(f"[{number}/{len(clips)}] {name}", file=sys.stderr, flush=True)
        path = work / f"{name}.mp4"
        summary = quality_written.write(args.media / f"{source}.jpg" if source else None, args.media / f"{target}.mp4",
                                        path, FRAMES, None, reuse=True)
        # Twins: a swap and its camera crop at different moments. Once: one moment for both kinds.
        near = SWAP_FRAME if source or not args.twins else CAMERA_FRAME
        picture, index = crop_of(path, summary, near)
        crops.append({"clip": name, "swap": source is not None, "frame": index, "picture": picture})
    random.Random(args.seed).shuffle(crops)
    key = []
    for number, crop in enumerate(crops, 1):
        cv2.imwrite(str(args.out / f"face_{number:02d}.jpg"), crop.pop("picture"), [cv2.IMWRITE_JPEG_QUALITY, 95])
        key.append({"crop": f"face_{number:02d}.jpg", **crop})
    args.key.parent.mkdir(parents=True, exist_ok=True)
    protocol = "twins" if args.twins else "each scene once"
    args.key.write_text(json.dumps({"seed": args.seed, "protocol": protocol, "code": quality_written.code_version(),
                                    "crops": key}, indent=1) + "\n")
    print(f"{len(crops)} crops in {args.out}; key in {args.key}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
