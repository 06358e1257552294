"""In-process swap + blend outputs (frame.output, before mark and encoder) of one checkout for
s9, s42, s12 on d3, d9, d14 and d13 (30 frames each; MediaPipe's faces found once per video and cached,
so two checkouts get the same faces), saved as one npz per pair; with --compare, the largest
difference per pair between two such folders.

    python benchmarks/results/s23-budget/outputs.py <checkout> <folder>
    python benchmarks/results/s23-budget/outputs.py --compare <folder_a> <folder_b>
"""

import os
import pickle
import sys

if sys.argv[1] == "--compare":
    import numpy as np

    worst = 0
    for name in sorted(os.listdir(sys.argv[2])):
        if not name.endswith(".npz"):
            continue
        a, b = np.load(os.path.join(sys.argv[2], name))["outputs"], np.load(os.path.join(sys.argv[3], name))["outputs"]
        difference = int(np.abs(a.astype(np.int16) - b.astype(np.int16)).max())
        worst = max(worst, difference)
        print(f"{name[:-4]}: {len(a)} frames, largest difference {difference}, identical {np.array_equal(a, b)}")
    print("worst", worst)
    raise SystemExit(0)

root, folder = os.path.abspath(sys.argv[1]), sys.argv[2]
sys.path.insert(0, root)
os.makedirs(folder, exist_ok=True)

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks import swap_cost  # noqa: E402
from realtime.faces.source import SourceLibrary  # noqa: E402
from realtime.settings import FaceSettings, Settings  # noqa: E402

cv2.setNumThreads(1)
media = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "shared", "media")
media = os.environ.get("MEDIA", media)
for target in ("d3", "d9", "d14", "d13"):  # d13: a face rendered at its working size, with glasses
    pictures = swap_cost.frames(os.path.join(media, f"{target}.mp4"), 30)
    os.makedirs("/tmp/s23-budget", exist_ok=True)
    cache = f"/tmp/s23-budget/faces_{target}.pkl"
    if not os.path.exists(cache):
        from realtime.faces import create_detector

        detector = create_detector(FaceSettings(max_faces=1), static=False)
        with open(cache, "wb") as file:
            pickle.dump([detector.detect(picture) for picture in pictures], file)
        detector.close()
    with open(cache, "rb") as file:
        faces = pickle.load(file)
    for source in ("s9", "s42", "s12"):
        outputs: list = []
        swap_cost.measure(pictures, faces, Settings().replace(source=os.path.join(media, f"{source}.jpg")),
                          SourceLibrary(), outputs=outputs)
        np.savez_compressed(os.path.join(folder, f"{source}_{target}.npz"), outputs=np.stack(outputs))
        print(root, source, target, flush=True)
