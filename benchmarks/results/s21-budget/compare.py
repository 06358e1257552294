"""Face-box PSNR (median, min) and the whole frame's largest |difference| of two outputs.py files.

    python benchmarks/results/s21-budget/compare.py main.npz branch.npz
"""

import sys

import numpy as np

first, second = np.load(sys.argv[1]), np.load(sys.argv[2])
psnrs, largest = [], 0
for a, b, (x0, y0, x1, y1) in zip(first["outputs"], second["outputs"], first["boxes"], strict=True):
    error = ((a[y0:y1, x0:x1].astype(np.float64) - b[y0:y1, x0:x1].astype(np.float64)) ** 2).mean()
    psnrs.append(99.0 if error == 0 else 10 * np.log10(255 ** 2 / error))  # 99: identical
    largest = max(largest, int(np.abs(a.astype(int) - b.astype(int)).max()))
print(f"{sys.argv[2].split('/')[-1]}: {len(psnrs)} frames, face-box PSNR median {np.median(psnrs):.1f} "
      f"min {min(psnrs):.1f} dB, whole frame largest difference {largest}")
