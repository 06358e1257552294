import json
import sys

root = sys.argv[1]; sys.path.insert(0, root)
import cv2

cv2.setNumThreads(1)
from benchmarks import swap_cost as sc

sc.PARTS.append(("realtime.blend.stage", "without_fine_features", "brow band"))
sc.PARTS.append(("realtime.blend.detail", "crossover_fill", "crossover fill"))
sc.PARTS.append(("realtime.blend.detail", "gaussian_u8", "gaussian_u8 (detail)"))
from realtime.faces import create_detector
from realtime.faces.source import SourceLibrary
from realtime.settings import FaceSettings, Settings

pics = sc.frames(sys.argv[2] if len(sys.argv) > 2 else '/work/shared/media/d13.mp4', 30)
det = create_detector(FaceSettings(max_faces=1), static=False)
faces = [det.detect(p) for p in pics]; det.close()
s = Settings().replace(source='/work/shared/media/s42.jpg') if hasattr(Settings(), 'source') else Settings()
lib = SourceLibrary()
print(s.source if hasattr(s,'source') else None)
row = sc.measure(pics, faces, s, lib, parts=True)
print(json.dumps({k: round(v, 2) for k, v in row['parts_p50_ms'].items()}, indent=0))
print({k: round(v, 2) for k, v in row.items() if not isinstance(v, dict)})
