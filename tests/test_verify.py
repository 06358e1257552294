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
    # H.264 is slow to code the temporal key's switch on this smooth scene (its P-frames carry
    # the old sign over for a few frames after frame 15): ~21 of the 30 marked frames carry it
    # alone; none of the 15 unmarked ones does.
    assert 18 <= report["frames_marked"] <= 32


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


# -- issue 19, item 13: offline, and an untrusted claim is not a verdict --------------------------
def _signed_picture(tmp_path, remote_url: str | None = None):
    """An UNMARKED picture with a facecam C2PA manifest signed by the local (untrusted) key:
    embedded, or only a remote URL in the file (then the manifest bytes are returned too)."""
    c2pa = pytest.importorskip("c2pa")
    from realtime.provenance import c2pa_manifest as cm

    source, signed = tmp_path / "plain.jpg", tmp_path / ("remote.jpg" if remote_url else "claimed.jpg")
    cv2.imwrite(str(source), webcam_scene(seed=3))
    definition = json.dumps(cm.manifest_definition(signed.name, "image/jpeg", "beef", True))
    with cm._signer() as signer, c2pa.Builder(definition) as builder:
        if remote_url:
            builder.set_no_embed()
            builder.set_remote_url(remote_url)
        manifest = builder.sign_file(source, signed, signer)
    return signed, manifest


def test_verify_never_fetches_a_remote_manifest_named_in_the_file(tmp_path):
    import http.server
    import threading

    requests = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", str(len(self.server.body)))
            self.end_headers()
            self.wfile.write(self.server.body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/manifest.c2pa"
        path, httpd.body = _signed_picture(tmp_path, remote_url=url)
        result = run_cli("verify", str(path), timeout=120)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert requests == []  # the file's author learns nothing
    assert result.returncode == 1, result.stdout + result.stderr
    assert "remote manifest" in result.stdout and "not fetched" in result.stdout and url in result.stdout


def test_an_untrusted_facecam_claim_without_the_mark_is_not_found(tmp_path):
    path, _ = _signed_picture(tmp_path)
    result = run_cli("verify", str(path), timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr  # the exit code follows the mark
    assert "no facecam mark found" in result.stdout
    assert "NOT trusted" in result.stdout and "claims facecam" in result.stdout
    report = json.loads(run_cli("verify", "--json", str(path), timeout=120).stdout)
    assert report["c2pa"]["facecam"] and not report["c2pa"]["trusted"] and not report["found"]
