"""The model folder: where each catalogued model lives, whether it is there and intact, and
the hashes recorded for it.

`hashes.json` in the folder remembers, per file, the SHA-256 that was checked and the size and
modification time it had then, so a start-up does not re-hash 500 MB: the file is hashed again
only when it changed. For a model whose catalogue entry has no SHA-256, the first download's
hash is recorded there and trusted from then on (trust on first use, announced once).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from realtime.errors import SettingsError
from realtime.inference.download import Progress, download, file_sha256, partial_path
from realtime.inference.errors import ModelCorruptError, ModelMissingError
from realtime.inference.manifest import PROJECT_ROOT, ModelSpec, load_manifest, safe_file_name

log = logging.getLogger(__name__)

HASHES = "hashes.json"


def models_dir(inference: Any = None) -> Path:
    """The models folder: the `models_dir` setting, else $FACECAM_MODELS, else `models/` of
    the project."""
    configured = getattr(inference, "models_dir", None)
    if configured:
        return Path(configured).expanduser()
    if os.environ.get("FACECAM_MODELS"):
        return Path(os.environ["FACECAM_MODELS"]).expanduser()
    return PROJECT_ROOT / "models"


@dataclass(frozen=True)
class Check:
    """The state of one model file."""

    spec: ModelSpec
    path: Path
    status: str
    """'ok', 'missing', 'partial' (an interrupted download), 'corrupt', 'unverified'."""
    detail: str = ""


class ModelStore:
    def __init__(self, root: str | Path | None = None, manifest: dict[str, ModelSpec] | None = None,
                 manifest_path: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else models_dir()
        if manifest_path is None and (self.root / "manifest.toml").exists():
            # A model folder may carry its own catalogue (a private mirror, test stand-ins).
            manifest_path = self.root / "manifest.toml"
        self.specs = manifest if manifest is not None else load_manifest(manifest_path)

    @classmethod
    def from_settings(cls, settings: Any) -> ModelStore:
        return cls(models_dir(getattr(settings, "inference", settings)))

    # -- names --------------------------------------------------------------------------------
    def spec(self, name: str) -> ModelSpec:
        try:
            return self.specs[name]
        except KeyError:
            known = ", ".join(self.names())
            raise SettingsError(f"unknown model {name!r}; known: {known}") from None

    def names(self) -> list[str]:
        """Model names and set names, as `fetch` accepts them."""
        sets = sorted({spec.set for spec in self.specs.values() if spec.set})
        return [*self.specs, *sets]

    def expand(self, names: list[str]) -> list[ModelSpec]:
        """Model or set names (or 'all') -> the specs, each once, in catalogue order."""
        if not names or "all" in names:
            return list(self.specs.values())
        chosen: list[ModelSpec] = []
        for name in names:
            members = [s for s in self.specs.values() if s.set == name] or [self.spec(name)]
            chosen += [s for s in members if s not in chosen]
        return chosen

    def path(self, name: str) -> Path:
        return self.file_path(self.spec(name))

    def file_path(self, spec: ModelSpec) -> Path:
        """Where `spec`'s file lives: always inside the models folder. A name with `..` or an
        absolute path, or a symbolic link (the file, its partial download or a folder on the
        way) that leads outside, is refused: fetch would otherwise write there."""
        safe_file_name(spec.file, f"model {spec.name}")
        path = self.root / spec.file
        root = self.root.resolve()
        for candidate in (path, partial_path(path)):
            if not candidate.resolve().is_relative_to(root):
                raise SettingsError(f"model {spec.name}: {candidate} is a symbolic link that leads "
                                    f"outside the models folder {root}; refused (move the file into "
                                    "the folder, or point models_dir at the folder you want)")
        return path

    # -- hash records -------------------------------------------------------------------------
    def _records(self) -> dict[str, dict[str, Any]]:
        try:
            return json.loads((self.root / HASHES).read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def _record(self, spec: ModelSpec, sha256: str, trusted_on_first_use: bool) -> None:
        records = self._records()
        stat = self.file_path(spec).stat()
        records[spec.file] = {"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                              "first_use": trusted_on_first_use}
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / (HASHES + ".tmp")
        tmp.write_text(json.dumps(records, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(self.root / HASHES)

    def expected_sha256(self, spec: ModelSpec) -> str | None:
        """The catalogue's hash, else the one recorded on first use, else None."""
        if spec.sha256:
            return spec.sha256
        return self._records().get(spec.file, {}).get("sha256")

    # -- checks -------------------------------------------------------------------------------
    def check(self, spec: ModelSpec, full: bool = True, progress: Progress | None = None) -> Check:
        """Is the file there and intact? `full=False` trusts a file whose size and mtime match
        the last verified state (cheap enough for every start-up); `full=True` (`facecam models
        verify`) re-hashes whatever the file's size and times say."""
        path = self.file_path(spec)
        if not path.exists():
            if partial_path(path).exists():
                return Check(spec, path, "partial", "an interrupted download; fetch resumes it")
            return Check(spec, path, "missing")
        stat = path.stat()
        if spec.size is not None and stat.st_size != spec.size:
            return Check(spec, path, "corrupt", f"{stat.st_size} bytes, expected {spec.size}")
        record = self._records().get(spec.file, {})
        unchanged = record.get("size") == stat.st_size and record.get("mtime_ns") == stat.st_mtime_ns
        expected = self.expected_sha256(spec)
        if not full and unchanged and expected and record.get("sha256") == expected:
            return Check(spec, path, "ok")
        actual = file_sha256(path, progress)
        if expected is None:
            self._record(spec, actual, trusted_on_first_use=True)
            log.warning("%s has no published SHA-256: recorded %s... on first use and will check "
                        "against it from now on", spec.file, actual[:12])
            return Check(spec, path, "ok", "hash recorded on first use")
        if actual != expected:
            return Check(spec, path, "corrupt", f"SHA-256 {actual[:12]}... differs from the "
                         f"{'catalogue' if spec.sha256 else 'recorded'} {expected[:12]}...")
        self._record(spec, actual, trusted_on_first_use=not spec.sha256)
        return Check(spec, path, "ok")

    def require(self, name: str) -> Path:
        """The path of an intact model, or a one-line error naming the command that fixes it."""
        spec = self.spec(name)
        result = self.check(spec, full=False)
        if result.status in ("missing", "partial"):
            size = f", {spec.size / 1e6:.0f} MB" if spec.size else ""
            raise ModelMissingError(f"model {spec.name} is not downloaded ({spec.file}{size}; "
                                    f"licence: {spec.licence}); run `{spec.fetch_command}`")
        if result.status == "corrupt":
            raise ModelCorruptError(f"model file {result.path} is damaged ({result.detail}); run "
                                    f"`facecam models verify` and `{spec.fetch_command}` to fetch it again")
        return result.path

    # -- fetching -----------------------------------------------------------------------------
    def fetch(self, spec: ModelSpec, force: bool = False,
              progress_factory: Callable[[ModelSpec], Progress | None] | None = None) -> Check:
        """Download `spec` unless an intact copy is there; a corrupt copy is fetched again."""
        path = self.file_path(spec)
        if path.exists() and not force:
            result = self.check(spec, full=False)
            if result.status == "ok":
                return result
            log.warning("%s: %s; fetching it again", spec.file, result.detail)
        progress = progress_factory(spec) if progress_factory else None
        # --force forgets a hash recorded on first use (the upstream file may have changed)...
        previous = None if spec.sha256 else self._records().get(spec.file, {}).get("sha256")
        expected = spec.sha256 if force else self.expected_sha256(spec)
        digest = download(spec.urls, path, sha256=expected, size=spec.size, progress=progress,
                          allow_http=spec.allow_http)
        first_use = expected is None
        detail = "hash recorded on first use" if first_use else "downloaded"
        if first_use and previous and previous != digest:
            # ...but a changed file is exactly what trust on first use exists to notice: say so.
            log.warning("WARNING: %s CHANGED: its SHA-256 is now %s, not the %s recorded when it "
                        "was first fetched. Nobody publishes a hash for it, so facecam cannot tell "
                        "an upstream update from a tampered file; the new hash is recorded now",
                        spec.file, digest, previous)
            detail = f"hash CHANGED from the recorded {previous[:12]}... to {digest[:12]}..."
        elif first_use:
            log.warning("%s has no published SHA-256: recorded %s... on first download (trust on "
                        "first use)", spec.file, digest[:12])
        self._record(spec, digest, trusted_on_first_use=not spec.sha256)
        return Check(spec, path, "ok", detail)
