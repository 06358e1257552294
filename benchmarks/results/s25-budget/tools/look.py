# ruff: noqa  (measurement scripts of benchmarks/results/s25-budget, kept as they were run; scratch paths /tmp/s25-budget)
"""look.py target frame out.png ref.mp4 other.mp4...: face crop of ref | |other - ref| x10 per other (grey), side by side."""
import sys, pickle, av, numpy as np, cv2
target, index, out, ref, others = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5:]
def frame(p):
    with av.open(p) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i == index: return f.to_ndarray(format="bgr24")
box = pickle.load(open(f"/tmp/s25-budget/boxes_{target}_30.pkl", "rb"))[index]
x0, y0, x1, y1 = box
h, w = y1 - y0, x1 - x0
y0, y1, x0, x1 = y0 + int(0.15 * h), y0 + int(0.9 * h), x0 + int(0.1 * w), x0 + int(0.9 * w)
a = frame(ref)[y0:y1, x0:x1]
panels = [a]
for o in others:
    b = frame(o)[y0:y1, x0:x1]
    d = np.clip(np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2) * 10, 0, 255).astype(np.uint8)
    panels.append(cv2.cvtColor(d, cv2.COLOR_GRAY2BGR))
sheet = np.concatenate([np.pad(p, ((0, 0), (0, 4), (0, 0)), constant_values=255) for p in panels], axis=1)
cv2.imwrite(out, sheet, [cv2.IMWRITE_PNG_COMPRESSION, 9])
