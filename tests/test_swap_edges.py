"""Issue 13: the new face's lid lines, lashes and brow hairs as crisp as the camera draws them.

On the crisp d6 (a 250 px face with eyeliner and thin dark brows) the target's brows and lash
lines are limited to grain (realtime/faces/brows.py: no ghost brow) and the new face's own band
there used to be exchanged for that grain: the whole sharpness deficit of the soft pairs lay in
this zone, and a viewer saw soft, smeared eyes against the camera's grain. Real frames of
../shared/media, real source photos, MediaPipe, the real swapper and blend stage; the numbers in
comments are main's before this work (benchmarks/realism.py's sharpness_match, in process).
"""

from __future__ import annotations

import numpy as np

from benchmarks import realism


def test_the_eyes_and_brows_are_as_crisp_as_the_crisp_cameras(swap_one):
    for source in ("s42.jpg", "s12.jpg"):
        image, face, output = swap_one("d6.mp4", 15, source)
        ratio = realism.sharpness_match(output.astype(np.float32), image.astype(np.float32), face.landmarks)
        # s42 0.77, s12 0.78 before. Up to 1.3, not 1.25: since the eye holes' soft edge lies outside
        # the contour (blend/mask.EYE_EDGE_OUT, s23-eyes) d6's own crisp lash line and liner show
        # whole at the opening's rim (s42 1.02 -> 1.254, s12 0.98 -> 1.09 on this one frame, in
        # process); they are the camera's own pixels, and the crops look crisper and more open.
        assert 0.8 <= ratio <= 1.3, (source, ratio)


def test_bushy_brows_are_not_sharpened_on_a_soft_camera(swap_one):
    # Einstein's brows already carry more fine detail than the soft d20 draws: nothing is added
    # (a fixed share of the face's own band kept there gave 1.4-1.6x the camera's sharpness).
    image, face, output = swap_one("d20.mp4", 15, "s12.jpg")
    ratio = realism.sharpness_match(output.astype(np.float32), image.astype(np.float32), face.landmarks)
    # 1.26 before; 1.29 with the light at the raw mesh normals, 1.32 since d20's strong light from
    # above (1.3x its even light) is put back at the smoothed normals (swap/mesh.py,
    # relight_weight): the brows' own hairs are no longer dimmed by the dark band the raw normals
    # drew along the brow ridge (the same face unlit reads 1.41); nothing is added to them.
    assert ratio <= 1.35, ratio


def test_the_edge_gain_raises_soft_edges_and_leaves_crisp_ones():
    from realtime.blend.detail import EDGE_GAIN_MAX, edge_gain
    from realtime.blend.kernels import gaussian_u8

    # Lines every 6 px, drawn crisply by the camera, softly by the new face.
    crisp = np.full((80, 80), 150, np.uint8)
    crisp[:, ::6] = 90
    soft = gaussian_u8(crisp, 1.6)
    where = np.ones((80, 80), np.float32)

    def gain(camera: np.ndarray, face: np.ndarray) -> float:
        fine = camera.astype(np.int16) - gaussian_u8(camera, 1.5).astype(np.int16)
        return edge_gain(camera, fine, face, where, 1.5)

    assert 1.0 < gain(crisp, soft) <= EDGE_GAIN_MAX
    # A face as crisp as the camera, or crisper, keeps none (the camera's grain there will do).
    assert gain(soft, crisp) == 0.0
    assert gain(soft, soft) < 0.5


def _lower_lash_band(points: np.ndarray, size: float, shape) -> np.ndarray:
    """Below each eye's lower contour, 1-4.5 % of the face size: where d10's long lower lashes lie."""
    import cv2

    from realtime.faces.topology import topology

    top = topology()
    mask = np.zeros(shape[:2], np.uint8)
    for eye in (top.right_eye, top.left_eye):
        contour = points[eye, :2]
        lower = contour[contour[:, 1] >= contour[:, 1].mean()]
        lower = lower[np.argsort(lower[:, 0])]
        band = np.concatenate([lower + (0, 0.01 * size), lower[::-1] + (0, 0.045 * size)])
        cv2.fillPoly(mask, [np.round(band).astype(np.int32)], 1)
    return mask > 0


def test_the_targets_lashes_do_not_come_back_under_the_new_eyes(swap_one):
    # d10's mascara lashes came back through the camera detail under s9's lower lids (brown
    # streaks, a doubled lash line) and as light streaks above s42's: the lid zone that limits
    # the target's band reached 3 % of the face above the upper lid only.
    import cv2

    def fine(picture: np.ndarray) -> np.ndarray:
        grey = cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY).astype(np.float32)
        return grey - cv2.GaussianBlur(grey, (0, 0), 1.5)

    image, face, output = swap_one("d10.mp4", 0, "s9.jpg")
    band = _lower_lash_band(face.landmarks, face.size, image.shape)
    same = np.corrcoef(fine(image)[band], fine(output)[band])[0, 1]
    assert same < 0.5, same  # 0.79 before: the target's lashes, copied
