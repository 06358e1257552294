"""No hard edges inside the worn face that the camera picture does not have (issue 13, s17).

A contact sheet of main's written files showed, at first sight: light outlines around d14's brows
and eye zones under s10 (straight top edges, box-like), and on s12 -> d20 a darker band down the
face's shaded side with a hard edge from the eye to the jaw. The causes:
- faces/brows.py limited the target's finest band over its brows, but the brow merely blurred
  still had a band of its own at camera_detail's scales: its light ring came back as an outline;
- blend/mask.edge_off_skin took the shaded side of a side-lit face (30-40% under the lit side's
  skin) for hair and left the whole feathered band to the target, up to the band's hard inner end.
Real frames of ../shared/media, MediaPipe for every face, the real swapper and blend stage.
"""

from __future__ import annotations

import cv2
import numpy as np

from benchmarks import realism
from realtime.blend.mask import edge_off_skin
from realtime.faces.topology import topology
from realtime.settings import FaceSettings, Settings
from tests.conftest import frame_of


def _hull(shape, points: np.ndarray, grow: float) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(points[:, :2]).astype(np.int32)), 1)
    size = int(2 * grow) | 1
    if size > 1:
        mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    return mask > 0


def _fine(image: np.ndarray, sigma: float = 2.0) -> np.ndarray:
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    return grey - cv2.GaussianBlur(grey, (0, 0), sigma)


def _without_camera_detail(video: str, index: int, source: str) -> np.ndarray:
    """The swap_one output with the blend's camera detail off (grain 0): the new face's own picture."""
    import dataclasses

    from realtime.blend.stage import BlendStage
    from realtime.faces import create_detector
    from realtime.faces.source import SourceLibrary
    from realtime.frame import Frame
    from realtime.swap.mesh import MeshSwapper
    from tests.conftest import media

    image = frame_of(video, index)
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    faces = detector.detect(image)
    detector.close()
    settings = Settings()
    settings = dataclasses.replace(settings, blend=dataclasses.replace(settings.blend, grain=0.0))
    library = SourceLibrary()
    swapper = MeshSwapper(settings)
    swapper.set_source(library.get(str(media(source))))
    frame = Frame(index=0, image=image, capture_ns=0, pts=0.0)
    frame.faces = faces
    frame.layers = swapper.swap(frame, faces)
    output = BlendStage(settings).process(frame).output
    swapper.close()
    library.close()
    return output


def test_no_light_outline_around_the_targets_brows(swap_one):
    # At d14's brows where the face-shape transfer moved them (face_shape), in the moved picture.
    image, face, output = swap_one("d14.mp4", 0, "s10.jpg", moved=True)
    top = topology()
    points, size, shape = face.landmarks, face.size, image.shape[:2]
    # The ring just outside d14's own brows (their hairs' edges and the skin beside them),
    # the eyes and lash lines left out: where a high-pass of a dark brow is light.
    brows = _hull(shape, points[top.right_eyebrow], 0.035 * size) | _hull(shape, points[top.left_eyebrow], 0.035 * size)
    core = _hull(shape, points[top.right_eyebrow], 0.008 * size) | _hull(shape, points[top.left_eyebrow], 0.008 * size)
    eyes = _hull(shape, points[top.right_eye], 0.02 * size) | _hull(shape, points[top.left_eye], 0.02 * size)
    ring = brows & ~core & ~eyes
    theirs, ours = _fine(image)[ring], _fine(output)[ring]
    # How much of the target's fine band comes back there (regression slope): main 0.31, the
    # outline a viewer saw; the branch 0.15. Since s31-brows less what the new face's own
    # picture has in common with it (the same swap without the camera detail, which is what
    # carries the target's band): s10's brow ridge, drawn lower with her brow-to-lid band, leaves
    # its arc on d14's brow ring, a slope of 0.21 without the detail and 0.24 with it (0.106 and
    # 0.107 before; the detail's share 0.026, 0.002 before).
    # The whole slope still stays under the outline's 0.31 (0.24 since s31-brows), and the
    # detail's share under 0.115.
    whole = float((theirs * ours).sum() / (theirs * theirs).sum())
    assert whole <= 0.27, whole
    own = _fine(_without_camera_detail("d14.mp4", 0, "s10.jpg"))[ring]
    echo = float((theirs * (ours - own)).sum() / (theirs * theirs).sum())
    assert echo <= 0.115, echo
    # The light side of it, where the target's band is light (the ring beside a dark brow):
    # main 1.1 grey levels on average, the branch 0.4 (with the new face's own: 0.13 of it the
    # detail's since s31-brows, -0.04 before).
    assert float((ours - own)[theirs > 2].mean()) <= 0.4


def test_a_side_lit_face_is_not_taken_for_hair():
    """d6 frame 0 under a side light (its image-right half darkened smoothly, to 55% at the
    face's edge): the shaded skin in the mask's band is skin, not hair to leave to the target
    (main: 45% of the band there kept, the hard-edged band of s12 -> d20; the branch 20%)."""
    from realtime.faces import create_detector

    image = frame_of("d6.mp4", 0)
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    face = detector.detect(image)[0]
    detector.close()
    points = face.landmarks
    height, width = image.shape[:2]
    xs = np.arange(width, dtype=np.float32)[None, :]
    ys = np.arange(height, dtype=np.float32)[:, None]
    centre, half = float(points[1, 0]), float(points[454, 0] - points[1, 0])
    light = 1.0 - 0.45 * np.clip((xs - centre) / half, 0.0, 1.0)
    shaded = np.clip(image.astype(np.float32) * light[..., None], 0, 255).astype(np.uint8)

    oval = np.zeros((height, width), np.uint8)
    cv2.fillPoly(oval, [np.round(points[topology().face_oval, :2]).astype(np.int32)], 1)
    inside = cv2.distanceTransform(oval, cv2.DIST_L2, 5) / face.size
    # The band on the shaded side, from the eye down to above the chin.
    band = (inside > 0.02) & (inside <= 0.08) & (xs > centre) & (ys > points[263, 1]) & \
        (ys < points[152, 1] - 0.1 * face.size)
    x0, y0, x1, y1 = face.box
    for picture, most in ((image, 0.05), (shaded, 0.25)):
        keep = np.zeros((height, width), np.float32)
        found = edge_off_skin(picture, points, face.box, face.size, Settings().blend)
        if found is not None:
            keep[y0:y1, x0:x1] = found
        assert float(keep[band].mean()) <= most


def test_inner_seam_finds_a_step_along_the_outline():
    """The measure (benchmarks/realism.inner_seam): a zone left unaltered along the face's side,
    ending in a curve parallel to the outline, with the face beyond it 8 levels lighter, reads
    about 8; the same step along the outline's whole length but soft (a ramp over a tenth of
    the face) reads little; the picture against itself 0."""
    from realtime.faces import create_detector

    image = frame_of("d14.mp4", 0).astype(np.float32)
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    face = detector.detect(image.astype(np.uint8))[0]
    detector.close()
    points = face.landmarks
    oval = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(oval, [np.round(points[topology().face_oval, :2]).astype(np.int32)], 1)
    inside = cv2.distanceTransform(oval, cv2.DIST_L2, 5) / realism.face_width(points)
    hard = image + 8.0 * (inside > 0.08)[..., None]
    soft = image + 8.0 * np.clip((inside - 0.03) / 0.1, 0.0, 1.0)[..., None]
    assert realism.inner_seam(image, image, points)["levels"] == 0.0
    assert realism.inner_seam(hard, image, points)["levels"] >= 6.0
    assert realism.inner_seam(soft, image, points)["levels"] <= 2.0
