"""Per-part CPU ms (p50 and mean) of the swap and blend of one face, to compare checkouts.

    python benchmarks/swap_parts.py <checkout> [--input ../shared/media/d13.mp4] [--source ../shared/media/s42.jpg]

Imports the engine from <checkout> (a branch's worktree, or main's), times each part that
benchmarks/swap_cost.py's PARTS names (a part the checkout lacks is left out) and prints two JSON
lines: {part: [p50, mean]} and the totals. Run it once per checkout, interleaved (main, branch,
main, branch), in one sitting: on a shared machine only ratios measured together mean something.
The mean counts the parts that run every few frames (hands, hair, the glasses search) at their
share. Sessions 18 to 21 kept a copy of this script per results folder (sNN-budget/parts.py, in
git history); their numbers were measured the same way.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", help="the checkout whose engine is timed")
    parser.add_argument("--input", default="../shared/media/d13.mp4")
    parser.add_argument("--source", default="../shared/media/s42.jpg")
    parser.add_argument("--frames", type=int, default=30)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(args.checkout).resolve()))
    sys.path.insert(1, str(HERE.parent))  # this checkout's benchmarks where <checkout> has none

    import cv2

    from benchmarks import swap_cost
    from realtime.faces import create_detector
    from realtime.faces.source import SourceLibrary
    from realtime.settings import FaceSettings, Settings

    cv2.setNumThreads(1)
    pictures = swap_cost.frames(args.input, args.frames)
    detector = create_detector(FaceSettings(max_faces=1), static=False)
    faces = [detector.detect(picture) for picture in pictures]
    detector.close()
    library = SourceLibrary()
    row = swap_cost.measure(pictures, faces, Settings().replace(source=args.source), library, parts=True)
    library.close()
    print(json.dumps({name: [round(value, 2), round(row["parts_mean_ms"][name], 2)]
                      for name, value in row["parts_p50_ms"].items()}))
    print(json.dumps({name: round(value, 2) for name, value in row.items() if not isinstance(value, dict)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
