"""s42 > d3: is the relit layer's side shade deeper than d3's own? Mean grey of the face's skin (oval
less the eyes, brows and lips, grown) on the dark half over the lit half (split at the nose ridge), for
the target, the clean texture relit (layer, before the blend), and the output; shading 0.8 (main) and 0."""
import cv2
import numpy as np

from realtime.blend.stage import BlendStage
from realtime.faces import create_detector
from realtime.faces.source import SourceLibrary
from realtime.faces.topology import topology
from realtime.frame import Frame
from realtime.settings import FaceSettings, Settings
from realtime.swap.mesh import MeshSwapper
from tests.test_swap_sharp import frame_of

top = topology()
det = create_detector(FaceSettings(max_faces=1), static=True)
source = SourceLibrary().get("/work/wt/shared/media/s42.jpg")


def halves(image, points):
    oval = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(oval, [np.round(points[top.face_oval, :2]).astype(np.int32)], 1)
    features = np.zeros_like(oval)
    for region in (top.right_eye, top.left_eye, top.outer_lips, top.right_eyebrow, top.left_eyebrow):
        cv2.fillConvexPoly(features, cv2.convexHull(np.round(points[region, :2]).astype(np.int32)), 1)
    features = cv2.dilate(features, np.ones((15, 15), np.uint8))
    skin = (oval > 0) & (features == 0)
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    xs = np.arange(image.shape[1])[None, :] + np.zeros(image.shape[:2])
    left, right = grey[skin & (xs < points[168, 0])].mean(), grey[skin & (xs >= points[168, 0])].mean()
    return min(left, right) / max(left, right)


for index in (0, 10, 20):
    image = frame_of("d3.mp4", index)
    face = det.detect(image)[0]
    row = [f"frame {index}: target {halves(image, face.landmarks):.2f}"]
    for shading in (0.8, 0.0):
        settings = Settings().replace(shading=shading)
        swapper = MeshSwapper(settings)
        swapper.set_source(source)
        frame = Frame(index=0, image=image, capture_ns=0, pts=0.0, faces=[face])
        frame.layers = swapper.swap(frame, [face])
        layer = frame.layers[0]
        under = frame.output.copy()
        x0, y0, x1, y1 = layer.box
        size = (x1 - x0, y1 - y0)
        a = cv2.resize(layer.alpha, size)[..., None]
        under[y0:y1, x0:x1] = (under[y0:y1, x0:x1] * (1 - a) + cv2.resize(layer.image, size) * a).astype(np.uint8)
        output = BlendStage(settings).process(frame).output
        row.append(f"shading {shading}: layer {halves(under, layer.face.landmarks):.2f}, "
                   f"output {halves(output, layer.face.landmarks):.2f}")
        swapper.close()
    print("; ".join(row), flush=True)
