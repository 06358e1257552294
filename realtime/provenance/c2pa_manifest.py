"""C2PA manifests on recordings (c2pa-python): "created with a trained algorithm, a composite".

The manifest is signed with a local test identity made at runtime with `cryptography`: an
ES256 (P-256) certificate issued by a throw-away local CA (C2PA refuses a self-signed signing
certificate). A validator therefore reports the signature as valid but the signer as untrusted:
that is honest, since nobody vouches for a local key. Offline by design: no timestamp authority.

After a recording is finalised, `sign_recording` rewrites it in place with the manifest
embedded. Fragmented MP4 (what the recorder writes, so a crash leaves a playable file) is first
remuxed into a plain MP4 (stream copy, no re-encoding) when the C2PA library cannot sign it.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import os
import stat
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SOFTWARE = {"name": "facecam", "version": "0.1.0"}
COMPOSITE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
FACECAM_ASSERTION = "org.facecam.provenance"
MIME_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime",
              ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp",
              ".avi": "video/x-msvideo"}


def available() -> bool:
    try:
        import c2pa  # noqa: F401
        from cryptography import x509  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class TestIdentity:
    certificate_chain: bytes
    """PEM: the signing certificate, then the local CA's."""
    private_key: bytes
    """PEM (PKCS#8) of the signing key."""


_identity: TestIdentity | None = None
_identity_lock = threading.Lock()


def test_identity() -> TestIdentity:
    """The local test identity of this process (made once, kept in memory only)."""
    global _identity
    with _identity_lock:
        if _identity is None:
            _identity = _make_identity()
        return _identity


def _make_identity() -> TestIdentity:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "facecam local test CA"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "facecam local test CA")])
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1))
               .not_valid_after(now + datetime.timedelta(days=3650))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                            key_encipherment=False, data_encipherment=False,
                                            key_agreement=False, key_cert_sign=True, crl_sign=True,
                                            encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                              critical=False)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "facecam"),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "local test key"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "facecam local test signer")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False, crl_sign=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    chain = cert.public_bytes(serialization.Encoding.PEM) + ca_cert.public_bytes(serialization.Encoding.PEM)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return TestIdentity(chain, private)


def manifest_definition(title: str, mime: str, session: str | None, label: bool) -> dict:
    return {
        "claim_generator_info": [SOFTWARE],
        "title": title,
        "format": mime,
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [{
                "action": "c2pa.created",
                "digitalSourceType": COMPOSITE,
                "softwareAgent": SOFTWARE,
                "description": "a face was swapped or animated in real time by facecam",
            }]}},
            {"label": FACECAM_ASSERTION, "data": {
                "watermark": "facecam spread-spectrum luminance mark, version 1",
                "session": session,
                "visible_label": label,
            }},
        ],
    }


def _signer():
    import c2pa

    identity = test_identity()
    info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, identity.certificate_chain,
                               identity.private_key, None)
    return c2pa.Signer.from_info(info)


def _remux_plain(source: Path, dest: Path) -> None:
    """Copy the streams of `source` into a plain (not fragmented) MP4/MOV at `dest`."""
    import av

    with av.open(str(source)) as inp, av.open(str(dest), mode="w", format="mp4" if dest.suffix != ".mov"
                                               else "mov") as out:
        mapping = {}
        for stream in inp.streams:
            if stream.type in ("video", "audio"):
                mapping[stream.index] = out.add_stream_from_template(stream)
        for packet in inp.demux(list(inp.streams)):
            if packet.dts is None or packet.stream.index not in mapping:
                continue
            packet.stream = mapping[packet.stream.index]
            out.mux(packet)


def sign_recording(path: str | Path, session: str | None = None, label: bool = True) -> bool:
    """Embed a signed facecam manifest into a finished file, in place. True when signed;
    False (logged) when the format or the environment does not allow it."""
    path = Path(path)
    mime = MIME_TYPES.get(path.suffix.lower())
    if mime is None:
        log.info("no C2PA manifest for %s: the C2PA library does not handle %s files",
                 path.name, path.suffix)
        return False
    if not available():
        log.warning("no C2PA manifest for %s: install c2pa-python and cryptography", path.name)
        return False
    import c2pa

    definition = json.dumps(manifest_definition(path.name, mime, session, label))
    fd, tmp_name = tempfile.mkstemp(prefix=".c2pa-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    with contextlib.suppress(OSError):  # mkstemp makes 0600: keep the recording's own mode
        os.chmod(tmp_name, stat.S_IMODE(path.stat().st_mode))
    tmp = Path(tmp_name)
    plain = tmp.with_name(tmp.stem + "-plain" + path.suffix)
    try:
        with _signer() as signer:
            try:
                with c2pa.Builder(definition) as builder:
                    builder.sign_file(path, tmp, signer)
            except c2pa.C2paError as error:
                if mime not in ("video/mp4", "video/quicktime"):
                    raise
                # Fragmented MP4 may be refused: sign a plain copy of the same packets.
                log.debug("signing %s as recorded failed (%s); remuxing first", path.name, error)
                _remux_plain(path, plain)
                with c2pa.Builder(definition) as builder:
                    builder.sign_file(plain, tmp, signer)
        tmp.replace(path)
        return True
    except (c2pa.C2paError, OSError, ValueError) as error:
        log.warning("could not add a C2PA manifest to %s: %s", path.name, error)
        return False
    finally:
        tmp.unlink(missing_ok=True)
        plain.unlink(missing_ok=True)


OFFLINE_SETTINGS = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
"""Reading a manifest never touches the network: a file can name a remote manifest URL (and a
signer an OCSP responder), and fetching it would tell whoever wrote that URL that this file is
being checked, from where and when."""


def read_manifest(path: str | Path) -> dict | None:
    """What `facecam verify` says about a file's C2PA manifest; None when it has none (or the
    C2PA library is not installed). Offline: a manifest that lives only at a remote URL is
    reported with that URL, not fetched."""
    path = Path(path)
    try:
        import c2pa
    except ImportError:
        return None
    try:
        context = c2pa.Context(settings=c2pa.Settings.from_dict(OFFLINE_SETTINGS))
        reader = c2pa.Reader.try_create(str(path), context=context)
    except (c2pa.C2paError, OSError, ValueError) as error:
        text = str(error)
        if "ManifestNotFound" in text or "JumbfNotFound" in text or "not supported" in text.lower():
            return None
        if isinstance(error, getattr(c2pa.C2paError, "RemoteManifest", ())) or "remote manifest" in text.lower():
            url = text.rsplit(" url ", 1)[-1].strip() if " url " in text else "a URL"
            return {"facecam": False, "trusted": False, "signed": False, "remote_url": url,
                    "summary": f"only a remote manifest, at {url}; not fetched (verify works offline, "
                               "so nothing about it is known)"}
        return {"facecam": False, "trusted": False, "signed": False,
                "summary": f"present but unreadable ({text})"}
    if reader is None:
        return None
    with reader:
        manifest = reader.get_active_manifest() or {}
        state = reader.get_validation_state()
        results = json.loads(reader.json()).get("validation_status") or []
    assertions = {a.get("label"): a.get("data") for a in manifest.get("assertions", [])}
    actions = (assertions.get("c2pa.actions") or assertions.get("c2pa.actions.v2") or {}).get("actions", [])
    composite = any(a.get("digitalSourceType") == COMPOSITE for a in actions)
    ours = FACECAM_ASSERTION in assertions
    generator = ", ".join(info.get("name", "?") for info in manifest.get("claim_generator_info", []))
    problems = sorted({r.get("code", "?") for r in results})
    signer = (manifest.get("signature_info") or {}).get("issuer")
    # c2pa-rs: "Trusted" = signature valid and the signer chains to a configured trust anchor;
    # "Valid" = the signature holds but nobody we trust vouches for the key (anyone can make one);
    # "Invalid" = the signature or the hashes do not hold.
    signed = state in ("Valid", "Trusted")
    trusted = state == "Trusted"
    if trusted:
        trust = "signature valid, signer trusted"
    elif signed:
        trust = ("signature valid but the signer is NOT trusted (a key nobody vouches for: anyone "
                 "can write such a claim)")
    else:
        trust = f"signature NOT valid ({state or 'unsigned'}): the claim proves nothing"
    summary = (f"{'claims facecam' if ours else 'other'} manifest by {generator or 'unknown'}"
               f"{', composite made with a trained algorithm' if composite else ''}; {trust}")
    if problems:
        summary += f" ({', '.join(problems)})"
    session = None
    with contextlib.suppress(AttributeError):
        session = (assertions.get(FACECAM_ASSERTION) or {}).get("session")
    return {"facecam": ours, "composite": composite, "generator": generator, "signer": signer,
            "validation_state": state, "validation_codes": problems, "session": session,
            "signed": signed, "trusted": trusted, "summary": summary}
