"""What still gave a swap away after issue 13's look work, measured on real frames the way the
realism benchmark reads them (benchmarks/realism.py): a face softer than the camera draws it,
d9's glasses losing their upper rims and nose pads, the target's hair covered by the new face's
skin along a straight soft edge, and a dark line where the new face's lips meet the target's
open mouth.

Real frames of ../shared/media (d3, d9, d10, d13), real source photos (s12, s42), MediaPipe for
every face, the real swapper and blend stage. Each number in a comment is main's before this work.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from benchmarks import realism
from realtime.settings import FaceSettings
from tests.conftest import frame_of, still_faces, through_the_recorder


def test_the_face_is_as_sharp_and_grainy_as_the_camera_draws_it(swap_one):
    # A 340 px photo face enlarged onto d13's 613 px face, and d9's: brows, lids, lip lines and
    # glasses rims came out softer than the camera draws them (waxy skin, the blind judges' cue).
    for video, index, source in (("d13.mp4", 0, "s42.jpg"), ("d9.mp4", 0, "s42.jpg")):
        image, face, output = swap_one(video, index, source)
        ratio = realism.sharpness_match(output.astype(np.float32), image.astype(np.float32), face.landmarks)
        assert 0.8 <= ratio <= 1.25, (video, ratio)  # d13 0.62, d9 0.76 before


@pytest.mark.parametrize("video,index,source,low,high,before", [
    # Einstein's photo (film grain, stubble, lid wrinkles, a moustache in strands) on d14's
    # beauty-filtered camera, which draws next to no skin texture: grainier than the camera's skin.
    ("d14.mp4", 22, "s12.jpg", 0.8, 1.25, 1.45),
    # The painting s9 (a varnish-smooth skin) on d10 (long lashes and liner): softer than the camera.
    ("d10.mp4", 22, "s9.jpg", 0.85, 1.25, 0.78),
])
def test_the_face_is_no_grainier_or_softer_than_the_cameras_own(swap_one, video, index, source, low, high, before):
    image, face, output = swap_one(video, index, source)
    ratio = realism.sharpness_match(output.astype(np.float32), image.astype(np.float32), face.landmarks)
    assert low <= ratio <= high, (ratio, before)


def test_a_face_of_faint_detail_stays_as_sharp_as_the_camera_in_the_written_file(swap_one, tmp_path):
    # s42's clean texture has skin detail under a grey level or so (RMS 1.2 in its finest band;
    # Einstein's 4.6): the recorder quantises it away while it keeps the camera's own grain, and on
    # d3 the written face read 0.797 of the camera's sharpness (the worst pair, s30-sharp). Read as
    # a viewer of the file reads it: the output and the camera both through the recorder.
    shots = [swap_one("d3.mp4", index, "s42.jpg") for index in (0, 10, 20, 30)]
    outputs = through_the_recorder([output for _, _, output in shots], tmp_path / "output.mp4")
    cameras = through_the_recorder([image for image, _, _ in shots], tmp_path / "camera.mp4")
    ratios = [realism.sharpness_match(output.astype(np.float32), camera.astype(np.float32), face.landmarks)
              for output, camera, (_, face, _) in zip(outputs, cameras, shots, strict=True)]
    assert np.mean(ratios) >= 0.85, ratios  # 0.825 before (0.87, 0.77, 0.75, 0.90)
    assert max(ratios) <= 1.1, ratios


def test_d9s_glasses_keep_their_upper_rims_and_nose_pads(swap_one):
    # d9's upper rims run along the brows' lower edge (under MediaPipe's brow points) and were
    # taken for brows; its nose pads' metal arms lay in the region kept free for the nose.
    image, face, output = swap_one("d9.mp4", 0, "s42.jpg")
    kept = realism.glasses_kept(output.astype(np.float32), image.astype(np.float32), face.landmarks)
    assert kept >= 0.8  # 0.71 before


def test_the_targets_hair_over_the_face_stays_in_front(swap_one):
    # d10's hair covers both sides of the face oval: the new face's skin was drawn over it and met
    # the hair in a straight soft edge (seam 6.0 levels in this frame).
    image, face, output = swap_one("d10.mp4", 28, "s12.jpg")
    found = realism.frame_seam(output.astype(np.float32), image.astype(np.float32), face.landmarks)
    assert found["levels"] <= 3.0, found  # 6.0 before
    # The hair itself: dark pixels inside the oval, near its border, as the camera shows them.
    oval = realism.oval_mask(face.landmarks, image.shape)
    band = oval & ~realism.oval_mask(face.landmarks, image.shape, 0.85)
    upper = np.mgrid[0:image.shape[0], 0:image.shape[1]][0] < face.landmarks[1, 1]
    lightness = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)[:, :, 0].astype(np.float32)
    hair = band & upper & (lightness < 0.4 * np.median(lightness[oval]))
    assert hair.sum() > 200
    change = np.abs(output.astype(np.float32) - image.astype(np.float32)).max(axis=2)
    assert np.median(change[hair]) < 6  # 30 before: the face's skin drawn over the lock


@pytest.mark.parametrize("video,index,source,before", [("d3.mp4", 46, "s12.jpg", 5.1),
                                                        ("d3.mp4", 50, "s42.jpg", 3.6)])
def test_the_lips_meet_the_open_mouth_without_a_line(swap_one, video, index, source, before):
    # Einstein's moustache and s42's darker lips met the target's teeth in a straight dark line a
    # quarter of a face long (the worst seams of the written runs).
    image, face, output = swap_one(video, index, source)
    found = realism.frame_seam(output.astype(np.float32), image.astype(np.float32), face.landmarks)
    assert found["levels"] <= 3.0, (found, before)


def test_a_closed_mouth_is_left_alone():
    # The mouth's correction acts only on an open mouth: a closed one has no opening to meet.
    from realtime.blend.mouth import mouth_membrane

    image = frame_of("d9.mp4", 0)
    face = still_faces("d9.mp4", 0, FaceSettings(max_faces=1))[0]
    x0, y0, x1, y1 = face.box
    target = image[y0:y1, x0:x1]
    darker = cv2.subtract(target, np.full_like(target, 30))
    assert np.array_equal(mouth_membrane(darker, target, face.landmarks, face.box, face.size), darker)
