"""The model catalogue, `realtime/inference/manifest.toml` (package data, so an installed wheel
has it): what can be fetched, from where, with which hash, under which licence, and the
input/output names and shapes the code relies on."""

from __future__ import annotations

import logging
import os
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import numpy as np

from realtime.errors import SettingsError
from realtime.inference.errors import ModelMismatchError

DEFAULT_MANIFEST = Path(__file__).resolve().with_name("manifest.toml")


def _data_home() -> Path:
    """The user's data folder for facecam (an installed package has no project folder)."""
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "facecam"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "facecam"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "facecam"


_CHECKOUT = Path(__file__).resolve().parents[2]
PROJECT_ROOT = _CHECKOUT if (_CHECKOUT / "pyproject.toml").exists() else _data_home()
"""The folder whose `models/` holds the weights by default: the source checkout (git-ignored
there), else (a wheel in site-packages) the user's data folder, never site-packages itself."""

Shape = tuple[int | str, ...]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    file: str
    urls: tuple[str, ...]
    licence: str
    task: str = ""
    description: str = ""
    sha256: str | None = None
    """None: not known offline; the first download's hash is recorded (trust on first use)."""
    size: int | None = None
    set: str | None = None
    inputs: dict[str, Shape] = field(default_factory=dict)
    outputs: dict[str, Shape] = field(default_factory=dict)
    io_verified: bool = False
    allow_http: bool = False
    """Plain http:// URLs are refused unless the catalogue says `allow_http = true` (a mirror
    on the user's own network); the hash still guards the bytes."""
    precision: str = "fp16"
    """TensorRT precision for this model: "fp16" or "fp32" (kept where fp16 loses accuracy)."""

    @property
    def fetch_command(self) -> str:
        return f"facecam models fetch {self.set or self.name}"

    def check_io(self, inputs: dict[str, tuple], outputs: dict[str, tuple]) -> list[str]:
        """Raise ModelMismatchError when a loaded model lacks a named input/output of the
        catalogue or has another rank or fixed size there ("N" and symbolic sizes match any).

        With `io_verified = false` (names and shapes read from other projects' code, not from
        the file) the callers read outputs by position: differences of name or rank are one
        warning (returned and logged), and only a different count or element count is fatal."""
        if not self.io_verified:
            return _check_loosely(self, inputs, outputs)
        problems = []
        for kind, expected, actual in (("input", self.inputs, inputs), ("output", self.outputs, outputs)):
            for name, shape in expected.items():
                if name not in actual:
                    problems.append(f"no {kind} {name!r} (it has {', '.join(actual) or 'none'})")
                    continue
                found = actual[name]
                if len(found) != len(shape) or any(
                        isinstance(want, int) and isinstance(got, int) and got > 0 and want != got
                        for want, got in zip(shape, found, strict=False)):
                    problems.append(f"{kind} {name!r} has shape {list(found)}, expected {list(shape)}")
        if problems:
            raise ModelMismatchError(f"{self.file} is not the model facecam expects for {self.name}: "
                                     f"{'; '.join(problems)}")
        return []


def _elements(shape: tuple) -> int | None:
    sizes = [dim for dim in shape if not (isinstance(dim, int) and dim > 0)]
    return None if sizes else int(np.prod(shape)) if shape else 1


def _check_loosely(spec: ModelSpec, inputs: dict[str, tuple], outputs: dict[str, tuple]) -> list[str]:
    problems, differences = [], []
    for kind, expected, actual in (("input", spec.inputs, inputs), ("output", spec.outputs, outputs)):
        if len(actual) < len(expected):
            problems.append(f"{len(actual)} {kind}s, expected {len(expected)}")
            continue
        for (name, shape), (found_name, found) in zip(expected.items(), actual.items(), strict=False):
            want, got = _elements(tuple(shape)), _elements(tuple(found))
            if want is not None and got is not None and want != got:
                problems.append(f"{kind} {found_name!r} has {got} elements {list(found)}, "
                                f"expected {want} {list(shape)}")
            elif name != found_name or list(shape) != list(found):
                differences.append(f"{name} {list(shape)} is {found_name!r} {list(found)}")
    if problems:
        raise ModelMismatchError(f"{spec.file} is not the model facecam expects for {spec.name}: "
                                 f"{'; '.join(problems)}")
    if differences:
        line = (f"{spec.file}: inputs/outputs differ from the catalogue's (unverified) reading, "
                f"used by position: {'; '.join(differences)}")
        logging.getLogger(__name__).warning("%s", line)
        return [line]
    return []


def safe_file_name(file: Any, where: str) -> str:
    """A catalogue's `file` as a plain relative path inside the models folder: a catalogue can
    come from a models folder the user was given, and `../x` or `/home/me/.bashrc` there would
    make `fetch` write outside it."""
    if not isinstance(file, str) or not file.strip():
        raise SettingsError(f"{where}: file must be a file name")
    pure = PurePosixPath(file.replace("\\", "/"))
    if not pure.parts or pure.is_absolute() or PureWindowsPath(file).drive or ".." in pure.parts or file.startswith("~"):
        raise SettingsError(f"{where}: file {file!r} is outside the models folder; "
                            "a catalogue may only name files inside it")
    return file


def _shapes(value: Any, where: str) -> dict[str, Shape]:
    if not isinstance(value, dict):
        raise SettingsError(f"{where} must be a table of name = [shape]")
    return {str(name): tuple(shape) for name, shape in value.items()}


def load_manifest(path: str | Path | None = None) -> dict[str, ModelSpec]:
    """name -> ModelSpec, in the catalogue's order."""
    path = Path(path) if path else DEFAULT_MANIFEST
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"model catalogue not found: {path}") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"model catalogue {path} is not valid TOML: {error}") from None
    specs: dict[str, ModelSpec] = {}
    for name, entry in data.get("models", {}).items():
        where = f"{path.name} [models.{name}]"
        try:
            spec = ModelSpec(
                name=name, file=safe_file_name(entry["file"], where), urls=tuple(entry["urls"]), licence=entry["licence"],
                task=entry.get("task", ""), description=entry.get("description", ""),
                sha256=(entry.get("sha256") or None), size=entry.get("size"), set=entry.get("set"),
                inputs=_shapes(entry.get("inputs", {}), where + " inputs"),
                outputs=_shapes(entry.get("outputs", {}), where + " outputs"),
                io_verified=bool(entry.get("io_verified", False)),
                allow_http=bool(entry.get("allow_http", data.get("allow_http", False))),
                precision=str(entry.get("precision", "fp16")))
        except KeyError as missing:
            raise SettingsError(f"{where} lacks {missing}") from None
        if spec.sha256 is not None and len(spec.sha256) != 64:
            raise SettingsError(f"{where}: sha256 must be 64 hex digits")
        specs[name] = spec
    return specs
