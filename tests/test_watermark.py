"""The invisible mark: quality, round trip, payload, robustness, and unmarked pictures."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from realtime.provenance import watermark as wm
from tests.conftest import psnr


def webcam_scene(width: int = 640, height: int = 480, seed: int = 3, move: int = 0) -> np.ndarray:
    """A webcam-like scene: smooth shading, soft shapes, sensor noise (a strongly textured
    picture hides a single frame's mark; videos are judged on seconds of frames). `move` shifts
    the foreground, as a head moves."""
    rng = np.random.default_rng(seed + move)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    scene = 90 + 0.12 * xs * 640 / width + 0.08 * ys * 480 / height
    cv2.circle(scene, (width // 2 + move, height // 2 - height // 20), height // 4, 190, -1)
    cv2.rectangle(scene, (width // 16, height * 5 // 8), (width * 5 // 16, height - 10), 60, -1)
    scene = cv2.GaussianBlur(scene, (0, 0), 6) + rng.normal(0, 2.0, scene.shape)
    gray = np.clip(scene, 0, 255).astype(np.uint8)
    return cv2.merge([gray, (gray * 0.9).astype(np.uint8), gray])


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return webcam_scene()


def test_payload_round_trip_and_crc():
    bits = wm.encode_payload(0xBEEF)
    assert wm.decode_payload(bits) == (wm.VERSION, 0xBEEF)
    bits[5] ^= 1
    assert wm.decode_payload(bits) is None


def test_embedding_is_invisible_and_leaves_the_input_alone(photo):
    original = photo.copy()
    marked = wm.Watermarker(0x1234).embed(photo)
    assert np.array_equal(photo, original)
    assert marked.shape == photo.shape and marked.dtype == np.uint8
    assert psnr(marked, photo) >= 40.0


def test_marked_picture_is_found_with_its_session(photo):
    detection = wm.detect(wm.Watermarker(0x0A5C).embed(photo))
    assert detection.found, detection.z
    assert detection.payload == (wm.VERSION, 0x0A5C)


def test_unmarked_picture_is_not_found(photo):
    assert not wm.detect(photo).found


@pytest.mark.parametrize("change", ["jpeg", "half", "crop", "brighter"])
def test_mark_survives_ordinary_changes(photo, change):
    marked = wm.Watermarker(0x0777).embed(photo)
    if change == "jpeg":
        ok, data = cv2.imencode(".jpg", marked, [cv2.IMWRITE_JPEG_QUALITY, 75])
        changed = cv2.imdecode(data, cv2.IMREAD_COLOR)
    elif change == "half":
        changed = cv2.resize(marked, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    elif change == "crop":
        changed = marked[40:-24, 30:-34]  # 10% off, unevenly
    else:
        changed = cv2.convertScaleAbs(marked, alpha=1.15, beta=12)
    assert wm.detect(changed).found
