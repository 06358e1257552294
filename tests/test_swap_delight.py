"""The source photo's own light does not travel into the swap (issue 13, item 3): a painting or
photo lit from one side gave the clean texture a light/dark split down the nose and shading
patches with straight edges (the de-lighting ratio clipped at 0.75/1.33 over half the face on
each side and switching across the nose's flank), and a lock of dark hair over one cheek read
as a strong side light that was then "taken out" of an evenly lit face.

Real photos from ../shared/media (s10: Vermeer, lit from the left; s12: a hand-coloured photo
lit from the right), Grace Hopper from matplotlib's sample data, MediaPipe for every face.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from realtime.faces.topology import topology
from realtime.swap import texture as texture_module
from realtime.swap.mesh import MIRROR
from realtime.swap.texture import _NOSTRILS, make_clean_texture
from tests.conftest import media

# Cheek points away from the nose and the rim (their mirror partners by MIRROR).
CHEEK = [50, 101, 118, 117, 36, 205, 187, 123, 147, 116]


def _grey(picture: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY).astype(np.float32), (0, 0), sigma) + 1.0


def _skin(texture) -> np.ndarray:
    """The skin of the texture away from the rim, the eyes, brows, lips, nostrils and fills."""
    top = topology()
    points = texture.landmarks[:, :2]
    size = texture.face_size
    shape = texture.image.shape[:2]
    oval = np.zeros(shape, np.uint8)
    cv2.fillPoly(oval, [np.round(points[top.face_oval]).astype(np.int32)], 1)
    oval = cv2.erode(oval, np.ones((int(0.06 * size) | 1,) * 2, np.uint8))
    features = np.zeros(shape, np.uint8)
    for region in (top.right_eye, top.left_eye, top.right_eyebrow, top.left_eyebrow, top.outer_lips,
                   list(_NOSTRILS)):
        cv2.fillConvexPoly(features, cv2.convexHull(np.round(points[region]).astype(np.int32)), 1)
    features = cv2.dilate(features | texture.occluders, np.ones((int(0.06 * size) | 1,) * 2, np.uint8))
    return (oval > 0) & (features == 0)


def change_steepness(texture) -> float:
    """p99 over the skin of the gradient of log(clean / original) lightness (both smoothed over
    1.5% of the face), per face size: how sharply the de-lighting changes across the face. A
    step where the ratio switches across the nose's flank reads as a patch with straight edges."""
    sigma = max(1.0, 0.015 * texture.face_size)
    change = np.log(_grey(texture.image, sigma) / _grey(texture.original, sigma))
    gradient = np.hypot(cv2.Sobel(change, cv2.CV_32F, 1, 0) / 8, cv2.Sobel(change, cv2.CV_32F, 0, 1) / 8)
    return float(np.percentile(gradient[_skin(texture)] * texture.face_size, 99))


def cheek_split(picture: np.ndarray, texture) -> float:
    """Mean log lightness ratio of the cheek points over their mirror partners (0: balanced)."""
    grey = _grey(picture, max(1.0, 0.01 * texture.face_size))
    a = np.round(texture.landmarks[CHEEK, :2]).astype(int)
    b = np.round(texture.landmarks[MIRROR[CHEEK], :2]).astype(int)
    return float(np.mean(np.log(grey[a[:, 1], a[:, 0]] / grey[b[:, 1], b[:, 0]])))


@pytest.mark.parametrize("name", ["s12.jpg", "s10.jpg"])
def test_a_side_lit_source_loses_its_side_light_without_a_step_beside_the_nose(library, monkeypatch, name):
    photo = library.get(str(media(name)))
    # The de-lighting alone: the cast-shadow lift that follows it (swap/shadows.py, its own
    # tests) changes the eye sockets and the nose's side on purpose, locally (s12 5.9, s10 4.2
    # on this measure with it; looked at, no step: the sockets and the nose's shadow lighter).
    monkeypatch.setattr(texture_module, "lift_shadows", lambda clean, *args: clean)
    # Nor the evening of the two sides against each other (balance_sides): its correction is as
    # steep as the photo's own shading line it cancels, on purpose (s12 5.7 with it; looked at,
    # the line beside the nose softer, no step: tests/test_texture_clean.py).
    monkeypatch.setattr(texture_module, "balance_sides", lambda flat, *args: flat)
    # Nor a mirrored source's nose planes softened (shadows.soften_nose_planes, its own test:
    # tests/test_swap_nose_plane_edges.py): it changes the nose's flanks on purpose, locally
    # (s10 6.8 on this measure with it; looked at, the flanks' painted edges softer, no step).
    monkeypatch.setattr(texture_module, "soften_nose_planes", lambda clean, *args: clean)
    texture = make_clean_texture(photo.image, photo.face.landmarks, find_hands=False)
    # No hard step: main's clipped, 3%-smoothed ratio: s12 4.1, s10 3.9 (branch 3.4, 2.1).
    assert change_steepness(texture) < 3.7
    # And the side light really is taken out: the cheeks' light/dark split at least halved
    # (s12: 0.53 -> 0.15; s10: 0.32 -> 0.01).
    before, after = cheek_split(texture.original, texture), cheek_split(texture.image, texture)
    assert abs(after) < 0.5 * abs(before)


def test_dark_hair_over_one_cheek_is_not_taken_for_a_side_light(library):
    # Hopper is lit from the front (side term 0.0-0.03): with a dark band (a lock of hair, a
    # hard cast shadow) painted down the outer side of one cheek, temple and nose, a
    # least-squares fit read a side light of 0.5 and "took it out", brightening that whole side
    # of her face by 40% (main: 1.40; here 1.21).
    hopper = library.get(None)
    from realtime.blend.relight import vertex_normals

    image = hopper.image.copy()
    landmarks = hopper.face.landmarks
    normals = vertex_normals(landmarks)
    outer = np.flatnonzero((normals[:, 0] < -0.6) & (np.abs(normals[:, 1]) < 0.6))
    hair = np.zeros(image.shape[:2], np.uint8)
    for x, y in np.round(landmarks[outer, :2]).astype(int):
        cv2.circle(hair, (int(x), int(y)), 6, 1, -1)
    image[hair > 0] = (35, 40, 48)
    texture = make_clean_texture(image, landmarks, find_hands=False)

    def balance(picture):
        grey = _grey(picture, 3.0)
        sides = []
        for cheek in ((101, 118, 100, 47), (330, 347, 329, 277)):
            xy = np.round(texture.landmarks[list(cheek), :2]).astype(int)
            sides.append(grey[xy[:, 1], xy[:, 0]].mean())
        return sides[0] / sides[1]

    assert balance(texture.image) / balance(texture.original) < 1.3


def test_the_shading_ratio_has_no_plateau_and_no_corner():
    # A hard clip left the ratio flat over half a side-lit face and bent where the clip began;
    # the soft limit keeps it strictly monotonic and smooth over the whole range of normals.
    from realtime.swap.texture import photo_shading

    x = np.linspace(-1, 1, 201, dtype=np.float32)
    normals = np.stack([x, np.zeros_like(x), -np.sqrt(1 - x ** 2)], axis=-1)[None]
    ratio = photo_shading(normals, 0.6, 0.0)[0]
    steps = np.diff(ratio)
    assert (steps > 0).all()
    assert np.abs(np.diff(steps)).max() < 0.2 * np.abs(steps).max()
    # A frontally lit photo (no side or top light) is left as it is.
    assert np.allclose(photo_shading(normals, 0.0, 0.0), 1.0)
