"""Per pair, the largest difference and the pixels more than 1 level apart over the decoded frames
of two folders of written files (main's and a branch's, made with run_fixed_mark.py).

    python benchmarks/results/s23-budget/compare_written.py <folder_a> <folder_b>
"""

import os
import sys

import av
import numpy as np


def frames(path: str) -> list[np.ndarray]:
    with av.open(path) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


first, second = sys.argv[1], sys.argv[2]
worst = 0
for name in sorted(os.listdir(first)):
    if not name.endswith(".mp4"):
        continue
    ours, theirs = frames(os.path.join(first, name)), frames(os.path.join(second, name))
    largest, over, same = 0, 0, 0
    for a, b in zip(ours, theirs, strict=True):
        difference = np.abs(a.astype(int) - b.astype(int))
        largest = max(largest, int(difference.max()))
        over += int((difference > 1).sum())
        same += int(difference.max() == 0)
    worst = max(worst, largest)
    print(f"{name}: frames {len(ours)}/{len(theirs)} identical frames {same} max diff {largest} pixels>1 {over}")
print("worst", worst)
