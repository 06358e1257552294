"""The clean texture has no hard-edged zone of its own (issue 13, realtime/swap/texture.py).

A blind judge picked every swap by the source photo's own patches: fills of another tone than
the skin they meet (s42's temples, s9's far cheek), s42's hair strand from the forehead into the
eye worn as a dark streak, s12's hand-tinted cheek beside a grey one. Real photos from
../shared/media, MediaPipe landmarks; the regions are measured here from the mesh, independently
of the module's own masks.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from realtime.faces.topology import topology
from realtime.swap.mesh import MIRROR
from realtime.swap.texture import make_clean_texture
from tests.conftest import media

# Between the subject's right brow tail, the eye's outer corner and the temple (image left).
_RIGHT_TEMPLE = (33, 130, 226, 247, 113, 225, 46, 70, 156, 139, 34, 143, 111, 35, 124, 127, 162, 71)
_RIGHT_CHEEK = (50, 101, 118, 119, 205, 187)


def _hull(shape, points: np.ndarray, grow: float = 0.0) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(points[:, :2]).astype(np.int32)), 1)
    if grow:
        size = int(2 * grow) | 1
        mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    return mask


def fill_step(texture) -> float:
    """p90 over the fill's outline (inside the face, away from its rim and the features) of the
    step in local lightness between the filled side and the kept side (grey levels): each side's
    mean lightness within ~1% of the face of the outline pixel."""
    top = topology()
    grey = cv2.cvtColor(texture.image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    landmarks, size = texture.landmarks, texture.face_size
    oval = np.zeros(grey.shape, np.uint8)
    cv2.fillPoly(oval, [np.round(landmarks[top.face_oval, :2]).astype(np.int32)], 1)
    rim = max(3, int(0.03 * size) | 1)
    inner = cv2.erode(oval, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (rim, rim)))
    for region in (top.right_eye, top.left_eye, top.right_eyebrow, top.left_eyebrow, top.outer_lips):
        inner &= 1 - _hull(grey.shape, landmarks[region], 0.02 * size)
    filled = (texture.occluders > 0).astype(np.uint8)
    outline = (cv2.dilate(filled, np.ones((3, 3), np.uint8)) - filled) & inner
    assert outline.any()
    sigma = 0.012 * size

    def level(side: np.ndarray) -> np.ndarray:
        weight = side.astype(np.float32)
        return cv2.GaussianBlur(grey * weight, (0, 0), sigma) / \
            np.maximum(cv2.GaussianBlur(weight, (0, 0), sigma), 1e-3)

    step = np.abs(level(filled) - level((1 - filled) & inner))[outline > 0]
    return float(np.percentile(step, 90))


# Main: s42 25.6 levels (its temple fills a grey-brown patch, matched to the hair left just
# outside them), s9 12.9 (its far cheek's fill darker than the cheek), s10 12.7 (the far
# cheek's fill a flat patch with an outline); here about 15, 8.5, 7.
@pytest.mark.parametrize(("name", "limit"), [("s42.jpg", 18.0), ("s9.jpg", 10.0), ("s10.jpg", 10.0)])
def test_fills_meet_the_skin_around_them_without_a_step(library, name, limit):
    source = library.get(str(media(name)))
    texture = make_clean_texture(source.image, source.face.landmarks, find_hands=False)
    assert fill_step(texture) < limit


def test_the_hair_over_s42s_temple_and_eye_corner_is_taken_out(library):
    s42 = library.get(str(media("s42.jpg")))
    texture = make_clean_texture(s42.image, s42.face.landmarks, find_hands=False)
    top = topology()
    landmarks, size = texture.landmarks, texture.face_size
    shape = texture.image.shape[:2]
    zone = _hull(shape, landmarks[list(_RIGHT_TEMPLE)]) \
        & (1 - _hull(shape, landmarks[top.right_eye], 0.015 * size)) \
        & (1 - _hull(shape, landmarks[top.right_eyebrow], 0.01 * size))
    cheek = _hull(shape, landmarks[list(_RIGHT_CHEEK)]) > 0
    original = cv2.cvtColor(texture.original, cv2.COLOR_BGR2GRAY).astype(np.float32)
    hair = (zone > 0) & (original < 0.75 * np.median(original[cheek]))
    assert hair.sum() > 200   # the photo has hair there
    # Main: half of it found (0.50), the strand into the eye's corner left as a dark streak;
    # here 0.92.
    assert texture.occluders[hair].mean() >= 0.85
    clean = cv2.cvtColor(texture.image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    # Its darkest 5% at 0.54 of the cheek on main (the streak), 0.70 here.
    assert np.percentile(clean[zone > 0], 5) / np.median(clean[cheek]) >= 0.65


def test_s12s_tinted_cheek_is_evened_with_the_other(library):
    """The hand-coloured s12: one cheek tinted pinker, the other lightened grey by the
    de-lighting, with a straight boundary beside the nose; evened against the mirror partner."""
    s12 = library.get(str(media("s12.jpg")))
    texture = make_clean_texture(s12.image, s12.face.landmarks, find_hands=False)
    lab = cv2.cvtColor(cv2.GaussianBlur(texture.image, (0, 0), 0.01 * texture.face_size),
                       cv2.COLOR_BGR2LAB).astype(np.float32)
    points = np.array([50, 205, 36, 101, 118, 47, 114, 123, 187])
    xy = np.round(texture.landmarks[:, :2]).astype(int)

    def at(indices: np.ndarray) -> np.ndarray:
        return lab[xy[indices, 1], xy[indices, 0]]

    difference = np.abs(at(points) - at(MIRROR[points]))
    # Main: redness and yellowness 3 levels apart across the midline (median); here 1 and 0.
    assert np.median(difference[:, 1:]) < 2


def test_a_hand_over_half_the_mouth_leaves_whole_lips_and_no_blot(library):
    """benchmarks/assets/source_hand_cheek.jpg: s42 with a real hand on her cheek, the thumb over
    the right half of her lips. Main filled that half of the lips with skin (a beige half-mouth
    with a straight edge down the middle, worn on every frame: 'nearer the worn hand' on d6 and
    d10) and left a grey blot on the cheek where the other cheek's blush made the mirror
    unusable."""
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "assets" / "source_hand_cheek.jpg"
    if not path.exists():
        pytest.skip(f"needs {path}")
    photo = library.get(str(path))
    texture = make_clean_texture(photo.image, photo.face.landmarks)
    top = topology()
    landmarks = texture.landmarks
    shape = texture.image.shape[:2]
    lab = cv2.cvtColor(texture.image, cv2.COLOR_BGR2LAB).astype(np.float32)
    lips = np.zeros(shape, np.uint8)
    cv2.fillPoly(lips, [np.round(landmarks[top.outer_lips, :2]).astype(np.int32)], 1)
    lips = cv2.erode(lips, np.ones((3, 3), np.uint8)) > 0
    covered = lips & (texture.occluders > 0)
    bare = lips & (texture.occluders == 0)
    assert covered.sum() > 300 and bare.sum() > 300   # the thumb does cover part of the lips
    cheeks = np.zeros(shape, np.uint8)
    for side in (_RIGHT_CHEEK, tuple(MIRROR[list(_RIGHT_CHEEK)])):
        cheeks |= _hull(shape, landmarks[list(side)])
    skin = (cheeks > 0) & (texture.occluders == 0)
    redness = {name: float(np.median(lab[..., 1][region]))
               for name, region in (("covered", covered), ("bare", bare), ("skin", skin))}
    # The covered lips as red as the bare ones, not skin: main 0.05 of the way from the skin's
    # redness to the bare lips', here about 0.8.
    assert (redness["covered"] - redness["skin"]) >= 0.6 * (redness["bare"] - redness["skin"])
    # No dark blot in the filled cheek (the hand's side, MediaPipe's cheek points): its darkest
    # 1% at 0.79 of the other cheek's median lightness on main (a grey patch), 0.87 here.
    far_cheek = (_hull(shape, landmarks[list(MIRROR[list(_RIGHT_CHEEK)])]) > 0) & (texture.occluders > 0)
    assert far_cheek.sum() > 500
    lightness = lab[..., 0]
    assert np.percentile(lightness[far_cheek], 1) >= 0.84 * np.median(lightness[skin])
