"""The blend stage's luma chain made for less, the same pixels (issue 13's budget;
benchmarks/results/s24-budget): the face's Gaussian at the detail split is made once for the
feature band's edge gain and the camera grain (realtime/blend/stage.py detail_on_luma), the brow/lid
zone is blurred over its drawn rows only (realtime/faces/brows.py _soft_drawn), and the luma's
change reaches B, G and R as two 8-bit parts instead of a merged int16 picture.

Cheaper steps that changed the picture (wide bands at half resolution, shared float Gaussians
with another kernel, the zone read at its drawn resolution) moved the written file's face more
than two runs of the same code differ (the encoder re-decides wherever a pixel changes; the
results README): left out. What stays must be bit for bit.

Real photo and frame (s42 on d13's frame 10 from ../shared/media: a 609-px face with glasses,
rendered at its working size), MediaPipe, the real swapper and blend stage.
"""

from __future__ import annotations

import copy

import cv2
import numpy as np
import pytest

import realtime.blend.stage as stage
from realtime.faces import brows
from realtime.frame import Frame
from realtime.settings import FaceSettings, Settings
from realtime.swap.mesh import MeshSwapper
from tests.conftest import frame_of, media


@pytest.fixture(scope="module")
def chain_inputs(library):
    """detail_on_luma's arguments for s42 on d13's frame 10, as the blend stage hands them on."""
    from realtime.faces import create_detector

    image = frame_of("d13.mp4", 10)
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    try:
        face = detector.detect(image)[0]
    finally:
        detector.close()
    settings = Settings()
    swapper = MeshSwapper(settings)
    calls = []
    real = stage.detail_on_luma

    def recorded(image, camera, layer, strength, grain_from=None, smooth=None):
        calls.append((image.copy(), camera.copy(), copy.deepcopy(layer), strength,
                      None if grain_from is None else grain_from.copy()))
        return real(image, camera, layer, strength, grain_from, smooth)

    stage.detail_on_luma = recorded
    try:
        swapper.set_source(library.get(str(media("s42.jpg"))))
        frame = Frame(index=0, image=image, capture_ns=0, pts=0.0, faces=[face])
        frame.layers = swapper.swap(frame, [face])
        stage.BlendStage(settings).process(frame)
    finally:
        stage.detail_on_luma = real
        swapper.close()
    assert len(calls) == 1
    return calls[0]


def test_the_face_is_blurred_at_the_split_once_and_the_zone_over_its_brows_and_lids_only(chain_inputs, monkeypatch):
    """The Gaussians of the split (sigma 1.5 px here: 11 taps) over 8-bit pictures: the face's,
    the camera's, the feature band's part; the face's once (start: twice more, edge_gain's crop
    and its blur again: 6), and the zone's soft edge blurred over its drawn rows (a third of the
    half-size box; start: all of it). One more since s27-sharp: the finished face's own, once, for
    the finest band's match to the camera's (detail.fine_match_gain and fine_band_scaled share it)."""
    image, camera, layer, strength, grain_from = chain_inputs
    split_taps, zone_share = [], []
    real_sep, real_gauss = cv2.sepFilter2D, cv2.GaussianBlur

    def sep(picture, depth, kx, ky, *args, **kwargs):
        if picture.dtype == np.uint8 and len(kx) == 11:
            split_taps.append(picture.shape)
        return real_sep(picture, depth, kx, ky, *args, **kwargs)

    def gauss(picture, *args, **kwargs):
        zone_share.append(picture.shape[0] * picture.shape[1] / (image.shape[0] * image.shape[1] / 4))
        return real_gauss(picture, *args, **kwargs)

    monkeypatch.setattr(cv2, "sepFilter2D", sep)
    monkeypatch.setattr(brows.cv2, "GaussianBlur", gauss)
    assert stage.split_sigma(layer.scale) == 1.5
    zone_share.clear()
    points = layer.face.landmarks if layer.grain_points is None else layer.grain_points
    brows.feature_zones(points, layer.box, layer.face.size, brows=False)
    assert len(zone_share) == 1 and zone_share[0] < 0.5, zone_share
    split_taps.clear()
    stage.detail_on_luma(image, camera, layer, strength, grain_from)
    assert len(split_taps) == 6, split_taps


def test_the_shared_blur_leaves_the_picture_bit_for_bit(chain_inputs, monkeypatch):
    """The chain with the face's Gaussian at the split shared gives the pixels each step's own
    blur gives (edge_gain's crop reaches twice its two blurs' reach past its zone)."""
    image, camera, layer, strength, grain_from = chain_inputs
    shared = stage.detail_on_luma(image, camera, copy.deepcopy(layer), strength, grain_from)
    monkeypatch.setattr(stage, "gaussian_u8", lambda picture, sigma: None)  # each step blurs on its own
    own = stage.detail_on_luma(image, camera, copy.deepcopy(layer), strength, grain_from)
    assert np.array_equal(shared, own)


def test_the_finest_band_match_over_the_faces_crop_is_the_whole_boxs(chain_inputs, monkeypatch):
    """detail.fine_match_gain reads the face only (alpha over 0.5, its holes closed): it works over
    the face's bounding box grown by its Gaussian's reach (issue 13's budget, benchmarks/results/
    s28-swapcost), and the chain's picture is the whole box's bit for bit: on d13 under s42, and
    on faces cut by the box's edges (where the crop's border is the box's)."""
    from realtime.blend import detail

    image, camera, layer, strength, grain_from = chain_inputs
    crops = []
    real_crop = detail._face_crop

    def recorded(inside, shape):
        crops.append((real_crop(inside, shape), shape))
        return crops[-1][0]

    monkeypatch.setattr(detail, "_face_crop", recorded)
    cropped = stage.detail_on_luma(image, camera, copy.deepcopy(layer), strength, grain_from)
    (y0, y1, x0, x1), (height, width) = crops[0]
    assert (y1 - y0) * (x1 - x0) < 0.9 * height * width  # a crop, not the box
    monkeypatch.setattr(detail, "_face_crop", lambda inside, shape: (0, shape[0], 0, shape[1]))
    whole = stage.detail_on_luma(image, camera, copy.deepcopy(layer), strength, grain_from)
    assert np.array_equal(cropped, whole)
    rng = np.random.default_rng(5)
    for _ in range(12):
        height, width = (int(v) for v in rng.integers(90, 160, size=2))
        face = rng.integers(60, 200, size=(height, width)).astype(np.uint8)
        seen = rng.integers(60, 200, size=(height, width)).astype(np.uint8)
        weight = np.zeros((height, width), np.float32)
        centre = (int(rng.integers(-20, width + 20)), int(rng.integers(-20, height + 20)))
        cv2.ellipse(weight, centre, (int(rng.integers(25, 70)), int(rng.integers(25, 70))), 0, 0, 360, 1.0, -1)
        monkeypatch.setattr(detail, "_face_crop", real_crop)
        gain = detail.fine_match_gain(face, seen, weight)
        monkeypatch.setattr(detail, "_face_crop", lambda inside, shape: (0, shape[0], 0, shape[1]))
        assert detail.fine_match_gain(face, seen, weight) == gain


@pytest.mark.parametrize("sigma", [0.8, 3.6, 9.0])
def test_the_zone_blurred_over_its_drawn_rows_is_the_whole_pictures_blur(sigma):
    rng = np.random.default_rng(int(sigma * 10))
    for _ in range(20):
        mask = np.zeros((120, 160), np.uint8)
        # Drawn anywhere, also touching the picture's edges (where the grown crop is clipped).
        for _ in range(int(rng.integers(1, 3))):
            points = rng.uniform((-10, -10), (170, 130), size=(6, 2))
            cv2.fillConvexPoly(mask, cv2.convexHull(np.round(points * 16).astype(np.int32)), 255,
                               lineType=cv2.LINE_AA, shift=4)
        whole = cv2.GaussianBlur(mask.astype(np.float32) * (1.0 / 255.0), (0, 0), sigma)
        assert np.array_equal(brows._soft_drawn(mask, sigma), whole)
    assert not brows._soft_drawn(np.zeros((30, 40), np.uint8), sigma).any()


def test_the_change_added_as_its_lighter_and_darker_parts_is_the_int16_sum():
    """detail_on_luma's last step: the luma's change added to B, G and R as two saturating 8-bit
    parts gives the int16 sum's numbers, also where it clips at 0 and 255."""
    rng = np.random.default_rng(24)
    image = rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)
    image[:8] = 0
    image[8:16] = 255
    luma, detailed = (rng.integers(0, 256, (64, 80), dtype=np.uint8) for _ in range(2))
    change = cv2.subtract(detailed, luma, dtype=cv2.CV_16S)
    reference = cv2.add(image, cv2.merge([change] * 3), dtype=cv2.CV_8U)
    lighter, darker = cv2.subtract(detailed, luma), cv2.subtract(luma, detailed)
    out = cv2.add(image, cv2.cvtColor(lighter, cv2.COLOR_GRAY2BGR))
    out = cv2.subtract(out, cv2.cvtColor(darker, cv2.COLOR_GRAY2BGR), dst=out)
    assert np.array_equal(out, reference)
