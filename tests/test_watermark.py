"""The invisible mark: quality, round trip, payload, robustness, and unmarked pictures."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from realtime.provenance import watermark as wm
from tests.conftest import media, psnr


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
    assert psnr(marked, photo) >= 46.0


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


@pytest.mark.parametrize("size", [(1280, 720), (640, 480)])
def test_flat_grey_moves_no_pixel_by_more_than_one_level(size):
    """A plain wall must not show a texture: the previous mark moved a flat grey by up to 6."""
    grey = np.full((size[1], size[0], 3), 87, np.uint8)
    change = np.abs(wm.Watermarker(0x1234).embed(grey).astype(np.int16) - grey)
    assert change.max() <= 1
    assert 0.2 < np.mean(change > 0) < 0.9  # a flat area still carries its +-1 share


def test_flat_wall_with_sensor_noise_stays_within_one_level():
    rng = np.random.default_rng(4)
    wall = np.clip(180 + rng.normal(0, 1.5, (480, 640, 3)), 0, 255).astype(np.uint8)
    change = np.abs(wm.Watermarker(0x1234).embed(wall).astype(np.int16) - wall)
    assert change.max() <= 1


def test_texture_carries_more_than_flat_areas():
    picture = np.full((480, 640, 3), 120, np.uint8)
    rng = np.random.default_rng(2)
    picture[:, 320:] = rng.integers(60, 190, (480, 320, 1), dtype=np.uint8)  # textured right half
    change = np.abs(wm.Watermarker(0x1234).embed(picture).astype(np.int16) - picture)
    assert change[:, :300].max() <= 1  # flat left half, up to the textured border's erosion
    assert change[:, 340:].max() >= 3


def test_a_picture_that_turns_flat_is_not_marked_as_texture_on_the_next_frame():
    """The change is reused between frames band by band; a band whose picture lost its texture
    must be redone at once, never carry the stronger textured mark onto a flat picture."""
    marker = wm.Watermarker(0x1234)
    rng = np.random.default_rng(3)
    textured = np.full((720, 1280, 3), 87, np.uint8)
    textured[:, 640:] = rng.integers(40, 200, (720, 640, 1), dtype=np.uint8)
    assert np.abs(marker.embed(textured).astype(np.int16) - textured).max() >= 3
    grey = np.full((720, 1280, 3), 87, np.uint8)
    assert np.abs(marker.embed(grey).astype(np.int16) - grey).max() <= 1


def test_kept_out_boxes_are_left_exactly_as_they_are(photo):
    box = wm.face_keep_out((250, 150, 390, 330), 640, 480)
    marked = wm.Watermarker(0x0777).embed(photo, [box])
    x0, y0, x1, y1 = box
    assert np.array_equal(marked[y0:y1, x0:x1], photo[y0:y1, x0:x1])
    assert not np.array_equal(marked, photo)


def test_mark_does_not_move_mediapipe_landmarks_on_a_face():
    """Landmarks on the marked picture (faces kept out, as the engine marks its output) stay
    within 0.001 of the eye distance of those on the unmarked one; the previous mark moved them
    by several thousandths."""
    from realtime.faces.mediapipe_mesh import MediaPipeFaceMesh
    from realtime.settings import Settings

    photo = cv2.imread(str(media("s42.jpg")))
    detector = MediaPipeFaceMesh(Settings().faces, static=True)
    try:
        (face,) = detector.detect(photo)
        height, width = photo.shape[:2]
        marked = wm.Watermarker(0x0A5C).embed(photo, [wm.face_keep_out(face.box, width, height)])
        (moved,) = detector.detect(marked)
    finally:
        detector.close()
    assert psnr(marked, photo) >= 46.0
    eye = np.linalg.norm(face.points[33] - face.points[263])
    shift = float(np.mean(np.linalg.norm(moved.points - face.points, axis=1))) / eye
    assert shift <= 0.001, shift


def test_mark_is_found_after_h264_on_a_short_clip(tmp_path):
    """Detection sums a clip's frames: 30 frames of a moving scene, H.264 CRF 23, found with
    the payload (verify judges videos this way, two seconds at a time)."""
    from benchmarks.watermark import encode

    marker = wm.Watermarker(0x0BAD)
    frames = [marker.embed(webcam_scene(move=2 * i)) for i in range(30)]
    decoded = encode(frames, tmp_path / "clip.mp4", crf=23)
    detection = keyed_search(decoded)
    assert detection.found, detection.z
    assert detection.payload == (wm.VERSION, 0x0BAD)
    plain = encode([webcam_scene(move=2 * i) for i in range(30)], tmp_path / "plain.mp4", crf=23)
    assert not keyed_search(plain).found


def keyed_search(frames, first: int = 0) -> wm.Detection:
    sums = wm.KeyedSums(wm.working_map(frames[0]).shape)
    for index, frame in enumerate(frames, start=first):
        sums.add(wm.working_map(frame), index)
    return wm.search_keyed(sums)


def test_frames_carry_the_pattern_with_the_temporal_key(photo):
    """Frame n carries +pattern or -pattern as key_sign(n) says, KEY_HALF frames each; a still
    scene's frames then cancel in the keyed map while the mark adds up."""
    marker = wm.Watermarker(0x0BAD)
    changes = [marker.embed(photo).astype(np.int16) - photo for _ in range(2 * wm.KEY_PERIOD)]
    assert [wm.key_sign(n) for n in (0, wm.KEY_HALF - 1, wm.KEY_HALF, wm.KEY_PERIOD)] == [1, 1, -1, 1]
    for n, change in enumerate(changes):
        if not wm.key_switching(n):
            assert np.array_equal(change, wm.key_sign(n) * changes[0]), n
        else:  # the first frame after a switch: one level weaker (a flat area's one level is 0)
            weaker = np.maximum(np.abs(changes[0]) - 1, 0)
            assert np.array_equal(change, wm.key_sign(n) * np.sign(changes[0]) * weaker), n
    # The plain average of a still, marked scene over a whole period holds no mark at all: a
    # mark estimated that way (the averaging attack) is empty.
    assert np.abs(np.mean(changes[wm.KEY_PERIOD:2 * wm.KEY_PERIOD], axis=0)).max() == 0
    # A clip cut anywhere (its first frame is the session's 7th), with a camera's noise in every
    # frame: the detector finds the key's phase.
    marker = wm.Watermarker(0x0BAD)
    frames = [marker.embed(webcam_scene(seed=100 + n)) for n in range(7 + wm.KEY_PERIOD)]
    detection = keyed_search(frames[7:], first=0)
    assert detection.found and detection.payload == (wm.VERSION, 0x0BAD)
    # (on this mostly flat scene the first frame after a switch carries almost nothing, so the
    # phase one earlier fits as well)
    assert detection.phase in (6, 7)


@pytest.fixture(scope="module")
def real_footage():
    """Two seconds of a real webcam video (d9: a person before a plain wall), marked by the
    engine's finisher (faces kept out, label on), and the same frames unmarked."""
    from benchmarks.watermark import finish_clip, read_frames, track_faces

    frames, fps = read_frames(media("d9.mp4"), 60)
    clip = frames[:60]
    return clip, finish_clip(clip, track_faces(clip, static=False), session=0x1234), fps


REAL_CHANGES = {
    "H.264 CRF 30": lambda f, tmp, fps: encode_clip(f, tmp, 30, fps),
    "0.5x + CRF 23": lambda f, tmp, fps: encode_clip(
        [cv2.resize(x, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA) for x in f], tmp, 23, fps),
    "10% crop + CRF 23": lambda f, tmp, fps: encode_clip(crop_tenth(f), tmp, 23, fps),
}


def encode_clip(frames, tmp, crf, fps):
    from benchmarks.watermark import encode

    return encode(frames, tmp / "clip.mp4", crf=crf, fps=fps)


def crop_tenth(frames):
    from benchmarks.watermark import crop

    return crop(frames)


@pytest.mark.media
@pytest.mark.parametrize("change", list(REAL_CHANGES))
def test_two_seconds_of_real_footage_are_found_after_uploads_change_them(real_footage, change, tmp_path):
    """What an upload does to a recording (re-encoding at CRF 30, halving the size, a 10 % crop)
    leaves the mark findable in two seconds of real footage, judged as `facecam verify` judges a
    chunk; the same two seconds never marked, changed the same way, are not found. The mark
    without the temporal key (a plain average over the frames) scored 5.5 at CRF 30 and 4.9 at
    0.5x on these frames (marked without the label), under its nominal threshold 7.4, and 6.5
    (the full search; found from 9) after the crop; with the key 10.7, 13.1 and 14.4."""
    from realtime.provenance.verify import Verdict, verify_pictures

    clip, marked, fps = real_footage
    changed = REAL_CHANGES[change](marked, tmp_path, fps)
    verdict = verify_pictures(iter(changed), Verdict("clip", "video"), chunk=len(changed))
    assert verdict.found, (verdict.nominal_strength, verdict.strength)
    plain = REAL_CHANGES[change](clip, tmp_path, fps)
    unmarked = verify_pictures(iter(plain), Verdict("plain", "video"), chunk=len(plain))
    assert not unmarked.found, (unmarked.nominal_strength, unmarked.strength)
    assert unmarked.frames_marked == 0
