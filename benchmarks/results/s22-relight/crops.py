"""target | start | branch, written frame N, face crop; then the eyes-nose band at 3x."""
import sys, av, cv2, numpy as np
from realtime.faces import create_detector
from realtime.settings import FaceSettings
det = create_detector(FaceSettings(max_faces=1), static=True)
def frame(path, n):
    with av.open(path) as c:
        for i, p in enumerate(c.decode(video=0)):
            if i == n:
                return p.to_ndarray(format="bgr24")
pairs = sys.argv[2:]
n = int(sys.argv[1])
rows, bands = [], []
for pair in pairs:
    s, d = pair.split("_")
    base = "/tmp/s22-relight/wbw%s_%s/" % ("9" if s == "s9" else "", "%s")
    t = frame(f"/work/wt/shared/media/{d}.mp4", n)
    a = frame(base % "start" + f"{pair}.mp4", n); b = frame(base % "branch" + f"{pair}.mp4", n)
    L = det.detect(t)[0].landmarks
    x0, y0 = L[:468, :2].min(0).astype(int); x1, y1 = L[:468, :2].max(0).astype(int)
    pad = int(0.05 * (x1 - x0)); x0, y0, x1, y1 = max(0, x0 - pad), max(0, y0 - pad), x1 + pad, y1 + pad
    crop = [im[y0:y1, x0:x1] for im in (t, a, b)]
    w = 200; h = int(w * (y1 - y0) / (x1 - x0))
    rows.append(np.hstack([cv2.resize(c, (w, h), interpolation=cv2.INTER_AREA) for c in crop]))
    # eyes to nose band (brow to nostril), 3x
    by0 = int(L[[105, 334], 1].min()) - 5; by1 = int(L[2, 1]) + 5
    bx0 = int(L[[127], 0][0]); bx1 = int(L[[356], 0][0])
    band = [im[by0:by1, bx0:bx1] for im in (t, a, b)]
    bands.append(np.vstack([cv2.resize(c, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC) for c in band]))
    cv2.imwrite(f"/tmp/s22-relight/band_{pair}_f{n}.png", bands[-1])
hh = min(r.shape[0] for r in rows)
cv2.imwrite(f"/tmp/s22-relight/faces_f{n}.png", np.vstack([r[:hh] for r in rows]))
