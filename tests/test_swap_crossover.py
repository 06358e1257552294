"""The camera's fine band on a soft source face (blend/detail.py, crossover_fill), measured on
real frames the way the realism benchmark reads them (benchmarks/realism.py).

s9 (a painting: nothing finer than its brush strokes) on d6: the Gaussian split between the
source's features and the camera's grain kept each side's band attenuated around the split, and
the face came out at 0.72 of the camera's sharpness on the written file. Each number in a comment
is main's before this work, in-process (the written file reads ~0.05 lower: the encoder).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from benchmarks import realism
from realtime.blend import detail
from realtime.blend.detail import CROSSOVER, camera_detail, crossover_fill
from tests.conftest import through_the_recorder


@pytest.mark.parametrize("index", [10, 29])
def test_a_painted_face_is_as_sharp_as_the_camera_draws_it(swap_one, monkeypatch, index):
    def sharpness() -> float:
        image, face, output = swap_one("d6.mp4", index, "s9.jpg")
        return realism.sharpness_match(output.astype(np.float32), image.astype(np.float32), face.landmarks)

    with_band = sharpness()
    monkeypatch.setattr(detail, "crossover_fill", lambda *args: 0.0)
    without_band = sharpness()
    # Alone on main: 0.754 (frame 10), 0.766 (frame 29) before, 0.862, 0.848 with the band. Since
    # the target's own brow hairs are kept out of the camera detail (faces/brows.py: d6's thin
    # brow was a ghost above s9's) and the source's light is taken out (texture.py), the same
    # pair read 0.691, 0.674 without the band and 0.800, 0.756 with it: the band still brings
    # a tenth of the camera's sharpness back; the rest of the gap is d6's brow hair the new
    # face should not wear. With the brow zone's band limited up to the crossover as well (else
    # the band brought the ghost brow back: test_swap_brows), 0.672, 0.649 -> 0.765, 0.716.
    # Session 17: the brow band limited 1.5x wider and a ring around it (s17-edges: the target
    # brow's light outline, test_swap_inner_edges) and the skin tone map (s17-tone) together:
    # frame 29 0.716 -> 0.696 (each branch alone >= 0.70); the gain from the band is unchanged.
    # Session 19 (s19-brows): d6's own brows are erased under the new face where it has none and
    # its eyeliner wings kept out of the camera detail (faces/brows.py: the blind judge's "doubled
    # brows", "pasted eyeliner"). Their crisp edges were part of what this ratio counted as the
    # face's sharpness and most of what the band brought on frame 29: 0.740/0.681 (frame 10) and
    # 0.667/0.657 (frame 29) with/without the band, against main's 0.784/0.695 and 0.734/0.672
    # with d6's brow and wing. The band still never makes the face softer and brings frame 10's
    # twentieth back. Session 20 (s20-sharp): the lid zone covers the target's lashes too (d10's
    # came back as a second lash line: test_swap_edges) and the new face's own lid and brow edges
    # are raised to the camera's energy there (detail.edge_gain). d6's mascara lashes were most of
    # the camera's band that this face "lacked": the band's share is now 0.15 (frame 10) and 0
    # (frame 29), the face reads 0.706/0.700 and 0.713/0.713 with/without it (main 0.72, 0.66).
    # With face_shape 0.75 on by default (s20-identity) the new face's brows sit at the source's
    # proportions and d6's are limited where the camera has them (FaceLayer.grain_points).
    # What stays: the band never makes the face softer.
    assert with_band >= without_band - 0.002, (with_band, without_band)
    assert with_band >= 0.62, with_band


def test_a_face_as_sharp_as_the_camera_gets_no_crossover_band():
    # The band is added only as far as the face lacks it: a face with twice the camera's
    # energy there keeps its own, so a sharp photo on a soft camera is not sharpened further.
    rng = np.random.default_rng(3)
    grain = rng.normal(128, 6, (200, 200, 3)).clip(0, 255).astype(np.uint8)
    sharp = rng.normal(128, 12, (200, 200, 3)).clip(0, 255).astype(np.uint8)
    weight = np.ones((200, 200), np.float32)
    assert crossover_fill(sharp, grain, weight, 1.5) == 0.0
    assert crossover_fill(np.full_like(grain, 128), grain, weight, 1.5) == 1.0
    assert CROSSOVER > 1.0
    # Without a weight (no face mask) the split is the plain one: the target onto itself unchanged.
    assert np.array_equal(camera_detail(grain, grain, scale=3.0), grain)


def test_smooth_skin_under_crisp_features_keeps_the_cameras_grain_in_the_written_file(tmp_path):
    # A face drawn with crisp features (a brow and a lid line) and smooth skin below them (a
    # cleaned photo's cheek, a painting) on a grainy camera file, both written back by facecam's
    # recorder. Over the whole face the lines carried the band under the split (1.5-1.7x the
    # camera's on s42 and s9 over d3 and d6), so crossover_fill added none of it and the skin got
    # the camera's grain below the split only, which H.264 takes out of a picture it was laid on
    # (it keeps a camera's grain in the camera's own pixels, at 2-4 px and coarser): the cheek
    # read 0.21 of the passthrough's finest-band energy in the written file. Decided on the
    # skin's texture (the bands limited to a few times the camera's level) the fill is 1 here: 0.44.
    rng = np.random.default_rng(5)
    size = 224
    base = cv2.GaussianBlur(rng.normal(128, 20, (size, size)).astype(np.float32), (0, 0), 12)
    camera = []
    for _ in range(12):  # the camera's grain changes every frame
        grain = cv2.GaussianBlur(rng.normal(0, 8, (size, size)).astype(np.float32), (0, 0), 1.2)
        camera.append(cv2.cvtColor(np.clip(base + grain, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR))
    camera = through_the_recorder(camera, tmp_path / "camera.mp4", crf=23)  # the camera's own file
    face = np.full((size, size), 150, np.uint8)
    for row in (30, 60):
        cv2.line(face, (20, row), (size - 20, row + 6), 40, 4)
    face = cv2.cvtColor(cv2.GaussianBlur(face, (0, 0), 0.8), cv2.COLOR_GRAY2BGR)
    weight = np.ones((size, size), np.float32)
    output = through_the_recorder([camera_detail(face, picture, scale=1.3, weight=weight) for picture in camera],
                                  tmp_path / "output.mp4")
    passthrough = through_the_recorder(camera, tmp_path / "passthrough.mp4")
    # The cheek, 14 px and more from the lines and the picture's edge, as the realism benchmark
    # reads sharpness (benchmarks/realism.py, high_frequency: the finest band's energy).
    cheek = cv2.erode((face[:, :, 0] > 140).astype(np.uint8), np.ones((29, 29), np.uint8)).astype(bool)
    cheek[:16], cheek[-16:], cheek[:, :16], cheek[:, -16:] = False, False, False, False
    ratios = [realism.high_frequency(out)[cheek].mean() / realism.high_frequency(cam)[cheek].mean()
              for out, cam in zip(output, passthrough, strict=True)]
    assert float(np.median(ratios)) >= 0.4, ratios  # 0.21 before
