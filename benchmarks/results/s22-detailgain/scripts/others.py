"""Each per-frame measured scalar in the blend on d-video frame 12, every other frame softened (1.5 px), 6 frames."""

import cv2

from realtime.blend import detail, stage
from realtime.faces import brows, create_detector
from realtime.faces.source import SourceLibrary
from realtime.settings import FaceSettings
from tests import test_swap_sharp
from tests.test_blend_moustache_hair import _swapped

log = {}


def spy(mod, name, key):
    orig = getattr(mod, name)

    def f(*a, **k):
        r = orig(*a, **k)
        log.setdefault(key, []).append(r)
        return r

    setattr(mod, name, f)


spy(detail, "crossover_fill", "crossover_fill")
spy(brows, "edge_gain", "edge_gain")
spy(stage, "source_detail_gain", "source_detail_gain(raw)")
spy(stage, "hair_gain", "hair_gain(raw)")
lib = SourceLibrary()
det = create_detector(FaceSettings(max_faces=1), static=True)
for src, vid in [("s9.jpg", "d14.mp4"), ("s42.jpg", "d14.mp4"), ("s42.jpg", "d9.mp4"), ("s12.jpg", "d9.mp4")]:
    crisp = test_swap_sharp.frame_of(vid, 12)
    face = det.detect(crisp)[0]
    log.clear()
    _swapped(lib, src, [crisp, cv2.GaussianBlur(crisp, (0, 0), 1.5)] * 3, [face] * 6)
    print(src, vid, {k: [round(float(x), 3) for x in v] for k, v in log.items()}, flush=True)
