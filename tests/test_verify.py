"""`facecam verify FILE`: found / not found / unreadable, for pictures and videos."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from realtime.cli import main
from realtime.frame import Frame
from realtime.output import OutputFormat
from realtime.output.recorder import VideoRecorder
from realtime.provenance import watermark as wm
from tests.conftest import media, run_cli
from tests.test_watermark import webcam_scene


def _video(path, images):
    recorder = VideoRecorder(path, OutputFormat((images[0].shape[1], images[0].shape[0]), 30.0, False),
                             crf=23)
    for index, image in enumerate(images):
        recorder.write(Frame(index, image, 0))
    recorder.close()
    return path


def test_marked_picture_is_found_with_payload(tmp_path, capsys):
    path = tmp_path / "marked.png"
    cv2.imwrite(str(path), wm.Watermarker(0xF00D).embed(webcam_scene()))
    assert main(["verify", "--json", str(path)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["found"] and report["session"] == "f00d" and report["version"] == wm.VERSION
    assert report["confidence"] > 0.99


def test_never_marked_picture_is_not_found(tmp_path, capsys):
    path = tmp_path / "plain.jpg"
    cv2.imwrite(str(path), webcam_scene(seed=11))
    assert main(["verify", "--json", str(path)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert not report["found"] and report["session"] is None and report["c2pa"] is None


def test_marked_video_counts_the_frames_that_carry_it(tmp_path):
    marker = wm.Watermarker(0x0BAD)
    images = [webcam_scene(move=2 * i) for i in range(45)]
    # The last 15 frames are not marked, and show another scene: H.264 would otherwise carry a
    # +-1-level mark over into them (skipped blocks copy the marked frame before).
    images[30:] = [cv2.flip(webcam_scene(move=2 * i), -1) for i in range(30, 45)]
    marked = [marker.embed(image) for image in images[:30]] + images[30:]
    path = _video(tmp_path / "half.mp4", marked)
    result = run_cli("verify", "--json", str(path))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["found"] and report["session"] == "0bad"
    assert report["frames"] == 45
    assert 28 <= report["frames_marked"] <= 32


def test_never_marked_video_is_not_found(tmp_path):
    path = _video(tmp_path / "plain.mp4", [webcam_scene(seed=5, move=2 * i) for i in range(40)])
    result = run_cli("verify", str(path))
    assert result.returncode == 1, result.stderr
    assert "no facecam mark found" in result.stdout


@pytest.mark.media
def test_a_real_clip_that_was_never_marked_is_not_found(capsys):
    assert main(["verify", "--json", "--max-frames", "60", str(media("d9.mp4"))]) == 1
    assert json.loads(capsys.readouterr().out)["frames_marked"] == 0


@pytest.mark.parametrize("kind", ["missing", "text", "folder", "empty"])
def test_unreadable_input_exits_2_with_one_line(tmp_path, capsys, kind):
    path = tmp_path / "thing.mp4"
    if kind == "text":
        path.write_text("not a video\n")
    elif kind == "folder":
        path.mkdir()
    elif kind == "empty":
        path = tmp_path / "empty.png"
        path.write_bytes(b"")
    assert main(["verify", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("facecam: error:") and err.count("\n") == 1


def test_mark_found_after_reencoding_scaling_and_cropping(tmp_path):
    marker = wm.Watermarker(0x1234)
    images = [marker.embed(webcam_scene(move=2 * i)) for i in range(30)]
    changed = [cv2.resize(image[30:-18, 40:-24], None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
               for image in images]
    path = _video(tmp_path / "changed.mp4", [np.ascontiguousarray(c) for c in changed])
    from realtime.provenance.verify import verify_file

    verdict = verify_file(path)
    assert verdict.found and verdict.session == "1234"
