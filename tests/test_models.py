"""Model catalogue, downloads and verification, against a local HTTP server (no internet)."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from pathlib import Path

import pytest

from realtime.inference.download import download, partial_path
from realtime.inference.errors import DownloadError, ModelCorruptError, ModelMissingError
from realtime.inference.manifest import ModelSpec, load_manifest
from realtime.inference.store import ModelStore
from tests.conftest import run_cli

PAYLOAD = bytes(range(256)) * 4096 + b"tail"  # just over the 1 MiB read chunk
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves the server's payload at any path with Range support (unless `ignore_range`);
    with `cut_after` set, sends that many bytes and hangs up (once)."""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        server = self.server
        header = None if server.ignore_range else self.headers.get("Range")
        server.ranges.append(self.headers.get("Range"))
        start = int(header.split("=")[1].rstrip("-")) if header else 0
        body = server.payload[start:]
        self.send_response(206 if header else 200)
        self.send_header("Content-Length", str(len(body)))
        if header:
            self.send_header("Content-Range", f"bytes {start}-{len(server.payload) - 1}/{len(server.payload)}")
        self.end_headers()
        if server.cut_after is not None:
            self.wfile.write(body[:server.cut_after])
            server.cut_after = None
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.payload = PAYLOAD
    httpd.cut_after = None
    httpd.ranges = []
    httpd.ignore_range = False
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}/model.onnx"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_download_streams_with_progress_and_moves_into_place(server, tmp_path):
    seen = []
    target = tmp_path / "m.onnx"
    digest = download([server.url], target, sha256=SHA, size=len(PAYLOAD),
                      progress=lambda done, total: seen.append((done, total)))
    assert digest == SHA and target.read_bytes() == PAYLOAD
    assert not partial_path(target).exists()
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and len(seen) >= 2


def test_cut_download_leaves_nothing_under_final_name_and_resumes(server, tmp_path):
    target = tmp_path / "m.onnx"
    server.cut_after = 300_000
    with pytest.raises(DownloadError, match="resume"):
        download([server.url], target, sha256=SHA, size=len(PAYLOAD))
    assert not target.exists()
    assert partial_path(target).stat().st_size == 300_000
    assert download([server.url], target, sha256=SHA, size=len(PAYLOAD)) == SHA
    assert server.ranges[-1] == "bytes=300000-"  # resumed, not started again
    assert target.read_bytes() == PAYLOAD


def test_server_without_range_support_restarts_cleanly(server, tmp_path):
    target = tmp_path / "m.onnx"
    server.cut_after = 200_000
    with pytest.raises(DownloadError):
        download([server.url], target, sha256=SHA)
    server.ignore_range = True  # answers 200 with the whole file to the resume request
    assert download([server.url], target, sha256=SHA) == SHA
    assert target.read_bytes() == PAYLOAD


def test_hash_mismatch_deletes_the_download(server, tmp_path):
    target = tmp_path / "m.onnx"
    with pytest.raises(DownloadError, match="SHA-256"):
        download([server.url], target, sha256="0" * 64)
    assert not target.exists() and not partial_path(target).exists()


def test_second_url_used_when_first_fails(server, tmp_path):
    target = tmp_path / "m.onnx"
    dead = "http://127.0.0.1:9/nothing"  # the discard port: connection refused
    assert download([dead, server.url], target, sha256=SHA, timeout=5) == SHA


def _spec(url: str, sha: str | None, name: str = "tiny") -> ModelSpec:
    return ModelSpec(name=name, file=f"{name}.onnx", urls=(url,), licence="test licence", sha256=sha,
                     size=len(PAYLOAD))


def test_store_missing_corrupt_and_refetch(server, tmp_path):
    store = ModelStore(tmp_path, {"tiny": _spec(server.url, SHA)})
    with pytest.raises(ModelMissingError, match="facecam models fetch tiny"):
        store.require("tiny")
    store.fetch(store.spec("tiny"))
    assert store.require("tiny") == tmp_path / "tiny.onnx"
    # damage one byte, same size: the cheap start-up check sees the new mtime and re-hashes
    data = bytearray(PAYLOAD)
    data[1000] ^= 0xFF
    (tmp_path / "tiny.onnx").write_bytes(bytes(data))
    assert store.check(store.spec("tiny")).status == "corrupt"
    with pytest.raises(ModelCorruptError, match="models verify"):
        store.require("tiny")
    result = store.fetch(store.spec("tiny"))  # a corrupt copy is fetched again
    assert result.status == "ok" and (tmp_path / "tiny.onnx").read_bytes() == PAYLOAD


def test_trust_on_first_use_records_and_then_enforces(server, tmp_path, caplog):
    store = ModelStore(tmp_path, {"tiny": _spec(server.url, None)})
    with caplog.at_level("WARNING"):
        result = store.fetch(store.spec("tiny"))
    assert "first" in result.detail and "trust on first use" in caplog.text
    records = json.loads((tmp_path / "hashes.json").read_text())
    assert records["tiny.onnx"]["sha256"] == SHA and records["tiny.onnx"]["first_use"]
    (tmp_path / "tiny.onnx").write_bytes(PAYLOAD[::-1])
    assert store.check(store.spec("tiny")).status == "corrupt"


def test_catalogue_has_the_required_models_with_licences():
    specs = load_manifest()
    for name in ("inswapper_128", "inswapper_128_fp16", "w600k_r50", "gfpgan_1_4",
                 "liveportrait_feature_extractor", "liveportrait_motion_extractor",
                 "liveportrait_generator"):
        assert name in specs and specs[name].licence and specs[name].urls
    assert "non-commercial" in specs["inswapper_128"].licence
    assert specs["inswapper_128"].inputs == {"target": (1, 3, 128, 128), "source": (1, 512)}
    assert specs["inswapper_128"].sha256 and specs["inswapper_128"].size == 554253681


def _write_manifest(path: Path, url: str, sha: str) -> Path:
    path.write_text(f'[models.tiny]\nfile = "tiny.onnx"\nurls = ["{url}"]\nsha256 = "{sha}"\n'
                    f'licence = "test licence"\n', encoding="utf-8")
    return path


def test_cli_list_fetch_verify(server, tmp_path):
    env = {"FACECAM_MODELS": str(tmp_path)}
    listed = run_cli("models", "list", timeout=60, env=env)
    assert listed.returncode == 0 and "non-commercial" in listed.stdout
    missing = run_cli("run", "--swapper", "inswapper", "--input", "demo", "--max-frames", "1",
                      "-o", "null", timeout=120, env=env)
    assert missing.returncode == 2
    assert "facecam models fetch" in missing.stderr and "Traceback" not in missing.stderr
    # a damaged file is reported by verify with the command that fixes it
    (tmp_path / "w600k_r50.onnx").write_bytes(b"not a model")
    verify = run_cli("models", "verify", timeout=60, env=env)
    assert verify.returncode == 2 and "facecam models fetch w600k_r50" in verify.stderr + verify.stdout


def test_cli_fetch_verify_repair_with_a_folder_catalogue(server, tmp_path):
    _write_manifest(tmp_path / "manifest.toml", server.url, SHA)
    env = {"FACECAM_MODELS": str(tmp_path)}
    fetched = run_cli("models", "fetch", "tiny", timeout=60, env=env)
    assert fetched.returncode == 0, fetched.stderr
    assert (tmp_path / "tiny.onnx").read_bytes() == PAYLOAD and "test licence" in fetched.stderr
    assert run_cli("models", "path", "tiny", timeout=60, env=env).stdout.strip() == str(tmp_path / "tiny.onnx")
    assert run_cli("models", "verify", timeout=60, env=env).returncode == 0
    (tmp_path / "tiny.onnx").write_bytes(PAYLOAD[:-1] + b"X")
    damaged = run_cli("models", "verify", timeout=60, env=env)
    assert damaged.returncode == 2 and "corrupt" in damaged.stdout
    assert "facecam models fetch tiny" in damaged.stderr
    repaired = run_cli("models", "verify", "--repair", timeout=60, env=env)
    assert repaired.returncode == 0 and (tmp_path / "tiny.onnx").read_bytes() == PAYLOAD
