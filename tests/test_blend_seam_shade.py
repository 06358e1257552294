"""No straight step where the mask's band meets the camera's skin on a lit forehead (issue 13,
"Seam: no frame over 3 grey levels"; session 20).

d20 (outdoors, lit from one side): its forehead, 40-50% lighter than the ring of skin that
blend/mask.edge_off_skin compares the band with (the ring runs down the shaded side), was taken
for "not skin" and left to the target up to the band's inner end: the alpha rose from 1 - keep to
1 there in a few pixels, a straight step across the forehead above the brows (written files of
main: 4.0 grey levels under s10, 3.9 under s42, 8 and 14 of 30 frames over 3). Lighter and
skin-coloured is let go over the band's inner half now, so the alpha rises no faster than its
feather.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from realtime.blend.mask import edge_off_skin
from realtime.faces.topology import topology
from realtime.settings import FaceSettings, Settings
from tests.conftest import frame_of, media


def _face(video: str, index: int):
    from realtime.faces import create_detector

    if not media(video).exists():
        pytest.skip(f"needs {media(video)}")
    image = frame_of(video, index)
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    faces = detector.detect(image)
    detector.close()
    assert faces
    return image, faces[0]


def test_a_lit_forehead_is_skin_not_left_to_the_target():
    image, face = _face("d20.mp4", 21)
    points = face.landmarks
    keep = edge_off_skin(image, points, face.box, face.size, Settings().blend)
    x0, y0, x1, y1 = face.box
    left = np.zeros(image.shape[:2], np.float32)
    if keep is not None:
        left[y0:y1, x0:x1] = keep
    # The forehead (the oval's part above the brows), in the inner quarter of the mask's band
    # (0.06-0.08 of the face inside the oval, where the alpha reaches 1): what is kept there ends
    # in a hard line at the band's end.
    top = topology()
    brows = points[np.concatenate([top.right_eyebrow, top.left_eyebrow]), 1].min()
    ys = np.arange(image.shape[0])[:, None] + np.zeros((1, image.shape[1]))
    oval = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(oval, [np.round(points[top.face_oval, :2]).astype(np.int32)], 1)
    inside = cv2.distanceTransform(oval, cv2.DIST_L2, 5) / face.size
    reach = 2.0 * Settings().blend.feather
    forehead = (oval > 0) & (ys < brows - 0.02 * face.size) & (inside > 0.75 * reach) & (inside <= reach)
    assert forehead.sum() > 100
    kept = float(left[forehead].mean())
    # Main: 39% of it left to the target (its lit skin taken for a wall); the branch 12% (let go
    # over the band's inner half: the alpha rises no faster than its feather).
    assert kept < 0.2, kept


def test_no_step_across_a_lit_forehead(library):
    from benchmarks import realism
    from realtime.faces import create_detector
    from tests.test_swap_realism import swap

    source = library.get(str(media("s10.jpg")))
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    found = {}
    try:
        # d20's frames 17-25 (the head nearly still; one frame alone sat on either side of the
        # measure's quiet threshold: a step of 3 levels on one frame was not counted on the next).
        for index in range(17, 26):
            image = frame_of("d20.mp4", index)
            faces = detector.detect(image)
            assert faces
            frame = swap(Settings(), source, image, faces[0])
            found[index] = realism.frame_seam(frame.output.astype(np.float32), image.astype(np.float32),
                                              faces[0].landmarks)["levels"]
    finally:
        detector.close()
    # Session 20: 3.3 grey levels on frame 21 in process (4.0 on the written file), the mask cutting
    # the lit forehead. Then a horizontal line across the forehead above the brows where the mask's
    # band reaches 1 on the camera's lit brow bone, which the relit new face does not have: main
    # 1.97-2.94 over these frames (2.94 on 25), s33-s10edge 1.80-3.13 (3.13 on 21). The brow bone
    # lifted to the camera's strip (an extra relight.brow_band_floor zone, s33-forehead's d001c0c,
    # reverted): 0.88-1.59, but the new face less like its photo (written d(source) +0.004 to
    # +0.045 on d20 and d3). Session 39 (s39-d20tone: under a hard light the target's shaded skin counts as its
    # light for the edge membrane and the skin-tone map): 1.66-2.76 over these frames (2.76 on 24), no xfail.
    worst = max(found, key=lambda index: found[index])
    assert found[worst] <= 2.8, {index: round(levels, 2) for index, levels in found.items()}
