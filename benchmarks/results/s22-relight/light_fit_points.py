import cv2, numpy as np, sys
from realtime.faces import create_detector
from realtime.settings import FaceSettings
from realtime.blend import relight
from tests.test_swap_sharp import frame_of
det = create_detector(FaceSettings(max_faces=1), static=True)
vid = sys.argv[1]
image = frame_of(vid, 0); face = det.detect(image)[0]
L = face.landmarks; skin = relight.skin_points(); nrm = relight.vertex_normals(L)
col = relight.sample_points(image, L[skin], face.size)
c = relight.fit_light(nrm[skin], col, order=1)
lum = col.mean(1); pred = (relight.sh_basis(nrm[skin]) @ c).mean(1)
print(vid, "c0 %.1f side %.3f top %.3f z %.3f" % (c[0].mean(), c[1].mean()/c[0].mean(), c[2].mean()/c[0].mean(), c[3].mean()/c[0].mean()))
# fit with points whose normal y > 0.3 (facing down) removed
down = nrm[skin,1] > 0.3
c2 = relight.fit_light(nrm[skin][~down], col[~down], order=1)
print(" without down-facing pts (%d of %d): side %.3f top %.3f" % (down.sum(), len(skin), c2[1].mean()/c2[0].mean(), c2[2].mean()/c2[0].mean()))
up = nrm[skin,1] < -0.3
print(" up-facing n=%d lum %.1f ; down-facing lum %.1f; mid lum %.1f" % (up.sum(), lum[up].mean(), lum[down].mean(), lum[~up & ~down].mean()))
x0,y0 = np.min(L[:468,:2],0).astype(int)-20; x1,y1=np.max(L[:468,:2],0).astype(int)+20
vis = image.copy()
for i,p in enumerate(skin):
    r = (lum[i]-pred[i])/pred[i]
    colr = (0,0,255) if r < -0.05 else ((0,255,0) if r > 0.05 else (255,255,255))
    cv2.circle(vis, tuple(np.round(L[p,:2]).astype(int)), 2, colr, -1)
crop = vis[max(0,y0):y1, max(0,x0):x1]
cv2.imwrite(f"/tmp/s22-relight/pts_{vid[:-4]}.png", cv2.resize(crop, None, fx=2, fy=2) if crop.shape[0] < 400 else crop)
