"""Per-part CPU ms (p50 and mean) of the swap and blend on one video (default d13 with s42, 30 frames).

    python benchmarks/results/s21-budget/parts.py <checkout> [video]

Session 21: as s20-budget's, with the face-shape transfer's parts (plan, warp, the glasses put back
unmoved, the whole transfer) by their own names.

As benchmarks/results/s19-budget/parts.py (session 20: the same parts; the glasses search now runs on some frames only, its mean counts it at its share). As s18-budget's, with the parts that now run every few frames (hair,
off-skin band: their mean counts them at their share) and the kept features' shift. Run once per
checkout (main, branch), interleaved, in one sitting: only ratios mean something on a shared
machine."""

import json
import sys

root = sys.argv[1]
sys.path.insert(0, root)

import cv2  # noqa: E402

from benchmarks import swap_cost  # noqa: E402
from realtime.faces import create_detector  # noqa: E402
from realtime.faces.source import SourceLibrary  # noqa: E402
from realtime.settings import FaceSettings, Settings  # noqa: E402

cv2.setNumThreads(1)
swap_cost.PARTS.append(("realtime.blend.stage", "without_fine_features", "brow band"))
swap_cost.PARTS.append(("realtime.swap.mesh", "edge_off_skin", "edge off skin"))
swap_cost.PARTS.append(("realtime.blend.stage", "shift_kept", "kept features' shift"))
swap_cost.PARTS.append(("realtime.blend.stage", "kept_in_layer", "kept features' shift"))
# Session 20: the brow erase and the feature band (realtime/faces/brows.py) by their own names.
swap_cost.PARTS.append(("realtime.blend.stage", "erase_brows", "brow erase"))
swap_cost.PARTS.append(("realtime.blend.stage", "feature_band", "feature band (brows, lids)"))
# Session 21: the face-shape transfer (realtime/swap/shape.py, on by default since session 20).
swap_cost.PARTS.append(("realtime.swap.mesh", "MeshSwapper._transfer_shape", "shape transfer (all)"))
swap_cost.PARTS.append(("realtime.swap.mesh", "plan", "shape plan"))
swap_cost.PARTS.append(("realtime.swap.mesh", "warp", "shape warp"))
swap_cost.PARTS.append(("realtime.swap.mesh", "MeshSwapper._glasses_unmoved", "shape: glasses unmoved"))
swap_cost.PARTS.append(("realtime.swap.mesh", "_mouth_grain", "shape: mouth grain"))
pictures = swap_cost.frames(sys.argv[2] if len(sys.argv) > 2 else "../shared/media/d13.mp4", 30)
detector = create_detector(FaceSettings(max_faces=1), static=False)
faces = [detector.detect(picture) for picture in pictures]
detector.close()
settings = Settings().replace(source="../shared/media/s42.jpg")
library = SourceLibrary()
row = swap_cost.measure(pictures, faces, settings, library, parts=True)
print(json.dumps({name: [round(value, 2), round(row["parts_mean_ms"][name], 2)]
                  for name, value in row["parts_p50_ms"].items()}))
print(json.dumps({name: round(value, 2) for name, value in row.items() if not isinstance(value, dict)}))
