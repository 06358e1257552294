"""CPU time of recolour_halved with and without shading_hue_offsets, interleaved (s24-shadowhue; run on
commit 9f8007d, where shading_hue_offsets exists)."""
import sys
import time

import numpy as np

sys.path.insert(0, "/work/wt/s24-shadowhue")
from realtime.blend import color  # noqa: E402
from realtime.blend.mask import skin_mask  # noqa: E402
from realtime.faces import create_detector  # noqa: E402
from realtime.faces.source import SourceLibrary  # noqa: E402
from realtime.frame import Frame  # noqa: E402
from realtime.settings import FaceSettings, Settings  # noqa: E402
from realtime.swap.mesh import MeshSwapper  # noqa: E402
from tests.test_swap_sharp import frame_of  # noqa: E402

library = SourceLibrary()
detector = create_detector(FaceSettings(max_faces=1), static=True)
real = color.shading_hue_offsets
for video, source in (("d13.mp4", "s42.jpg"), ("d14.mp4", "s12.jpg")):
    image = frame_of(video, 10)
    faces = detector.detect(image)
    swapper = MeshSwapper(Settings())
    swapper.set_source(library.get(f"/work/shared/media/{source}"))
    frame = Frame(index=0, image=image, capture_ns=0, pts=0.0)
    frame.faces = faces
    layer = swapper.swap(frame, faces)[0]
    x0, y0, x1, y1 = layer.box
    target = image[y0:y1, x0:x1]
    if layer.image.shape != target.shape:
        import cv2
        target = cv2.resize(target, layer.image.shape[1::-1], interpolation=cv2.INTER_AREA)
    region = skin_mask(layer.face.landmarks, layer.box, layer.face.size, layer.alpha, step=4)
    size = layer.face.size * layer.image.shape[1] / (x1 - x0)
    points = layer.face.landmarks.astype(np.float32, copy=True)
    points[:, :2] = (points[:, :2] - np.array(layer.box[:2], np.float32)) * layer.image.shape[1] / (x1 - x0)
    edge = (layer.alpha, points, (0, 0, layer.image.shape[1], layer.image.shape[0]), 0.08)

    def once(layer=layer, target=target, region=region, size=size, edge=edge):
        return color.recolour_halved(layer.image, target, region, 1.0, 1.0, size, None, edge, 1.0, None)
    times = {"without": [], "with": []}
    for _ in range(40):
        for name in ("without", "with"):
            color.shading_hue_offsets = real if name == "with" else (lambda *a, **k: None)
            t = time.process_time()
            once()
            times[name].append(time.process_time() - t)
    color.shading_hue_offsets = real
    w, wo = np.median(times["with"]) * 1e3, np.median(times["without"]) * 1e3
    print(f"{source}->{video} box {layer.image.shape[1]}x{layer.image.shape[0]}: recolour_halved median CPU "
          f"{wo:.2f} ms without, {w:.2f} ms with (x{w / wo:.2f}, +{w - wo:.2f} ms)")
