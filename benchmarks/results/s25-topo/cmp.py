"""Decoded frames of pairs of written files: per-frame max |difference| (usage: cmp.py A1 B1 [A2 B2 ...])."""

import sys

import av
import numpy as np


def frames(path: str) -> list[np.ndarray]:
    with av.open(path) as container:
        return [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]


for a, b in zip(sys.argv[1::2], sys.argv[2::2], strict=True):
    fa, fb = frames(a), frames(b)
    diffs = [int(np.abs(x.astype(int) - y.astype(int)).max()) for x, y in zip(fa, fb, strict=True)]
    print(a, b, len(fa), len(fb), "max", diffs)
