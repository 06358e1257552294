"""The control panels. They only say what the user asked for (`changed` carries setting changes
by their bare names, as `Engine.update` takes them) and show the settings the engine runs with
(`show_settings`, which never echoes a change back)."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QSlider,
    QWidget,
)

from realtime.settings import MODES, Settings, setting_names

SIZES = ("native", "640x480", "1280x720", "1920x1080")
RATES = ("native", "15", "24", "30", "60")
# The blend controls users expect, in order; only those the engine has are shown.
SLIDERS = (("opacity", "Opacity"), ("feather", "Mask feather"), ("erosion", "Mask erosion"),
           ("color_transfer", "Colour transfer"), ("smoothing", "Smoothing"))
CHECKS = (("mouth_mask", "Keep my mouth (mouth mask)"),)
SLIDER_STEPS = 100


def setting_field(name: str) -> dataclasses.Field | None:
    """The dataclass field of a setting (for its range and help), None if the engine lacks it."""
    if name not in setting_names():
        return None
    for group in dataclasses.fields(Settings):
        group_type = type(getattr(Settings(), group.name))
        if dataclasses.is_dataclass(group_type):
            for f in dataclasses.fields(group_type):
                if f.name == name:
                    return f
        elif group.name == name:
            return group
    return None


def mode_available(mode: str, settings: Settings) -> bool:
    """Whether this build can run `mode` (animate needs its animator module)."""
    if mode != "animate":
        return True
    from realtime.animate import ANIMATORS

    target = ANIMATORS.get(settings.animate.animator, "")
    module = target.partition(":")[0]
    try:
        return bool(module) and importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def cameras() -> list[int]:
    """Camera indices worth offering."""
    if sys.platform.startswith("linux"):
        found = []
        for node in Path("/dev").glob("video*"):
            suffix = node.name[5:]
            if suffix.isdigit():
                found.append(int(suffix))
        return sorted(found)
    return [0, 1]


def _block(widget: QWidget):
    """Context manager: no signals while showing state."""
    class _Blocker:
        def __enter__(self):
            self.was = widget.blockSignals(True)

        def __exit__(self, *exc):
            widget.blockSignals(self.was)
    return _Blocker()


class ModePanel(QWidget):
    changed = pyqtSignal(dict)
    calibrate = pyqtSignal()

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QFormLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        modes = QHBoxLayout()
        self.mode_group = QButtonGroup(self)
        self.mode_buttons: dict[str, QRadioButton] = {}
        for number, mode in enumerate(MODES, start=1):
            button = QRadioButton(mode)
            button.setToolTip(f"{mode} (key {number})")
            available = mode_available(mode, settings)
            button.setEnabled(available)
            if not available:
                button.setToolTip(f"{mode}: not available in this installation")
            self.mode_group.addButton(button)
            self.mode_buttons[mode] = button
            modes.addWidget(button)
        self.mode_group.buttonClicked.connect(
            lambda button: self.changed.emit({"mode": button.text()}))
        self.calibrate_button = QPushButton("Calibrate")
        self.calibrate_button.setToolTip("animate: take my face now as the neutral pose (C)")
        self.calibrate_button.clicked.connect(self.calibrate.emit)
        modes.addWidget(self.calibrate_button)
        layout.addRow("Mode", modes)

        self.input = QComboBox()
        self.input.setToolTip("the camera or video the face comes from")
        self.input.activated.connect(self._input_chosen)
        layout.addRow("Input", self.input)
        shape = QHBoxLayout()
        self.size = QComboBox()
        self.size.addItems(SIZES)
        self.size.activated.connect(lambda _: self._emit_shape())
        self.fps = QComboBox()
        self.fps.addItems(RATES)
        self.fps.activated.connect(lambda _: self._emit_shape())
        shape.addWidget(self.size)
        shape.addWidget(QLabel("fps"))
        shape.addWidget(self.fps)
        layout.addRow("Resolution", shape)
        self._input_specs: list[str] = []

        # Implementations come from the engine's registries, so neural stages appear here as
        # they are added there; the device only matters to them.
        from realtime.animate import ANIMATORS
        from realtime.swap import SWAPPERS

        self.choices: dict[str, QComboBox] = {}
        engine = QHBoxLayout()
        for name, label, options in (("swapper", "swap", SWAPPERS), ("animator", "animate", ANIMATORS),
                                     ("device", "device", None)):
            found = setting_field(name)
            if found is None:
                continue
            values = list(options) if options is not None else list(found.metadata.get("choices", ()))
            combo = QComboBox()
            combo.addItems(values)
            combo.setToolTip(found.metadata.get("help", ""))
            combo.setEnabled(len(values) > 1)
            combo.activated.connect(lambda _, n=name, c=combo: self.changed.emit({n: c.currentText()}))
            engine.addWidget(QLabel(label))
            engine.addWidget(combo, 1)
            self.choices[name] = combo
        layout.addRow("Engine", engine)

    def _fill_inputs(self, current: str) -> None:
        specs = [str(index) for index in cameras()] + ["demo"]
        if current not in specs and current != "auto":
            specs.append(current)
        labels = []
        for spec in specs:
            if spec.isdigit():
                labels.append(f"Camera {spec}")
            elif spec == "demo":
                labels.append("Demo clip (built in)")
            else:
                labels.append(f"File: {Path(spec).name}")
        specs.append("<file>")
        labels.append("Video file…")
        with _block(self.input):
            self.input.clear()
            self.input.addItems(labels)
        self._input_specs = specs

    def _input_chosen(self, index: int) -> None:
        spec = self._input_specs[index]
        if spec == "<file>":
            path, _ = QFileDialog.getOpenFileName(self, "Choose a video", "",
                                                  "Videos (*.mp4 *.mkv *.mov *.avi *.webm *.m4v)")
            if not path:
                return
            spec = path
        self.changed.emit({"input": spec})

    def _emit_shape(self) -> None:
        size_text, fps_text = self.size.currentText(), self.fps.currentText()
        size = None if size_text == "native" else tuple(int(v) for v in size_text.split("x"))
        fps = None if fps_text == "native" else float(fps_text)
        self.changed.emit({"size": size, "fps": fps})

    def show_settings(self, settings: Settings, input_name: str | None = None) -> None:
        button = self.mode_buttons.get(settings.mode)
        if button is not None:
            with _block(self.mode_group):
                button.setChecked(True)
        self.calibrate_button.setEnabled(settings.mode == "animate")
        current = settings.capture.input
        self._fill_inputs(current)
        if current in self._input_specs:
            with _block(self.input):
                self.input.setCurrentIndex(self._input_specs.index(current))
        size = settings.capture.size
        size_text = f"{size[0]}x{size[1]}" if size else "native"
        if self.size.findText(size_text) < 0:
            self.size.addItem(size_text)
        fps = settings.capture.fps
        fps_text = "native" if fps is None else f"{fps:g}"
        if self.fps.findText(fps_text) < 0:
            self.fps.addItem(fps_text)
        with _block(self.size), _block(self.fps):
            self.size.setCurrentText(size_text)
            self.fps.setCurrentText(fps_text)
        for name, combo in self.choices.items():
            with _block(combo):
                combo.setCurrentText(str(_value(settings, name)))


class BlendPanel(QWidget):
    changed = pyqtSignal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.sliders: dict[str, QSlider] = {}
        self.values: dict[str, QLabel] = {}
        self._ranges: dict[str, tuple[float, float]] = {}
        self.checks: dict[str, QCheckBox] = {}
        row = 0
        for name, label in SLIDERS:
            found = setting_field(name)
            if found is None or "range" not in found.metadata:
                continue  # not in this engine: no control
            low, high = found.metadata["range"]
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(0, SLIDER_STEPS)
            slider.setToolTip(found.metadata.get("help", ""))
            slider.setObjectName(name)
            slider.valueChanged.connect(lambda step, n=name: self._slid(n, step))
            value = QLabel("")
            value.setMinimumWidth(36)
            layout.addWidget(QLabel(label), row, 0)
            layout.addWidget(slider, row, 1)
            layout.addWidget(value, row, 2)
            self.sliders[name], self.values[name], self._ranges[name] = slider, value, (low, high)
            row += 1
        for name, label in CHECKS:
            found = setting_field(name)
            if found is None:
                continue
            check = QCheckBox(label)
            check.setToolTip(found.metadata.get("help", ""))
            check.toggled.connect(lambda on, n=name: self.changed.emit({n: bool(on)}))
            layout.addWidget(check, row, 0, 1, 3)
            self.checks[name] = check
            row += 1

    def set_mode(self, mode: str) -> None:
        """Blending acts on swapped faces; landmark smoothing on every mode that finds faces."""
        for name, widget in [*self.sliders.items(), *self.checks.items()]:
            enabled = mode == "swap" or (name == "smoothing" and mode != "passthrough")
            widget.setEnabled(enabled)
            if name in self.values:
                self.values[name].setEnabled(enabled)

    def value_of(self, name: str, step: int) -> float:
        low, high = self._ranges[name]
        return round(low + (high - low) * step / SLIDER_STEPS, 4)

    def _slid(self, name: str, step: int) -> None:
        value = self.value_of(name, step)
        self.values[name].setText(f"{value:.2f}")
        self.changed.emit({name: value})

    def show_settings(self, settings: Settings) -> None:
        for name, slider in self.sliders.items():
            group = setting_field(name)
            value = _value(settings, name)
            if group is None or value is None:
                continue
            low, high = self._ranges[name]
            with _block(slider):
                slider.setValue(round((value - low) / (high - low) * SLIDER_STEPS))
            self.values[name].setText(f"{value:.2f}")
        for name, check in self.checks.items():
            with _block(check):
                check.setChecked(bool(_value(settings, name)))


def _value(settings: Settings, name: str):
    for group in dataclasses.fields(settings):
        holder = getattr(settings, group.name)
        if dataclasses.is_dataclass(holder) and hasattr(holder, name):
            return getattr(holder, name)
    return getattr(settings, name, None)


class OutputPanel(QWidget):
    vcam_toggled = pyqtSignal(bool)
    record_toggled = pyqtSignal(bool)
    snapshot = pyqtSignal()
    changed = pyqtSignal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.vcam = QPushButton("Virtual camera")
        self.vcam.setCheckable(True)
        self.vcam.setToolTip("send the picture to a virtual camera that call apps can pick (V)")
        self.vcam.clicked.connect(lambda on: self.vcam_toggled.emit(bool(on)))
        self.vcam_state = QLabel("off")
        self.vcam_state.setWordWrap(True)
        self.record = QPushButton("Record")
        self.record.setCheckable(True)
        self.record.setToolTip("record the output to an MP4 file (R)")
        self.record.clicked.connect(lambda on: self.record_toggled.emit(bool(on)))
        self.record_state = QLabel("not recording")
        self.snapshot_button = QPushButton("Snapshot")
        self.snapshot_button.setToolTip("save the current picture as PNG (P)")
        self.snapshot_button.clicked.connect(self.snapshot.emit)
        self.mirror = QCheckBox("Mirror")
        self.mirror.setToolTip("flip the picture left-right (M)")
        self.mirror.toggled.connect(lambda on: self.changed.emit({"mirror": bool(on)}))
        layout.addWidget(self.vcam, 0, 0)
        layout.addWidget(self.vcam_state, 0, 1)
        layout.addWidget(self.record, 1, 0)
        layout.addWidget(self.record_state, 1, 1)
        layout.addWidget(self.snapshot_button, 2, 0)
        layout.addWidget(self.mirror, 2, 1)
        layout.setColumnStretch(1, 1)

    def show_settings(self, settings: Settings, vcam_device: str | None, recording: str | None) -> None:
        outputs = settings.output.outputs
        with _block(self.vcam):
            self.vcam.setChecked("vcam" in outputs)
        if "vcam" in outputs:
            self.vcam_state.setText(f"on: {vcam_device}" if vcam_device else "on")
        elif not self.vcam_state.text().startswith("unavailable"):
            self.vcam_state.setText("off")
        with _block(self.record):
            self.record.setChecked(recording is not None)
        with _block(self.mirror):
            self.mirror.setChecked(settings.output.mirror)


def _type_text(group_type: type, name: str) -> str:
    import typing

    return str(typing.get_type_hints(group_type)[name])


class SettingsForm(QWidget):
    """Controls made from one settings group's fields: a slider for a number with a range, a
    check box for a switch, a list for a choice. Options other stages add to their group (the
    animator's, the neural models') appear here without GUI changes."""

    changed = pyqtSignal(dict)

    def __init__(self, group: str, exclude: tuple[str, ...] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QFormLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.group = group
        self.controls: dict[str, QWidget] = {}
        self._scales: dict[str, tuple[float, float, int, bool]] = {}
        group_type = type(getattr(Settings(), group))
        for f in dataclasses.fields(group_type):
            if f.name in exclude:
                continue
            kind = _type_text(group_type, f.name)
            meta = f.metadata
            label = f.name.replace("_", " ")
            if "choices" in meta:
                control = QComboBox()
                control.addItems([str(c) for c in meta["choices"]])
                control.activated.connect(lambda _, n=f.name, c=control: self.changed.emit({n: c.currentText()}))
            elif "bool" in kind:
                control = QCheckBox()
                control.toggled.connect(lambda on, n=f.name: self.changed.emit({n: bool(on)}))
            elif "range" in meta and "None" not in kind and ("float" in kind or "int" in kind):
                low, high = meta["range"]
                whole = "float" not in kind
                steps = int(high - low) if whole and high - low <= 200 else SLIDER_STEPS
                control = QSlider(Qt.Orientation.Horizontal)
                control.setRange(0, steps)
                control.valueChanged.connect(lambda step, n=f.name: self._slid(n, step))
                self._scales[f.name] = (low, high, steps, whole)
            else:
                continue  # sizes, paths: set in the settings file
            control.setToolTip(meta.get("help", ""))
            control.setObjectName(f.name)
            layout.addRow(label, control)
            self.controls[f.name] = control

    def value_of(self, name: str, step: int) -> float | int:
        low, high, steps, whole = self._scales[name]
        value = low + (high - low) * step / steps
        return int(round(value)) if whole else round(value, 4)

    def _slid(self, name: str, step: int) -> None:
        self.changed.emit({name: self.value_of(name, step)})

    def show_settings(self, settings: Settings) -> None:
        values = getattr(settings, self.group)
        for name, control in self.controls.items():
            value = getattr(values, name)
            with _block(control):
                if isinstance(control, QComboBox):
                    control.setCurrentText(str(value))
                elif isinstance(control, QCheckBox):
                    control.setChecked(bool(value))
                else:
                    low, high, steps, _ = self._scales[name]
                    control.setValue(round((value - low) / (high - low) * steps))
