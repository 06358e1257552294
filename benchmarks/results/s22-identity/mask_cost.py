"""CPU time of blend.mask.face_mask at feather 0.04 (main) vs 0.03 / 0.02, interleaved, d10 frame 11
(PYTHONPATH=worktree OMP_NUM_THREADS=1)."""
import time

import numpy as np

from realtime.blend.mask import face_mask
from realtime.faces import create_detector
from realtime.settings import FaceSettings, Settings
from tests.test_swap_sharp import frame_of

face = create_detector(FaceSettings(max_faces=1), static=True).detect(frame_of("d10.mp4", 11))[0]
settings = {v: Settings().replace(feather=v).blend for v in (0.04, 0.03, 0.02)}
times = {v: [] for v in settings}
for _ in range(5):
    for value, blend in settings.items():
        start = time.process_time()
        for _ in range(40):
            face_mask(face.landmarks, face.box, face.size, blend)
        times[value].append((time.process_time() - start) / 40 * 1e3)
for value, spent in times.items():
    print(f"feather {value}: {np.median(spent):.3f} ms per mask (median of 5 rounds), "
          f"{np.median(spent) / np.median(times[0.04]):.2f}x main")
