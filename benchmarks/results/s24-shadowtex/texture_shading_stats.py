"""s24-shadowtex: chroma of the clean texture's shading over its lit skin's, before and after
colour_shading (runs on commit 43f5498 only, which has colour_shading). Usage, from the worktree root:
PYTHONPATH=$PWD python benchmarks/results/s24-shadowtex/texture_shading_stats.py s12.jpg s42.jpg"""
import sys

import cv2
import numpy as np

from realtime.faces.source import SourceLibrary
from realtime.swap import texture
from tests.conftest import media

orig = texture.colour_shading


def spy(clean, local, fs, oval):
    out = orig(clean, local, fs, oval)
    for tag, im in (("before", clean), ("after", out)):
        lab = cv2.cvtColor(im.astype(np.float32) / 255, cv2.COLOR_BGR2LAB)
        chroma = np.hypot(lab[..., 1], lab[..., 2])
        lightness = lab[..., 0]
        skin = (oval & (1 - texture._features_mask(im.shape[:2], local, fs))
                & (1 - texture._moustache_zone(im.shape[:2], local, fs))).astype(bool)
        w = skin.astype(np.float32)
        s = 0.08 * fs
        m = cv2.GaussianBlur(lightness * w, (0, 0), s) / np.maximum(cv2.GaussianBlur(w, (0, 0), s), 1e-4)
        r = lightness / np.maximum(m, 1)
        lit = skin & (np.abs(lightness - m) < 5)
        for lo, hi in ((0.5, 0.7), (0.7, 0.85), (0.85, 0.95)):
            sel = skin & (r > lo) & (r < hi)
            print(tag, lo, hi, int(sel.sum()), "C/lit %.2f" % (chroma[sel].mean() / chroma[lit].mean()))
    return out


texture.colour_shading = spy
library = SourceLibrary()
for name in sys.argv[1:]:
    source = library.get(str(media(name)))
    print(name)
    texture.make_clean_texture(source.image, source.face.landmarks)
library.close()
