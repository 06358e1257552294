"""Settings: dataclasses, grouped by stage, with validation that explains itself.

Every field name is unique across the groups, so a change can be given by its bare name:
`settings.replace(opacity=0.5, source="me.jpg")` (what `Engine.update(...)` does). A dotted name
(`"blend.opacity"`) works as well. Settings load from and save to TOML with one table per group.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints

from realtime.errors import SettingsError


def _choice(*values: str, help: str = "") -> dict[str, Any]:
    return {"choices": values, "help": help}


def _range(low: float, high: float, help: str = "") -> dict[str, Any]:
    return {"range": (low, high), "help": help}


@dataclass(frozen=True)
class CaptureSettings:
    input: str = field(default="auto", metadata={
        "help": "'auto' (camera 0, else the demo clip), a camera index, 'demo', or a video/image path"})
    size: tuple[int, int] | None = field(default=None, metadata={
        "help": "requested (width, height); cameras are asked for it, files are resized to it"})
    fps: float | None = field(default=None, metadata=_range(1, 240, "requested frame rate"))
    live: bool | None = field(default=None, metadata={
        "help": "live pacing with frame dropping; None: live for cameras and live outputs"})
    loop: bool = field(default=False, metadata={"help": "restart a video file at its end"})
    max_frames: int | None = field(default=None, metadata=_range(1, 1e12, "stop after this many frames"))
    reconnect: bool = field(default=True, metadata={
        "help": "reopen a camera that disappears (placeholder frames meanwhile) instead of stopping"})


@dataclass(frozen=True)
class FaceSettings:
    max_faces: int = field(default=1, metadata=_range(1, 16, "faces to find per frame"))
    min_confidence: float = field(default=0.5, metadata=_range(0.05, 0.99, "detection confidence"))
    smoothing: float = field(default=0.5, metadata=_range(0, 1, "landmark smoothing, 0 = none"))
    hold_frames: int = field(default=5, metadata=_range(0, 120, "frames a lost face keeps its geometry"))
    lost_face: str = field(default="passthrough", metadata=_choice(
        "hold", "passthrough", "blur",
        help="after hold_frames: keep the last geometry, show the real face, or blur where it was"))


@dataclass(frozen=True)
class SwapSettings:
    swapper: str = field(default="mesh", metadata={"help": "swapper implementation"})
    faces: str = field(default="all", metadata=_choice(
        "all", "largest", "nearest", help="which target faces receive the source face"))
    face_position: tuple[float, float] = field(default=(0.5, 0.5), metadata={
        "help": "(x, y) as fractions of the frame, for faces='nearest'"})
    clean_source: bool = field(default=True, metadata={
        "help": "mesh swap: wear a clean texture of the source (its light removed, a hand, hair or "
                "glasses in front of it filled in) instead of its raw pixels"})
    makeup: float = field(default=0.4, metadata=_range(0, 1,
        "mesh swap: how much of the source's lip colour (lipstick) is kept; 1 = all"))
    source_face: int = field(default=0, metadata=_range(0, 16,
        "which face of the source photo to wear when it has several: 0 = the largest, 1 the next"))


@dataclass(frozen=True)
class AnimateSettings:
    animator: str = field(default="mesh", metadata={"help": "animator implementation"})
    calibration: int = field(default=0, metadata=_range(0, 1e12,
        "bumped by Engine.update(calibrate=True): take the next frame as the neutral reference"))
    motion_strength: float = field(default=1.0, metadata=_range(0, 1.5, "how much of the driver's motion the portrait makes"))
    moving_parts: str = field(default="all", metadata=_choice(
        "all", "head", "expression", "eyes", help="what moves: head pose, expression (mouth, brows, eyes), eyes only"))
    motion_mode: str = field(default="relative", metadata=_choice(
        "relative", "absolute", help="relative: motion from the neutral reference; absolute: the driver's face shape and pose"))
    motion_smoothing: float = field(default=0.0, metadata=_range(0, 1, "extra smoothing of the portrait's motion"))
    portrait_size: tuple[int, int] | None = field(default=None, metadata={
        "help": "(width, height) of the animated portrait, fitted inside (never distorted); None: its own size, long side at most 1280"})
    side_by_side: bool = field(default=False, metadata={"help": "show the driver beside the portrait"})
    mouth_interior: str = field(default="driver", metadata=_choice(
        "driver", "cavity", help="an open mouth shows the driver's mouth (colour-matched) or a shaded cavity"))


@dataclass(frozen=True)
class BlendSettings:
    opacity: float = field(default=1.0, metadata=_range(0, 1, "how much of the new face shows"))
    feather: float = field(default=0.04, metadata=_range(0, 0.5, "mask feather, fraction of face size"))
    erosion: float = field(default=0.0, metadata=_range(0, 0.3, "mask erosion, fraction of face size"))
    color_transfer: float = field(default=0.85, metadata=_range(0, 1,
        "match colour to the target (below 1 keeps a trace of the source's complexion)"))
    mouth_mask: bool = field(default=False, metadata={"help": "keep the real mouth"})
    shading: float = field(default=0.8, metadata=_range(0, 1,
        "apply the target's low-frequency light (side light, shadows) to the new face"))
    color_smoothing: float = field(default=0.25, metadata=_range(0, 5,
        "time constant in seconds of the colour statistics (no flicker); 0 = per frame"))
    poisson: bool = field(default=False, metadata={
        "help": "Poisson (seamless) blending on the face crop; slower, hides seams in hard light"})
    grain: float = field(default=1.0, metadata=_range(0, 1,
        "give the new face the target camera's finest detail and noise (0 = the source's own)"))
    keep_occluders: bool = field(default=True, metadata={
        "help": "keep what is in front of the target's face (glasses frames) in front of the new face"})
    keep_hands: bool = field(default=True, metadata={
        "help": "keep a hand in front of the target's face in front of the new face (MediaPipe Hands "
                "every 5th frame, about 4 ms a frame on average)"})


@dataclass(frozen=True)
class OutputSettings:
    outputs: tuple[str, ...] = field(default=("auto",), metadata={
        "help": "'auto', 'window', 'null', 'vcam', or a video file path (several allowed)"})
    mirror: bool = field(default=False, metadata={"help": "mirror the picture horizontally"})
    stats_overlay: bool = field(default=True, metadata={"help": "FPS and latency on the preview"})
    label: bool = field(default=True, metadata={"help": "visible 'AI-altered' label on outputs"})
    vcam_device: str | None = field(default=None, metadata={
        "help": "virtual camera device (/dev/videoN, 'OBS Virtual Camera'); None: the first free one"})
    vcam_backend: str | None = field(default=None, metadata={
        "help": "pyvirtualcam backend (v4l2loopback, obs, unitycapture); None: any that works"})
    vcam_size: tuple[int, int] | None = field(default=None, metadata={
        "help": "virtual camera (width, height), made even; None: the input's size"})
    vcam_fps: float | None = field(default=None, metadata=_range(
        1, 120, "virtual camera frame rate; None: the input's rate"))
    vcam_format: str = field(default="auto", metadata=_choice(
        "auto", "i420", "yuyv", help="pixel format sent; auto falls back to YUYV when refused"))
    vcam_mirror: bool = field(default=False, metadata={
        "help": "mirror only the virtual camera (most call apps mirror the self-view themselves)"})


@dataclass(frozen=True)
class ProvenanceSettings:
    # The label is switched on and off by output.label; the invisible mark cannot be switched off.
    label_text: str = field(default="AI-altered", metadata={"help": "text of the visible label"})
    label_corner: str = field(default="bottom-right", metadata=_choice(
        "bottom-right", "bottom-left", "top-right", "top-left", help="where the label sits"))


@dataclass(frozen=True)
class InferenceSettings:
    device: str = field(default="auto", metadata=_choice(
        "auto", "cpu", "cuda", "tensorrt", help="ONNX Runtime execution provider for neural models"))
    models_dir: str | None = field(default=None, metadata={
        "help": "where weights and engine caches live; None: $FACECAM_MODELS, else the project's models/"})
    swap_model: str = field(default="inswapper_128", metadata=_choice(
        "inswapper_128", "inswapper_128_fp16", help="weights of the inswapper swapper"))
    enhancer: str = field(default="none", metadata=_choice(
        "none", "gfpgan", help="face enhancer run on the swapped face (inswapper)"))
    enhance_every: int = field(default=1, metadata=_range(
        1, 120, "run the enhancer every Nth frame, reusing its last correction in between"))
    io_binding: bool = field(default=True, metadata={
        "help": "bind inputs/outputs to device buffers (fewer copies on CUDA)"})
    cuda_graph: bool = field(default=False, metadata={
        "help": "capture fixed-shape models as CUDA graphs (CUDA provider, IO binding)"})


MODES = ("swap", "animate", "passthrough")


@dataclass(frozen=True)
class Settings:
    mode: str = field(default="swap", metadata=_choice(*MODES, help="what happens to the face"))
    source: str | None = field(default=None, metadata={
        "help": "the photo to wear (swap) or the portrait to animate; None: the built-in face"})
    capture: CaptureSettings = field(default_factory=CaptureSettings)
    faces: FaceSettings = field(default_factory=FaceSettings)
    swap: SwapSettings = field(default_factory=SwapSettings)
    animate: AnimateSettings = field(default_factory=AnimateSettings)
    blend: BlendSettings = field(default_factory=BlendSettings)
    output: OutputSettings = field(default_factory=OutputSettings)
    inference: InferenceSettings = field(default_factory=InferenceSettings)
    provenance: ProvenanceSettings = field(default_factory=ProvenanceSettings)

    # -- changes -----------------------------------------------------------------------------
    def replace(self, **changes: Any) -> Settings:
        """A copy with `changes` applied (bare or dotted names), validated."""
        groups: dict[str, dict[str, Any]] = {}
        top: dict[str, Any] = {}
        for name, value in changes.items():
            group, key = _locate(name)
            if group is None:
                top[key] = value
            else:
                groups.setdefault(group, {})[key] = value
        for group, values in groups.items():
            top[group] = dataclasses.replace(getattr(self, group), **values)
        updated = dataclasses.replace(self, **top)
        updated.validate()
        return updated

    def validate(self) -> None:
        _validate_dataclass(self, "")
        for group in _GROUPS:
            _validate_dataclass(getattr(self, group), group + ".")

    # -- TOML --------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path) -> Settings:
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SettingsError(f"settings file not found: {path}") from None
        except (OSError, UnicodeDecodeError) as error:
            raise SettingsError(f"cannot read settings file {path}: {error}") from None
        except tomllib.TOMLDecodeError as error:
            raise SettingsError(f"settings file {path} is not valid TOML: {error}") from None
        return cls.from_dict(data, origin=str(path))

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "settings") -> Settings:
        changes: dict[str, Any] = {}
        for key, value in data.items():
            if key in _GROUPS:
                if not isinstance(value, dict):
                    raise SettingsError(f"{origin}: [{key}] must be a table")
                for sub, sub_value in value.items():
                    changes[f"{key}.{sub}"] = sub_value
            else:
                changes[key] = value
        try:
            return cls().replace(**{k: _from_toml(k, v) for k, v in changes.items()})
        except SettingsError as error:
            raise SettingsError(f"{origin}: {error}") from None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        lines: list[str] = []
        for key, value in self.to_dict().items():
            if not isinstance(value, dict):
                lines.append(f"{key} = {_to_toml(value)}")
        for group in _GROUPS:
            lines.append(f"\n[{group}]")
            for key, value in dataclasses.asdict(getattr(self, group)).items():
                if value is not None:
                    lines.append(f"{key} = {_to_toml(value)}")
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        tmp.replace(path)


# The groups are the fields that hold a settings dataclass (the only ones with a factory).
_GROUPS = tuple(f.name for f in fields(Settings) if f.default_factory is not dataclasses.MISSING)


def _group_types() -> dict[str, type]:
    hints = get_type_hints(Settings)
    return {group: hints[group] for group in _GROUPS}


def _build_index() -> dict[str, str | None]:
    """bare field name -> its group (None for top-level fields); names must be unique."""
    index: dict[str, str | None] = {}
    for f in fields(Settings):
        if f.name not in _GROUPS:
            index[f.name] = None
    for group, group_type in _group_types().items():
        for f in fields(group_type):
            if f.name in index:  # a programming error, caught by the tests at import
                raise RuntimeError(f"setting name {f.name!r} is not unique")
            index[f.name] = group
    return index


_INDEX = _build_index()


def setting_names() -> list[str]:
    """Every setting's bare name."""
    return sorted(_INDEX)


def _locate(name: str) -> tuple[str | None, str]:
    if "." in name:
        group, key = name.split(".", 1)
        if group not in _GROUPS or _INDEX.get(key) != group:
            raise SettingsError(f"unknown setting {name!r}")
        return group, key
    if name not in _INDEX:
        raise SettingsError(f"unknown setting {name!r}; known: {', '.join(setting_names())}")
    return _INDEX[name], name


def _validate_dataclass(obj: Any, prefix: str) -> None:
    hints = get_type_hints(type(obj))
    for f in fields(obj):
        if f.name in _GROUPS:
            continue
        value = getattr(obj, f.name)
        name = prefix + f.name
        _check_type(name, value, hints[f.name])
        meta = f.metadata
        if "choices" in meta and value not in meta["choices"]:
            raise SettingsError(f"{name} must be one of {', '.join(meta['choices'])}, not {value!r}")
        if "range" in meta and value is not None:
            low, high = meta["range"]
            if not (low <= value <= high) or (isinstance(value, float) and math.isnan(value)):
                raise SettingsError(f"{name} must be between {low:g} and {high:g}, not {value!r}")


def _check_type(name: str, value: Any, hint: Any) -> None:
    text = str(hint)
    optional = "None" in text
    if value is None:
        if not optional:
            raise SettingsError(f"{name} must be set")
        return
    if "tuple" in text:
        ok = isinstance(value, tuple) and all(isinstance(v, (int | float, str))
                                              for v in value)
        if "tuple[str" in text:
            ok = ok and all(isinstance(v, str) for v in value)
        else:
            ok = ok and len(value) == 2 and all(isinstance(v, int | float) and not isinstance(v, bool)
                                                for v in value)
        if not ok:
            raise SettingsError(f"{name} has the wrong form: {value!r}")
        return
    if "bool" in text:
        if not isinstance(value, bool):
            raise SettingsError(f"{name} must be true or false, not {value!r}")
    elif "int" in text and "float" not in text:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SettingsError(f"{name} must be a whole number, not {value!r}")
    elif "float" in text:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SettingsError(f"{name} must be a number, not {value!r}")
    elif "str" in text and not isinstance(value, str):
        raise SettingsError(f"{name} must be text, not {value!r}")


def _from_toml(name: str, value: Any) -> Any:
    # TOML has arrays, not tuples.
    if isinstance(value, list):
        return tuple(value)
    return value


def _to_toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_to_toml(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} to TOML")
