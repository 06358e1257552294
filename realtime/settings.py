"""Settings: dataclasses, grouped by stage, with validation that explains itself.

Every field name is unique across the groups, so a change can be given by its bare name:
`settings.replace(opacity=0.5, source="me.jpg")` (what `Engine.update(...)` does). A dotted name
(`"blend.opacity"`) works as well. Settings load from and save to TOML with one table per group.

A field is the ONE declaration of a setting. Its type hint and metadata say everything the front
ends need; `specs()` reads them, and the `facecam run`/`bench` flags (realtime/settings_cli.py),
TOML, the GUI forms (gui/controls.py) and the error messages are all made from it. Adding a
setting = adding a field (and consuming it in its stage). Metadata keys:

- `help`      one line for --help and the GUI tooltip (required)
- `range`     (low, high) for numbers: validated, shown in --help, a slider in the GUI
- `choices`   the allowed values: validated, listed in --help, a drop-down in the GUI
- `registry`  "module:TABLE": the choices are the names registered in that table (read when asked)
- `flags`     other command-line spellings kept for users (e.g. "-o", "--strength")
- `no_flag`   why the setting has no flag of its own (it still works with --set and TOML)
- `path`      "file" or "dir": a file-system path (a file picker in the GUI)
- `label`     the GUI control's name when the field name in words is not clear enough
- `metavar`   the placeholder in --help (default: from the type: N, X, WxH...)
- `separator` between a list's items typed on one line (`--set`, a GUI field); default ","

`_range(low, high, help)`, `_choice(*values, help=...)` and `_meta(help, **keys)` build them.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import types
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints

from realtime.errors import SettingsError


def _choice(*values: str, help: str = "", **extra: Any) -> dict[str, Any]:
    return {"choices": values, "help": help, **extra}


def _range(low: float, high: float, help: str = "", **extra: Any) -> dict[str, Any]:
    return {"range": (low, high), "help": help, **extra}


def _meta(help: str, **extra: Any) -> dict[str, Any]:
    """Metadata of a setting with no range or fixed choices (see the keys above)."""
    return {"help": help, **extra}


@dataclass(frozen=True)
class CaptureSettings:
    input: str = field(default="auto", metadata=_meta(
        "'auto' (camera 0, else the demo clip), a camera index, 'demo', or a video/image path",
        flags=("-i",), metavar="0|FILE|demo"))
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
    max_faces: int = field(default=8, metadata=_range(1, 16, "faces to find per frame (each costs time)"))
    min_confidence: float = field(default=0.5, metadata=_range(0.05, 0.99, "detection confidence"))
    smoothing: float = field(default=0.5, metadata=_range(0, 1, "landmark smoothing, 0 = none"))
    hold_frames: int = field(default=5, metadata=_range(0, 120, "frames a lost face keeps its geometry"))
    lost_face: str = field(default="passthrough", metadata=_choice(
        "hold", "passthrough", "blur",
        help="after hold_frames: keep the last geometry, show the real face, or blur where it was"))
    min_face_size: float = field(default=0.0, metadata=_range(
        0, 0.9, "ignore faces smaller than this fraction of the frame's short side (people far behind you)"))
    small_faces: bool = field(default=True, metadata={
        "help": "also find small, distant faces (from about 30 px at 720p): MediaPipe's full-range "
                "detector looks at a part of the frame every third frame while fewer than max_faces "
                "faces are found"})


@dataclass(frozen=True)
class SwapSettings:
    swapper: str = field(default="mesh", metadata=_meta(
        "swapper implementation", registry="realtime.swap:SWAPPERS"))
    faces: str = field(default="all", metadata=_choice(
        "all", "largest", "nearest", help="which target faces receive the source face"))
    face_position: tuple[float, float] = field(default=(0.5, 0.5), metadata={
        "help": "(x, y) as fractions of the frame, for faces='nearest'"})
    # DeepFaceLab models (swapper = "dfm"), issue 14.
    dfm_model: str | None = field(default=None, metadata={
        "help": "DeepFaceLab .dfm model for swapper 'dfm': a path, or a file name in the models folder"})
    dfm_face_type: str = field(default="whole_face", metadata=_choice(
        "half_face", "midfull_face", "full_face", "whole_face", "head",
        help="the face type the .dfm model was trained with (DeepFaceLab's alignment)"))
    morph: float = field(default=0.75, metadata=_range(
        0, 1, "AMP .dfm models: how much of the model's identity (DeepFaceLive's morph factor)"))
    clean_source: bool = field(default=True, metadata={
        "help": "mesh swap: wear a clean texture of the source (its light removed, a hand, hair or "
                "glasses in front of it filled in) instead of its raw pixels"})
    makeup: float = field(default=0.4, metadata=_range(0, 1,
        "mesh swap: how much of the source's make-up colour (lipstick, eye shadow) is kept; 1 = all"))
    source_face: int | str = field(default=0, metadata=_meta(
        "which face of the source photo to wear when it has several: 'largest' (or 0), 1 the next "
        "largest, ... up to 16", metavar="N|largest"))
    # Face mapping, issue 18 (realtime/faces/mapping.py).
    face_map: tuple[str, ...] = field(default=(), metadata=_meta(
        "give a face its own photo: WHERE=PHOTO, WHERE = left, right, centre, top, bottom, "
        "top-left..., X,Y (fractions of the frame) or a picture of that person; the rule then "
        "follows that person (repeatable; with a map, every mapped face is swapped whatever "
        "'faces' says)", flags=("--map",), metavar="WHERE=PHOTO",
        separator=";"))
    unmapped_faces: str = field(default="source", metadata=_choice(
        "source", "keep", help="with a face map: faces no rule maps wear the main source, or keep "
        "their own face"))
    # Identity shape transfer, issue 13 (realtime/swap/shape.py). On by default since session 20
    # (benchmarks/results/s20-identity/): without it the mesh draws the source's skin on the
    # target's proportions and dlib reads the target's person (s42 -> d13: retrieval 33%). At 0.75
    # on the written files (s12, s42 x d3, d10, d13, 30 frames): distance to the source 0.522 ->
    # 0.491, retrieval 72% -> 92%; 1 gained no distance (0.493) and raised the expression error
    # and the seams (s12 -> d3 3.2 levels). The output's features sit where the source has them:
    # the landmark error against the target's own points rises by design (0.015 -> 0.025); the
    # expression error, which takes that constant shape change out, stays (0.0101 -> 0.0107).
    face_shape: float = field(default=0.75, metadata=_range(0, 1,
        "mesh swap: how much of the source's inner face shape the target's face takes (eye "
        "spacing, nose length, mouth width, brow height; its outline, pose and expression stay "
        "the target's); 0 = the target's own shape"))


@dataclass(frozen=True)
class AnimateSettings:
    animator: str = field(default="mesh", metadata=_meta(
        "animator implementation", registry="realtime.animate:ANIMATORS"))
    calibration: int = field(default=0, metadata=_range(0, 1e12,
        "bumped by Engine.update(calibrate=True): take the next frame as the neutral reference",
        no_flag="an action, not a value: the C key, the GUI's Calibrate button or "
                "Engine.update(calibrate=True) bump it"))
    motion_strength: float = field(default=1.0, metadata=_range(0, 1.5, "how much of the driver's motion the portrait makes",
                                                                       flags=("--strength",)))
    moving_parts: str = field(default="all", metadata=_choice(
        "all", "head", "expression", "eyes", help="what moves: head pose, expression (mouth, brows, eyes), eyes only",
        flags=("--parts",)))
    motion_mode: str = field(default="relative", metadata=_choice(
        "relative", "absolute", help="relative: motion from the neutral reference; absolute: the driver's face shape and pose",
        flags=("--motion",)))
    motion_smoothing: float = field(default=0.0, metadata=_range(0, 1, "extra smoothing of the portrait's motion"))
    portrait_size: tuple[int, int] | None = field(default=None, metadata={
        "help": "(width, height) of the animated portrait, fitted inside (never distorted); None: its own size, long side at most 1280"})
    side_by_side: bool = field(default=False, metadata={"help": "show the driver beside the portrait"})
    mouth_interior: str = field(default="driver", metadata=_choice(
        "driver", "cavity", help="an open mouth shows the driver's mouth (colour-matched) or a shaded cavity"))


@dataclass(frozen=True)
class BlendSettings:
    opacity: float = field(default=1.0, metadata=_range(0, 1, "how much of the new face shows"))
    feather: float = field(default=0.04, metadata=_range(0, 0.5, "mask feather, fraction of face size",
                                                         label="Mask feather"))
    erosion: float = field(default=0.0, metadata=_range(0, 0.3, "mask erosion, fraction of face size",
                                                        label="Mask erosion"))
    color_transfer: float = field(default=1.0, metadata=_range(0, 1,
        "match colour to the target (below 1 keeps a trace of the source's complexion)"))
    mouth_mask: bool = field(default=False, metadata=_meta("keep the real mouth",
                                                           label="Keep my mouth (mouth mask)"))
    skin_tone: float = field(default=1.0, metadata=_range(0, 1,
        "take the skin's colour across the face (rosy cheeks, a yellower forehead) and the lips' colour "
        "to the person's own, at low frequency: the source's make-up, lipstick and blotches do not travel"))
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
    outputs: tuple[str, ...] = field(default=("auto",), metadata=_meta(
        "where frames go: 'auto' (a window if there is a display, else out/facecam-demo.mp4), "
        "'window', 'null', 'vcam', 'overlay', or a video/picture file path (repeatable)",
        flags=("--output", "-o"), metavar="window|vcam|overlay|null|FILE"))
    mirror: bool = field(default=False, metadata={"help": "mirror the picture horizontally"})
    stats_overlay: bool = field(default=True, metadata={"help": "FPS and latency on the preview"})
    label: bool = field(default=True, metadata=_meta("visible 'AI-altered' label on outputs",
                                                     label="Visible label"))
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
    overlay_alpha: str = field(default="face", metadata=_choice(
        "face", "person", "portrait", "frame",
        help="what the overlay page shows opaque: the swapped face, the person cut out, the animated "
             "portrait cut out, or the whole frame"))
    overlay_port: int = field(default=8765, metadata=_range(
        0, 65535, "port of the overlay page (0: any free port)"))
    overlay_host: str = field(default="127.0.0.1", metadata={
        "help": "interface of the overlay page; anything but loopback adds a random token to its URL"})
    overlay_obs: str | None = field(default=None, metadata={
        "help": "obs-websocket URL (e.g. ws://127.0.0.1:4455): add the overlay to OBS's current scene "
                "as a Browser Source; password in OBS_WEBSOCKET_PASSWORD"})
    crf: int = field(default=18, metadata=_range(
        0, 51, "recording quality (x264 CRF): lower is better and larger; 18 looks like the input, 23 is x264's default"))


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
    models_dir: str | None = field(default=None, metadata=_meta(
        "where weights and engine caches live; None: $FACECAM_MODELS, else the project's models/",
        path="dir"))
    swap_model: str = field(default="inswapper_128", metadata=_choice(
        "inswapper_128", "inswapper_128_fp16", help="weights of the inswapper swapper"))
    enhancer: str = field(default="none", metadata=_choice(
        "none", "gfpgan", help="face enhancer run on the swapped face (inswapper)",
        flags=("--enhance",)))
    enhance_every: int = field(default=1, metadata=_range(
        1, 120, "run the enhancer every Nth frame, reusing its last correction in between"))
    io_binding: bool = field(default=True, metadata=_meta(
        "bind inputs/outputs to device buffers (fewer copies on CUDA)", label="IO binding"))
    cuda_graph: bool = field(default=False, metadata=_meta(
        "capture fixed-shape models as CUDA graphs (CUDA provider, IO binding)", label="CUDA graph"))
    opencv_threads: int = field(default=1, metadata=_range(
        0, 64, "OpenCV's worker threads for one call (process-wide); 1: each call runs in its "
        "stage's own thread (the stages already run in parallel; an idle pool spins on the CPU); "
        "0: OpenCV's choice, one per core", label="OpenCV threads"))


MODES = ("swap", "animate", "passthrough")


@dataclass(frozen=True)
class Settings:
    mode: str = field(default="swap", metadata=_choice(*MODES, help="what happens to the face"))
    source: str | None = field(default=None, metadata=_meta(
        "the photo to wear (swap) or the portrait to animate; None: the built-in face",
        path="file", metavar="PHOTO"))
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
        _validate_values(self)

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
    group = prefix.rstrip(".") or None
    for f in fields(obj):
        if f.name in _GROUPS:
            continue
        spec(f.name if group is None else f"{group}.{f.name}").check(getattr(obj, f.name))


# -- the declarations, read ------------------------------------------------------------------
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def _kind(hint: Any) -> tuple[str, bool]:
    """(kind, optional) of a field's type hint: bool, int, float, str, size (a WxH pair of
    whole numbers), pair (two numbers), list (of text), or value (anything else TOML can say)."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        every = typing.get_args(hint)
        args = [a for a in every if a is not type(None)]
        optional = len(args) < len(every)
    else:
        args, optional = [hint], False
    inner = args[0] if len(args) == 1 else None
    if inner in (bool, int, float, str):
        return inner.__name__, optional
    if typing.get_origin(inner) is tuple:
        items = typing.get_args(inner)
        if len(items) == 2 and items[1] is Ellipsis:
            return "list", optional
        if items == (int, int):
            return "size", optional
        if len(items) == 2 and all(i in (int, float) for i in items):
            return "pair", optional
    return "value", optional


@dataclass(frozen=True)
class Spec:
    """One setting as its declaration says: what the CLI, TOML, the GUI and the checks use."""

    name: str
    """Bare name (unique across the groups): `opacity`."""
    group: str | None
    """Its group (`blend`), None for the top-level `mode` and `source`."""
    kind: str
    """bool, int, float, str, size, pair, list or value (see `_kind`)."""
    optional: bool
    """None is allowed (it means 'automatic' or 'not set')."""
    default: Any
    help: str
    range: tuple[float, float] | None = None
    choices: tuple[str, ...] | None = None
    registry: str | None = None
    flags: tuple[str, ...] = ()
    no_flag: str | None = None
    path: str | None = None
    metavar: str | None = None
    label: str | None = None
    separator: str = ","
    """Between the items of a list typed on one line (`--set`, a GUI field)."""

    @property
    def title(self) -> str:
        """What a GUI control is called: the `label` metadata, else the name in words."""
        return self.label or self.name.replace("_", " ").capitalize()

    @property
    def key(self) -> str:
        """The dotted name (`blend.opacity`), the bare name at the top level."""
        return self.name if self.group is None else f"{self.group}.{self.name}"

    @property
    def flag(self) -> str:
        """The command-line flag made from the name: `--color-transfer`."""
        return "--" + self.name.replace("_", "-")

    def allowed(self) -> tuple[str, ...] | None:
        """The values this setting may take now: its fixed choices, or the names in its
        registry (read when asked, so an implementation registered later is offered)."""
        if self.choices is not None:
            return self.choices
        if self.registry is not None:
            import importlib

            module, _, table = self.registry.partition(":")
            return tuple(getattr(importlib.import_module(module), table))
        return None

    def describe(self) -> str:
        """Help text with the range or choices and the default: for --help and tooltips."""
        parts = []
        if self.range is not None:
            parts.append(f"{_number(self.range[0])}..{_number(self.range[1])}")
        if self.registry is not None:
            parts.append("one of " + ", ".join(self.allowed() or ()))
        parts.append("default " + self.format(self.default))
        return f"{self.help} [{'; '.join(parts)}]" if self.help else f"[{'; '.join(parts)}]"

    def format(self, value: Any) -> str:
        """The value as a user types it (the inverse of `parse`)."""
        if value is None:
            return "none"
        if isinstance(value, bool):
            return "true" if value else "false"
        if self.kind == "size":
            return f"{value[0]}x{value[1]}"
        if self.kind == "list":
            return self.separator.join(str(v) for v in value)
        if self.kind == "pair":
            return ",".join(_number(v) if isinstance(v, int | float) else str(v) for v in value)
        if isinstance(value, float):
            return _number(value)
        return str(value)

    def parse(self, text: str, label: str | None = None) -> Any:
        """A value from what a user typed (a flag, `--set`, a GUI field); SettingsError naming
        `label` (default: the key) when it cannot be one. Range and choices: see `check`."""
        label = label or self.key
        text = text.strip()
        if self.optional and text.lower() in ("none", "auto", ""):
            return None
        try:
            if self.kind == "bool":
                if text.lower() in _TRUE:
                    return True
                if text.lower() in _FALSE:
                    return False
                raise ValueError
            if self.kind == "int":
                return int(text)
            if self.kind == "float":
                return float(text)
            if self.kind == "size":
                width, height = (int(part) for part in text.lower().split("x"))
                return width, height
            if self.kind == "pair":
                x, y = (float(part) for part in text.split(","))
                return x, y
            if self.kind == "list":
                return tuple(part.strip() for part in text.split(self.separator) if part.strip())
            if self.kind == "value":  # a type the front ends do not know: a TOML value, else text
                try:
                    return _from_toml(self.key, tomllib.loads(f"v = {text}")["v"])
                except tomllib.TOMLDecodeError:
                    return text
        except ValueError:
            raise SettingsError(f"{label} {_FORMS.get(self.kind, 'has the wrong form')}, "
                                f"not {text!r}") from None
        return text

    def check(self, value: Any, label: str | None = None) -> None:
        """SettingsError naming `label` (default: the key) unless `value` fits the type, the
        range and the fixed choices."""
        label = label or self.key
        if value is None:
            if not self.optional:
                raise SettingsError(f"{label} must be set")
            return
        kind = self.kind
        if kind == "bool" and not isinstance(value, bool):
            raise SettingsError(f"{label} must be true or false, not {value!r}")
        if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
            raise SettingsError(f"{label} must be a whole number, not {value!r}")
        if kind == "float" and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise SettingsError(f"{label} must be a number, not {value!r}")
        if kind == "str" and not isinstance(value, str):
            raise SettingsError(f"{label} must be text, not {value!r}")
        if kind in ("size", "pair") and not (
                isinstance(value, tuple) and len(value) == 2
                and all(isinstance(v, int if kind == "size" else int | float) and not isinstance(v, bool)
                        for v in value)):
            raise SettingsError(f"{label} has the wrong form: {value!r}")
        if kind == "size" and not all(16 <= v <= 8192 for v in value):
            raise SettingsError(f"{label} {self.format(value)} is out of range (16..8192 per side)")
        if kind == "list" and not (isinstance(value, tuple) and all(isinstance(v, str) for v in value)):
            raise SettingsError(f"{label} has the wrong form: {value!r}")
        if self.choices is not None and value not in self.choices:
            raise SettingsError(f"{label} must be one of {', '.join(self.choices)}, not {value!r}")
        if self.range is not None:
            low, high = self.range
            if not (low <= value <= high) or (isinstance(value, float) and math.isnan(value)):
                raise SettingsError(f"{label} must be between {_number(low)} and {_number(high)}, "
                                    f"not {value!r}")


_FORMS = {"bool": "must be true or false", "int": "must be a whole number", "float": "must be a number",
          "size": "must look like 1280x720", "pair": "must look like 0.5,0.4"}


def _number(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e6 else f"{value:.0e}"


def _spec_of(f: dataclasses.Field, group: str | None, hint: Any) -> Spec:
    meta = f.metadata
    kind, optional = _kind(hint)
    default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
    return Spec(name=f.name, group=group, kind=kind, optional=optional, default=default,
                help=meta.get("help", ""), range=meta.get("range"),
                choices=tuple(meta["choices"]) if "choices" in meta else None,
                registry=meta.get("registry"), flags=tuple(meta.get("flags", ())),
                no_flag=meta.get("no_flag"), path=meta.get("path"), metavar=meta.get("metavar"),
                label=meta.get("label"), separator=meta.get("separator", ","))


def _build_specs() -> dict[str, Spec]:
    found: dict[str, Spec] = {}
    top_hints = get_type_hints(Settings)
    for f in fields(Settings):
        if f.name not in _GROUPS:
            found[f.name] = _spec_of(f, None, top_hints[f.name])
    for group, group_type in _group_types().items():
        hints = get_type_hints(group_type)
        for f in fields(group_type):
            found[f.name] = _spec_of(f, group, hints[f.name])
    return found


_SPECS = _build_specs()


def specs(group: str | None = None) -> list[Spec]:
    """Every setting, in declaration order (top-level first, then group by group); or one
    group's (`specs("blend")`). Read from the dataclasses: a field added there is here."""
    if group is None:
        return list(_SPECS.values())
    if group not in _GROUPS:
        raise SettingsError(f"unknown settings group {group!r}; known: {', '.join(_GROUPS)}")
    return [s for s in _SPECS.values() if s.group == group]


def spec(name: str) -> Spec:
    """One setting by its bare or dotted name; SettingsError for an unknown one."""
    _, key = _locate(name)
    return _SPECS[key]


def groups() -> tuple[str, ...]:
    """The settings groups (TOML tables), in declaration order."""
    return _GROUPS


def parse_assignment(text: str, label: str = "--set") -> tuple[str, Any]:
    """`NAME=VALUE` (bare or dotted name) -> (bare name, value): what `--set` takes."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise SettingsError(f"{label} takes NAME=VALUE (e.g. opacity=0.5), not {text!r}")
    found = spec(name.strip())
    value = found.parse(value, f"{label} {name.strip()}")
    found.check(value, f"{label} {name.strip()}")
    return found.name, value


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


SIZE_LIMITS = (16, 8192)
"""Every picture size a setting names (capture, portrait, virtual camera), per side, in pixels:
what the command line has always accepted. Checked here, so TOML, Engine.update and the GUI hold
the same limits, and a typo such as [60000, 60000] is refused before anything is allocated."""

_SIZES = ("capture.size", "animate.portrait_size", "output.vcam_size")


def _validate_values(settings: Settings) -> None:
    """Checks a type and a range cannot express."""
    low, high = SIZE_LIMITS
    for name in _SIZES:
        group, key = name.split(".")
        size = getattr(getattr(settings, group), key)
        if size is None:
            continue
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in size):
            raise SettingsError(f"{name} must be two whole numbers of pixels (width, height), not {size!r}")
        if not all(low <= v <= high for v in size):
            raise SettingsError(f"{name} must be between {low} and {high} pixels per side, not "
                                f"{size[0]}x{size[1]}")
    if any(not spec.strip() for spec in settings.output.outputs):
        raise SettingsError("output.outputs has an empty name")
    _validate_swap_choices(settings.swap)
    x, y = settings.swap.face_position
    if not all(math.isfinite(v) and 0.0 <= v <= 1.0 for v in (x, y)):
        raise SettingsError(f"swap.face_position is a point inside the frame as fractions 0..1 "
                            f"(0.5, 0.5 is the centre), not {(x, y)!r}")
    if not settings.provenance.label_text.strip():
        raise SettingsError("provenance.label_text is empty: the label would say nothing "
                            "(to leave the label out, set label = false; the invisible mark stays)")


def source_face_index(value: int | str) -> int:
    """The source_face setting as an index into the photo's faces, largest first."""
    return 0 if value == "largest" else int(value)


def _validate_swap_choices(swap: SwapSettings) -> None:
    value = swap.source_face
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not (value == "largest" or (isinstance(value, int) and not isinstance(value, bool)
                                   and 0 <= value <= 16)):
        raise SettingsError(f"swap.source_face is 'largest' or a face number 0..16 (0 = the largest, "
                            f"1 the next), not {swap.source_face!r}")
    from realtime.faces.mapping import parse_rules

    parse_rules(swap.face_map)


def require_outputs(settings: Settings) -> None:
    """SettingsError when no output is named: a command-line run would go nowhere. (An Engine may
    run with none: the GUI takes its frames through a listener.)"""
    if not settings.output.outputs:
        raise SettingsError("output.outputs is empty: name at least one output ('auto', 'window', "
                            "'vcam', 'null' or a file)")
