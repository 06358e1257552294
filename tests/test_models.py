"""Model catalogue, downloads and verification, against a local HTTP server (no internet)."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import threading
from pathlib import Path

import pytest

from realtime.errors import SettingsError
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
        if getattr(server, "redirect_to", None):
            self.send_response(302)
            self.send_header("Location", server.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
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
    digest = download([server.url], target, sha256=SHA, size=len(PAYLOAD), allow_http=True,
                      progress=lambda done, total: seen.append((done, total)))
    assert digest == SHA and target.read_bytes() == PAYLOAD
    assert not partial_path(target).exists()
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and len(seen) >= 2


def test_cut_download_leaves_nothing_under_final_name_and_resumes(server, tmp_path):
    target = tmp_path / "m.onnx"
    server.cut_after = 300_000
    with pytest.raises(DownloadError, match="resume"):
        download([server.url], target, sha256=SHA, size=len(PAYLOAD), allow_http=True)
    assert not target.exists()
    assert partial_path(target).stat().st_size == 300_000
    assert download([server.url], target, sha256=SHA, size=len(PAYLOAD), allow_http=True) == SHA
    assert server.ranges[-1] == "bytes=300000-"  # resumed, not started again
    assert target.read_bytes() == PAYLOAD


def test_server_without_range_support_restarts_cleanly(server, tmp_path):
    target = tmp_path / "m.onnx"
    server.cut_after = 200_000
    with pytest.raises(DownloadError):
        download([server.url], target, sha256=SHA, allow_http=True)
    server.ignore_range = True  # answers 200 with the whole file to the resume request
    assert download([server.url], target, sha256=SHA, allow_http=True) == SHA
    assert target.read_bytes() == PAYLOAD


def test_hash_mismatch_deletes_the_download(server, tmp_path):
    target = tmp_path / "m.onnx"
    with pytest.raises(DownloadError, match="SHA-256"):
        download([server.url], target, sha256="0" * 64, allow_http=True)
    assert not target.exists() and not partial_path(target).exists()


def test_second_url_used_when_first_fails(server, tmp_path):
    target = tmp_path / "m.onnx"
    dead = "http://127.0.0.1:9/nothing"  # the discard port: connection refused
    assert download([dead, server.url], target, sha256=SHA, timeout=5, allow_http=True) == SHA


def _spec(url: str, sha: str | None, name: str = "tiny") -> ModelSpec:
    return ModelSpec(name=name, file=f"{name}.onnx", urls=(url,), licence="test licence", sha256=sha,
                     size=len(PAYLOAD), allow_http=url.startswith("http:"))


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
                    f'licence = "test licence"\nallow_http = true\n', encoding="utf-8")
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


# -- issue 19, item 11: a catalogue's file names stay inside the models folder ------------------
@pytest.mark.parametrize("name", ["../escaped.onnx", "sub/../../escaped.onnx", "/tmp/facecam-abs.onnx"])
def test_folder_catalogue_cannot_name_a_file_outside_the_folder(server, tmp_path, name):
    models = tmp_path / "models"
    models.mkdir()
    victim = tmp_path / "escaped.onnx"
    victim.write_bytes(b"precious")
    (models / "manifest.toml").write_text(
        f'allow_http = true\n[models.tiny]\nfile = "{name}"\nurls = ["{server.url}"]\n'
        f'sha256 = "{SHA}"\nlicence = "test licence"\n', encoding="utf-8")
    fetched = run_cli("models", "fetch", "tiny", timeout=60, env={"FACECAM_MODELS": str(models)})
    assert fetched.returncode == 2
    assert "outside the models folder" in fetched.stderr and "Traceback" not in fetched.stderr
    assert len(fetched.stderr.strip().splitlines()) == 1
    assert victim.read_bytes() == b"precious" and not Path("/tmp/facecam-abs.onnx").exists()
    assert server.ranges == []  # nothing was even requested


def test_symlink_leading_out_of_the_models_folder_is_refused(server, tmp_path):
    models, outside = tmp_path / "models", tmp_path / "outside"
    models.mkdir()
    outside.mkdir()
    (models / "sub").symlink_to(outside)  # a folder on the way leads out
    store = ModelStore(models, {"tiny": ModelSpec(name="tiny", file="sub/tiny.onnx", urls=(server.url,),
                                                  licence="l", sha256=SHA, allow_http=True)})
    with pytest.raises(SettingsError, match="outside the models folder"):
        store.fetch(store.spec("tiny"))
    (models / "tiny.onnx").symlink_to(outside / "victim.onnx")  # the file itself leads out
    (outside / "victim.onnx").write_bytes(b"precious")
    store = ModelStore(models, {"tiny": _spec(server.url, SHA)})
    with pytest.raises(SettingsError, match="symbolic link"):
        store.fetch(store.spec("tiny"), force=True)
    assert (outside / "victim.onnx").read_bytes() == b"precious" and server.ranges == []
    # a models folder that is itself a link (a bigger disk) is fine
    (tmp_path / "linked").symlink_to(outside)
    store = ModelStore(tmp_path / "linked", {"tiny": _spec(server.url, SHA)})
    assert store.fetch(store.spec("tiny")).status == "ok"


# -- issue 19, item 12: https only, no scheme-changing redirects, capped at the declared size ----
def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture
def tls_server(tmp_path, monkeypatch):
    """The same handler over https, with a certificate made now and trusted through SSL_CERT_FILE."""
    import ssl

    cert_file, key_file = _self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    httpd.payload, httpd.cut_after, httpd.ranges, httpd.ignore_range = PAYLOAD, None, [], False
    httpd.redirect_to = None
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.url = f"https://127.0.0.1:{httpd.server_address[1]}/model.onnx"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_https_download_works_and_plain_http_is_refused_by_default(tls_server, server, tmp_path):
    target = tmp_path / "m.onnx"
    assert download([tls_server.url], target, sha256=SHA, size=len(PAYLOAD)) == SHA
    target.unlink()
    with pytest.raises(DownloadError, match="refused plain http"):
        download([server.url], target, sha256=SHA)
    assert server.ranges == [] and not target.exists()
    for url in ("file:///etc/passwd", "ftp://127.0.0.1/model.onnx"):
        with pytest.raises(DownloadError, match="only https"):
            download([url], target)
    # the catalogue of the project itself names https only
    assert all(url.startswith("https://") for spec in load_manifest().values() for url in spec.urls)
    assert not any(spec.allow_http for spec in load_manifest().values())


def test_redirect_from_https_to_http_is_not_followed(tls_server, server, tmp_path):
    tls_server.redirect_to = server.url
    with pytest.raises(DownloadError, match="redirected"):
        download([tls_server.url], tmp_path / "m.onnx", sha256=SHA)
    assert server.ranges == []  # the plain-http server was never asked
    tls_server.redirect_to = "file:///etc/passwd"
    with pytest.raises(DownloadError, match="redirected"):
        download([tls_server.url], tmp_path / "m.onnx")


def test_stream_is_capped_at_the_declared_size(tls_server, tmp_path):
    tls_server.payload = PAYLOAD * 8  # the server sends 8 MiB for a 1 MiB entry
    target = tmp_path / "m.onnx"
    with pytest.raises(DownloadError, match="more than the declared"):
        download([tls_server.url], target, size=len(PAYLOAD))
    assert not target.exists() and not partial_path(target).exists()


class _NoLengthHandler(_Handler):
    def send_header(self, keyword, value):
        if keyword != "Content-Length":  # a server that does not say how much is coming
            super().send_header(keyword, value)


def test_stream_without_content_length_is_cut_at_the_declared_size(server, tmp_path):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NoLengthHandler)
    httpd.payload, httpd.cut_after, httpd.ranges, httpd.ignore_range = PAYLOAD * 64, None, [], False
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        target = tmp_path / "m.onnx"
        url = f"http://127.0.0.1:{httpd.server_address[1]}/m.onnx"
        with pytest.raises(DownloadError, match="more than the declared"):
            download([url], target, size=len(PAYLOAD), allow_http=True)
        assert not partial_path(target).exists()
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_verify_rehashes_even_when_size_and_times_are_unchanged(server, tmp_path):
    _write_manifest(tmp_path / "manifest.toml", server.url, SHA)
    env = {"FACECAM_MODELS": str(tmp_path)}
    assert run_cli("models", "fetch", "tiny", timeout=60, env=env).returncode == 0
    model = tmp_path / "tiny.onnx"
    stat = model.stat()
    model.write_bytes(PAYLOAD[:-1] + b"X")  # same size; then the times are put back
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    verify = run_cli("models", "verify", timeout=60, env=env)
    assert verify.returncode == 2 and "corrupt" in verify.stdout


def test_force_fetch_of_a_trust_on_first_use_model_says_loudly_that_it_changed(server, tmp_path):
    (tmp_path / "manifest.toml").write_text(
        f'allow_http = true\n[models.tiny]\nfile = "tiny.onnx"\nurls = ["{server.url}"]\n'
        f'licence = "test licence"\n', encoding="utf-8")
    env = {"FACECAM_MODELS": str(tmp_path)}
    first = run_cli("models", "fetch", "tiny", timeout=60, env=env)
    assert first.returncode == 0 and "CHANGED" not in first.stderr + first.stdout
    same = run_cli("models", "fetch", "--force", "tiny", timeout=60, env=env)
    assert same.returncode == 0 and "CHANGED" not in same.stderr + same.stdout
    server.payload = PAYLOAD[::-1]  # upstream now serves other bytes
    changed = run_cli("models", "fetch", "--force", "tiny", timeout=60, env=env)
    assert changed.returncode == 0
    assert "CHANGED" in changed.stderr and SHA in changed.stderr
    assert "CHANGED" in changed.stdout  # the summary line says it again
