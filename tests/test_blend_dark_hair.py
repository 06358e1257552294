"""A dark-haired source on a pale, brightly lit target keeps dark hair (issue 13).

s12 (young Einstein, a dark moustache) on d14 (a pale face lit far more brightly than the
photo): the colour transfer's lightness offset (realtime/blend/color.py, transfer_matrix's
Reinhard map) lifted the moustache by as much as the skin, L 40 -> 120 against skin 162 -> 205:
the blind judge's "grey stubble patch on the upper lip". The dark part of the transfer's
lightness is a gain now (dark_lightness_table): the moustache keeps about its ratio to the skin.
On a warm-lit target it takes the light's warmth as dark hair does, not the photo's grey.

Real frames of ../shared/media, MediaPipe, the real swapper and blend stage (tests/conftest.py's swap_one
fixture). Each number in a comment is main's before this work.
"""

from __future__ import annotations

import cv2
import numpy as np

# Mesh points on s12's moustache (the photo's darkest hair beside the philtrum and over the
# upper lip's middle) and on the skin (both cheeks, under both eyes).
_MOUSTACHE = (92, 186, 167)
_SKIN = (50, 280, 118, 347, 101, 330)


def _lightness(image: np.ndarray, landmarks: np.ndarray, points: tuple[int, ...]) -> np.ndarray:
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)
    values = []
    for point in points:
        x, y = np.round(landmarks[point, :2]).astype(int)
        values.append(lab[y - 2:y + 3, x - 2:x + 3].mean())
    return np.array(values)


def test_a_dark_moustache_stays_dark_hair_on_a_pale_brightly_lit_target(swap_one, library):
    from tests.conftest import media

    photo = library.get(str(media("s12.jpg")))
    moustache = _lightness(photo.image, photo.face.landmarks, _MOUSTACHE)
    skin = float(np.median(_lightness(photo.image, photo.face.landmarks, _SKIN)))
    # The points are on the photo's dark hair (L 31-38 against skin ~190).
    assert float(moustache.max()) < 0.3 * skin, (moustache, skin)
    _, face, output = swap_one("d14.mp4", 10, "s12.jpg", moved=True)
    worn = float(np.median(_lightness(output, face.landmarks, _MOUSTACHE)))
    worn_skin = float(np.median(_lightness(output, face.landmarks, _SKIN)))
    # Main: 0.59 of the skin (L 127 against 214: grey); now 0.45 (L 97: dark hair).
    assert worn < 0.5 * worn_skin, (worn, worn_skin)


def _warmth(image: np.ndarray, where: np.ndarray) -> float:
    """ln(R / B) of the mean linear-light red and blue over `where`: 0 for a neutral grey, as warm as
    the light and the surface are above it (a camera's cast multiplies R, G and B alike at any
    lightness, so dark hair in a warm light is as warm as the light; a grey on it reads blue)."""
    light = np.float32(image[where]) / 255.0
    light = np.where(light <= 0.04045, light / 12.92, ((light + 0.055) / 1.055) ** 2.4)
    return float(np.log(light[:, 2].mean() / light[:, 0].mean()))


def _inside(shape: tuple[int, ...], landmarks: np.ndarray, points: list[int]) -> np.ndarray:
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(landmarks[points, :2]).astype(np.int32)], 1)
    return mask > 0


def test_a_grey_moustache_on_a_warm_lit_face_is_warm_dark_hair_not_blue(swap_one):
    # s12 (a black-and-white-ish photo: the moustache near grey) on d3 (a warm, orange-lit room):
    # the colour transfer gave dark pixels the target's cast by the square of their lightness, so
    # the moustache kept the photo's grey: ln(R/B) 1.26 against 2.03 for d3's own brows (0.62),
    # bluish beside the orange skin (the blind judges' "pasted-looking, grey-blue moustache");
    # never less than in proportion to the lightness now: 1.49 (0.73).
    target, face, output = swap_one("d3.mp4", 15, "s12.jpg", moved=True)
    points = face.landmarks
    lightness = [cv2.cvtColor(picture, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32) for picture in (target, output)]
    cheeks = np.zeros(target.shape[:2], np.uint8)
    for point in _SKIN:
        cv2.circle(cheeks, tuple(int(v) for v in np.round(points[point, :2])), max(2, int(0.04 * face.size)), 1, -1)
    skin = float(np.median(lightness[1][cheeks > 0]))
    # The new face's hair below the nose (darker than the camera's picture there: not the mouth's opening).
    lower_face = _inside(target.shape, points, [205, 36, 5, 266, 425, 411, 416, 367, 394, 152, 169, 138, 192, 187])
    moustache = lower_face & (lightness[1] < 0.6 * skin) & (lightness[1] < lightness[0] - 20)
    # Dark hair in this light: d3's own brows.
    brows = (_inside(target.shape, points, [70, 63, 105, 66, 107, 55, 65, 52, 53, 46])
             | _inside(target.shape, points, [300, 293, 334, 296, 336, 285, 295, 282, 283, 276]))
    brows &= lightness[0] < 0.8 * float(np.median(lightness[0][cheeks > 0]))
    assert moustache.sum() > 500 and brows.sum() > 200, (moustache.sum(), brows.sum())
    worn, hair = _warmth(output, moustache), _warmth(target, brows)
    assert worn > 0.68 * hair, (worn, hair)


def test_the_dark_lightness_map_is_a_gain_through_black_meeting_the_affine_one():
    from realtime.blend.color import DARK_FROM, dark_lightness_table

    # A brighter target (gain 0.7, offset +92 as s12 -> d14), none. (A darker one lifts the shades
    # over the affine map: tests/test_blend_shade_ratio.py; it meets it at the skin's lightness.)
    for gain, offset in ((0.7, 92.4), (1.0, 0.0)):
        matrix = np.array([[gain, 0, 0, offset], [0, 1, 0, 0], [0, 0, 1, 0]], np.float32)
        table = dark_lightness_table(matrix, 160.0).astype(np.float32)
        ramp = np.arange(256, dtype=np.float32)
        affine = np.clip(gain * ramp + offset, 0, 255)
        anchor = int(np.ceil(DARK_FROM * 160.0))
        assert table[0] == 0.0
        assert np.all(np.diff(table) >= 0)
        np.testing.assert_allclose(table[anchor:], np.rint(affine[anchor:]), atol=0.5)
        # Continuous where the two meet: within the rounding and one step of the steeper map.
        steeper = max(gain, (gain * DARK_FROM * 160.0 + offset) / (DARK_FROM * 160.0))
        assert abs(float(table[anchor - 1]) - float(affine[anchor - 1])) <= 0.5 + steeper
    darker = np.array([[1.3, 0, 0, -60.0], [0, 1, 0, 0], [0, 0, 1, 0]], np.float32)
    table = dark_lightness_table(darker, 160.0).astype(np.float32)
    assert np.all(np.diff(table) >= 0)
    np.testing.assert_allclose(table[160:], np.clip(1.3 * np.arange(160, 256) - 60.0, 0, 255), atol=0.5)
    # The identity map stays the identity.
    identity = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], np.float32)
    np.testing.assert_array_equal(dark_lightness_table(identity, 160.0), np.arange(256))


def _darkest_of_left_brow(image: np.ndarray, landmarks: np.ndarray, size: float) -> float:
    """The darkest 1% of the lightness over the face's left brow (image right; its hull grown by
    0.03 of the face) over the median of the skin in a ring around it."""
    from realtime.faces.topology import topology

    lightness = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)
    brow = np.zeros(lightness.shape, np.uint8)
    hull = cv2.convexHull(np.round(landmarks[topology().left_eyebrow, :2]).astype(np.int32))
    cv2.fillPoly(brow, [hull], 1)
    grow = int(0.03 * size) | 1
    brow = cv2.dilate(brow, np.ones((grow, grow), np.uint8))
    ring = cv2.dilate(brow, np.ones((3 * grow, 3 * grow), np.uint8)) - brow
    return float(np.percentile(lightness[brow > 0], 1) / np.median(lightness[ring > 0]))


def test_a_bright_photos_brow_is_not_pitch_black_on_a_much_darker_target(swap_one):
    # s42 (skin L 193) on d20 (skin L 102, hard side light): the transfer's lightness map is gain
    # 1.0, offset -91, at or under 0 at DARK_FROM of the skin, so every pixel under L 71 went to
    # black: the end of her left brow, where hair strands cross it, a pitch-black blob. It should be
    # about as dark against the new skin as d20's own brow is against d20's.
    under, face, output = swap_one("d20.mp4", 100, "s42.jpg", moved=True)
    camera = _darkest_of_left_brow(under, face.landmarks, face.size)
    worn = _darkest_of_left_brow(output, face.landmarks, face.size)
    # d20's own brow: 0.33 of its skin. b2d41fd: 0.08 (L 7 against 83); now 0.33 (L 27).
    assert camera > 0.25, camera
    assert worn > 0.7 * camera, (worn, camera)
