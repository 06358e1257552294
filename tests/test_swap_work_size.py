"""A face larger than its source photo's detail (issue 13's budget) is rendered at a working size,
SOURCE_DETAIL times the source's face (realtime/swap/mesh.py: work_face_px), and enlarged in the
blend's final composite: the warp, relight, masks and colour work on about half the pixels. What a
viewer sees must not change: the same face, as sharp, and the target's glasses frames (found and
cut out at the frame's resolution, FaceLayer.glasses) as the camera draws them.

Real frame of ../shared/media (d13: a 609-px face with metal frames), real photo s42 (a 339-px
face), MediaPipe, the real swapper and blend stage.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import realtime.swap.mesh as mesh
from realtime.settings import FaceSettings, Settings
from tests.conftest import frame_of, media, psnr
from tests.test_huge_face import sharpness, swap


@pytest.fixture(scope="module")
def d13_face():
    from realtime.faces import create_detector

    image = frame_of("d13.mp4", 0)
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    faces = detector.detect(image)
    detector.close()
    assert faces
    return image, faces[0]


def test_a_face_larger_than_its_sources_detail_is_rendered_smaller_and_looks_the_same(library, d13_face,
                                                                                       monkeypatch):
    image, face = d13_face
    source = library.get(str(media("s42.jpg"))).choose(0)
    # The working size against the full size, with the target's own face shape: with the shape
    # transfer on (face_shape 0.75, the default since session 20) the two renders differ also
    # where the moved picture's nostrils and lips are resampled (33.97 dB here, 99th percentile
    # 15 levels, at most 85 at one nostril's rim of s12 -> d13 frame 16, a nostril a shade darker;
    # side by side at 2x no difference to see: looked at, session 20's lead).
    settings = Settings().replace(keep_hands=False, face_shape=0.0)
    work = mesh.work_face_px(source.face.size)
    assert work < 0.8 * face.size  # the case: d13's face is 1.8 times s42's
    reduced, rendered, shown = swap(image, face, source, settings)
    layer = reduced.layers[0]
    x0, y0, x1, y1 = layer.box
    assert np.hypot(*rendered) <= 1.05 * work * np.hypot(y1 - y0, x1 - x0) / face.size

    monkeypatch.setattr(mesh, "work_face_px", lambda source_face_px: 1e9)  # at full resolution
    full, rendered_full, _ = swap(image, face, source, settings)
    assert rendered_full == (y1 - y0, x1 - x0)

    inside = np.zeros(image.shape[:2], bool)
    inside[y0:y1, x0:x1] = shown > 0.5
    inner = cv2.erode(inside.astype(np.uint8), np.ones((25, 25), np.uint8)) > 0
    # The same face (39.8 dB here, 40.6 with s12; along the parted lips and the nostrils up to 10
    # levels at the 99th percentile: the thin opening is softer through the working size; side by
    # side at 3x no difference to see), as sharp (1.001 here).
    assert psnr(reduced.output, full.output, inside) >= 38.0
    assert 0.95 <= sharpness(reduced.output, inner) / sharpness(full.output, inner) <= 1.05
    # The glasses frames where the full-size render keeps them are the camera's in both: found on
    # the working picture they lost their thin edges and the bridge came back as a pale patch.
    keep, (gx, gy) = full.layers[0].kept_lines
    rims = np.zeros(image.shape[:2], bool)
    rims[y0 + gy:y0 + gy + keep.shape[0], x0 + gx:x0 + gx + keep.shape[1]] = keep > 0.5
    assert rims.sum() > 500
    difference = np.abs(reduced.output.astype(np.int16) - full.output)[rims]
    assert difference.mean() <= 2.0, difference.mean()  # 0.78 here; 99th percentile 3
    assert np.percentile(difference, 99) <= 16, np.percentile(difference, 99)


def test_no_spot_at_the_nostril_at_the_working_size(library, monkeypatch):
    """d13's frame 16 worn by s12 (a 209-px face: rendered at 400 px): with the warp's grid at
    4 working pixels a cell won by a nostril's sliver triangle came out as a dark spot 5 px
    across beside the nostril, 123 grey levels off the full-size render (a dark mole that is not
    the person's). Around the nostrils the working size is the full-size picture."""
    from realtime.faces import create_detector

    image = frame_of("d13.mp4", 16)
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    face = detector.detect(image)[0]
    detector.close()
    source = library.get(str(media("s12.jpg"))).choose(0)
    settings = Settings().replace(keep_hands=False, face_shape=0.0)  # (see above)
    reduced, rendered, _ = swap(image, face, source, settings)
    monkeypatch.setattr(mesh, "work_face_px", lambda source_face_px: 1e9)
    full, rendered_full, _ = swap(image, face, source, settings)
    assert rendered[0] < 0.8 * rendered_full[0]
    # The nose's lower part: the nostrils and the skin beside them.
    nose = face.landmarks[[48, 64, 278, 294, 2, 98, 327, 129, 358], :2]
    (nx0, ny0), (nx1, ny1) = nose.min(axis=0) - 12, nose.max(axis=0) + 12
    region = np.s_[int(ny0):int(ny1), int(nx0):int(nx1)]
    difference = np.abs(reduced.output[region].astype(np.int16) - full.output[region]).max(axis=2)
    assert difference.max() <= 40, difference.max()


def test_the_skin_under_the_nose_is_the_new_faces_at_the_working_size_under_the_shape_transfer(library,
                                                                                                monkeypatch):
    """s42 on d3 frame 0 (a 450-px face rendered at 437 px), the face-shape transfer on (the default):
    the target's hair and off-skin band were found on its unmoved picture in frame pixels but cut
    out of the working-size layer in its own: d3's hair beside her jaw became a hole from the
    nostril to the chin, where her own moved picture showed through -- a dark wedge beside the
    nose down to the lip, the blind judge's "tone break beside the nose" (issue 13, s28/s29)."""
    from realtime.faces import create_detector

    image = frame_of("d3.mp4", 0)
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    face = detector.detect(image)[0]
    detector.close()
    source = library.get(str(media("s42.jpg"))).choose(0)
    settings = Settings().replace(keep_hands=False)
    reduced, rendered, shown = swap(image, face, source, settings)
    monkeypatch.setattr(mesh, "work_face_px", lambda source_face_px: 1e9)
    full, rendered_full, shown_full = swap(image, face, source, settings)
    assert rendered[0] < rendered_full[0]  # the case: rendered at the working size
    layer = reduced.layers[0]
    x0, y0, x1, y1 = layer.box
    # The upper lip's skin, from the nostrils' base to the lip's top (the moved face's points).
    points = layer.face.landmarks[[98, 327, 2, 0, 37, 267, 164], :2] - np.array([x0, y0], np.float32)
    under_nose = np.zeros(shown.shape, np.uint8)
    cv2.fillConvexPoly(under_nose, cv2.convexHull(np.round(points).astype(np.int32)), 1)
    assert under_nose.sum() > 200
    # Main: 0.00 at least (the hole), 0.62 on average; here 0.88 (the lip's soft edge) and 0.99.
    values = shown[under_nose > 0]
    assert float(values.min()) > 0.8 and float(values.mean()) > 0.95, (float(values.min()), float(values.mean()))
    # The hair and the band cut where the full-size render cuts them: the alphas' mean difference
    # over the box, main 0.023, here 0.009 (resampling and the working size's own feather).
    assert float(np.abs(shown - shown_full).mean()) < 0.016, float(np.abs(shown - shown_full).mean())
