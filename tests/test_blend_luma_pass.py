"""The blend stage's luma chain made for less (issue 13's budget): each Gaussian once per layer, at
the resolution it needs (realtime/blend/stage.py detail_on_luma, blend/detail.py HalfLuma,
kernels.half_gaussian; benchmarks/results/s24-budget).

The feature band (realtime/faces/brows.py), the camera grain and its crossover fill, and the
detail boost each blurred and halved the same luma pictures: the face's Gaussian at the split
twice (edge_gain, camera_detail), the face's halved picture and its coarse Gaussian twice (the
boost's gain and the boost), the mask of where the face shows twice, the brow/lid zone enlarged
to the box only to be halved again, and two wide bands (>= 2.5 px) blurred at full size. The
picture stays what it was, within a grey level or two where a wide band is now made at half
resolution.

Real photo and frame (s42 on d13's frame 10 from ../shared/media: a 609-px face with glasses,
rendered at its working size), MediaPipe, the real swapper and blend stage.
"""

from __future__ import annotations

import copy

import cv2
import numpy as np
import pytest

import realtime.blend.stage as stage
from realtime.blend import detail
from realtime.blend.kernels import gaussian_u8
from realtime.faces import brows
from realtime.frame import Frame
from realtime.settings import FaceSettings, Settings
from realtime.swap.mesh import MeshSwapper
from tests.conftest import media
from tests.test_swap_sharp import frame_of


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


def test_the_luma_chain_blurs_less_of_the_face(chain_inputs, monkeypatch):
    """Pixels passed through a Gaussian in the chain, in face boxes, and the Gaussians over the
    whole box: each picture's blur made once, the wide ones at half resolution (start: 7.96
    boxes, 4 of them whole; now 6.37, 3: the face's fine blur for the boost, the face's and the
    camera's at the split)."""
    image, camera, layer, strength, grain_from = chain_inputs
    filtered = []
    for name in ("sepFilter2D", "GaussianBlur"):
        real = getattr(cv2, name)

        def counted(picture, *args, _real=real, **kwargs):
            filtered.append(picture.shape[0] * picture.shape[1] / (image.shape[0] * image.shape[1]))
            return _real(picture, *args, **kwargs)

        monkeypatch.setattr(cv2, name, counted)
    stage.detail_on_luma(image, camera, layer, strength, grain_from)
    assert sum(filtered) < 7.0, sum(filtered)
    assert sum(share > 0.95 for share in filtered) == 3, filtered


def test_the_wide_bands_at_half_resolution_leave_the_face_within_a_few_levels(chain_inputs, monkeypatch):
    """The wide bands (the crossover fill's lower end, the feature band's base: Gaussians of
    2.55 and 3.8 px here) made at half resolution and enlarged leave the face within a few grey
    levels of their full-size blurs: at the 99.9th percentile within 1 level, none over 4."""
    image, camera, layer, strength, grain_from = chain_inputs
    fast = stage.detail_on_luma(image, camera, copy.deepcopy(layer), strength, grain_from)
    for module in (detail, brows):
        monkeypatch.setattr(module, "half_gaussian", lambda picture, sigma, half=None: gaussian_u8(picture, sigma))
    exact = stage.detail_on_luma(image, camera, copy.deepcopy(layer), strength, grain_from)
    face = layer.alpha > 0.5
    difference = np.abs(fast.astype(np.int16) - exact.astype(np.int16)).max(axis=2)[face]
    assert np.count_nonzero(difference) > 0  # the half-resolution path was taken
    assert float(np.percentile(difference, 99.9)) <= 1.0 and int(difference.max()) <= 4, \
        (float(np.percentile(difference, 99.9)), int(difference.max()))


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
