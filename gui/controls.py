"""The control panels. They only say what the user asked for (`changed` carries setting changes
by their bare names, as `Engine.update` takes them) and show the settings the engine runs with
(`show_settings`, which never echoes a change back)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSlider,
    QSpinBox,
    QWidget,
)

from realtime.errors import SettingsError
from realtime.settings import MODES, Settings, Spec
from realtime.settings import spec as declared_spec
from realtime.settings import specs as declared_specs

SIZES = ("native", "640x480", "1280x720", "1920x1080")
RATES = ("native", "15", "24", "30", "60")
SLIDER_STEPS = 100


def setting_spec(name: str) -> Spec | None:
    """A setting's declaration (for its range, choices and help), None if the engine lacks it."""
    try:
        return declared_spec(name)
    except SettingsError:
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

        # Implementations come from the engine's registries (the settings' `registry`), so neural
        # stages appear here as they are added there; the device only matters to them.
        self.choices: dict[str, QComboBox] = {}
        engine = QHBoxLayout()
        for name, label in (("swapper", "swap"), ("animator", "animate"), ("device", "device")):
            found = setting_spec(name)
            if found is None:
                continue
            values = list(found.allowed() or ())
            combo = QComboBox()
            combo.addItems(values)
            combo.setToolTip(found.describe())
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


def _value(settings: Settings, name: str):
    found = declared_spec(name)
    holder = settings if found.group is None else getattr(settings, found.group)
    return getattr(holder, name)


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


class SettingsForm(QWidget):
    """The controls of one settings group, made from the declarations (realtime/settings.py):
    a list for a choice (fixed or from a registry), a check box for a switch (a list with
    'auto' when it may be unset), a slider for a number with a range (a spin box with 'auto' when
    it may be unset), a field with a file picker for a path, a text field for the rest (sizes as
    WxH, pairs as x,y). A field added to the group appears here with no GUI change.

    `changed` carries {bare name: value}, as `Engine.update` takes them; `show_settings` shows
    the running settings without echoing them back."""

    changed = pyqtSignal(dict)

    def __init__(self, group: str | None, exclude: tuple[str, ...] = (),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QFormLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.group = group
        self.controls: dict[str, QWidget] = {}
        self.sliders: dict[str, QSlider] = {}
        self.values: dict[str, QLabel] = {}
        self.checks: dict[str, QCheckBox] = {}
        self._scales: dict[str, tuple[float, float, int, bool]] = {}
        self._specs: dict[str, Spec] = {}
        for declared in (declared_specs(group) if group is not None
                         else [s for s in declared_specs() if s.group is None]):
            if declared.name in exclude:
                continue
            row = self._control_for(declared)
            control = self.controls[declared.name]
            control.setToolTip(declared.describe())
            control.setObjectName(declared.name)
            self._specs[declared.name] = declared
            layout.addRow(declared.title, row)

    # -- one control per declaration -----------------------------------------------------------
    def _control_for(self, declared: Spec) -> QWidget:
        name, kind = declared.name, declared.kind
        allowed = declared.allowed()
        if allowed is not None or (kind == "bool" and declared.optional):
            control = QComboBox()
            items = list(allowed) if allowed is not None else ["on", "off"]
            if declared.optional:
                items.insert(0, "auto")
            control.addItems(items)
            control.activated.connect(lambda _, n=name, c=control: self._chose(n, c.currentText()))
        elif kind == "bool":
            control = QCheckBox()
            control.toggled.connect(lambda on, n=name: self.changed.emit({n: bool(on)}))
            self.checks[name] = control
        elif declared.range is not None and kind in ("int", "float") and not declared.optional:
            low, high = declared.range
            whole = kind == "int"
            steps = int(high - low) if whole and high - low <= 200 else SLIDER_STEPS
            control = QSlider(Qt.Orientation.Horizontal)
            control.setRange(0, steps)
            control.valueChanged.connect(lambda step, n=name: self._slid(n, step))
            self._scales[name] = (low, high, steps, whole)
            self.sliders[name] = control
            value = QLabel("")
            value.setMinimumWidth(36)
            self.values[name] = value
            self.controls[name] = control
            return _row(control, value)
        elif declared.range is not None and kind in ("int", "float"):
            low, high = declared.range
            if kind == "int":
                control = QSpinBox()
                control.setRange(int(low) - 1, int(min(high, 2**31 - 1)))
            else:
                control = QDoubleSpinBox()
                control.setDecimals(2)
                control.setSingleStep(0.01 if high - low <= 5 else 1.0)
                control.setRange(low - control.singleStep(), high)
            control.setSpecialValueText("auto")  # shown at the minimum: not set
            control.editingFinished.connect(lambda n=name, c=control: self._spun(n, c))
        else:
            control = QLineEdit()
            control.setPlaceholderText("auto" if declared.optional else "")
            control.editingFinished.connect(lambda n=name, c=control: self._typed(n, c.text()))
            if declared.path is not None:
                pick = QPushButton("…")
                pick.setToolTip("choose a folder" if declared.path == "dir" else "choose a file")
                pick.clicked.connect(lambda _=False, n=name, c=control: self._pick(n, c))
                self.controls[name] = control
                return _row(control, pick)
        self.controls[name] = control
        return control

    # -- user actions -> changes ---------------------------------------------------------------
    def value_of(self, name: str, step: int) -> float | int:
        low, high, steps, whole = self._scales[name]
        value = low + (high - low) * step / steps
        return int(round(value)) if whole else round(value, 4)

    def _slid(self, name: str, step: int) -> None:
        value = self.value_of(name, step)
        self.values[name].setText(_shown(value))
        self.changed.emit({name: value})

    def _chose(self, name: str, text: str) -> None:
        declared = self._specs[name]
        if declared.kind == "bool":
            value = None if text == "auto" else text == "on"
        else:
            value = None if text == "auto" and declared.optional and "auto" not in (
                declared.allowed() or ()) else text
        self.changed.emit({name: value})

    def _spun(self, name: str, control: QSpinBox | QDoubleSpinBox) -> None:
        value = None if control.value() == control.minimum() else control.value()
        self.changed.emit({name: value})

    def _typed(self, name: str, text: str) -> None:
        control = self.controls[name]
        try:
            value = self._specs[name].parse(text, self._specs[name].title)
            self._specs[name].check(value, self._specs[name].title)
        except SettingsError as error:  # said where it was typed; nothing changes
            control.setStyleSheet("background: #f3c4c4;")
            control.setToolTip(str(error))
            return
        control.setStyleSheet("")
        control.setToolTip(self._specs[name].describe())
        self.changed.emit({name: value})

    def _pick(self, name: str, control: QLineEdit) -> None:
        if self._specs[name].path == "dir":
            path = QFileDialog.getExistingDirectory(self, self._specs[name].title, control.text())
        else:
            path, _ = QFileDialog.getOpenFileName(self, self._specs[name].title, control.text())
        if path:
            control.setText(path)
            self._typed(name, path)

    # -- settings -> controls ------------------------------------------------------------------
    def show_settings(self, settings: Settings) -> None:
        for name, control in self.controls.items():
            declared = self._specs[name]
            value = _value(settings, name)
            with _block(control):
                if isinstance(control, QComboBox):
                    if declared.kind == "bool":
                        text = "auto" if value is None else ("on" if value else "off")
                    else:
                        text = "auto" if value is None else str(value)
                    if control.findText(text) < 0:  # e.g. an implementation registered since
                        control.addItem(text)
                    control.setCurrentText(text)
                elif isinstance(control, QCheckBox):
                    control.setChecked(bool(value))
                elif isinstance(control, QSlider):
                    low, high, steps, _ = self._scales[name]
                    control.setValue(round((value - low) / (high - low) * steps))
                    self.values[name].setText(_shown(value))
                elif isinstance(control, QSpinBox | QDoubleSpinBox):
                    control.setValue(control.minimum() if value is None else value)
                elif isinstance(control, QLineEdit) and not control.hasFocus():
                    control.setText("" if value is None else declared.format(value))
                    control.setStyleSheet("")


def _shown(value: float | int) -> str:
    return str(value) if isinstance(value, int) else f"{value:.2f}"


def _row(*widgets: QWidget) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(widgets[0], 1)
    for widget in widgets[1:]:
        layout.addWidget(widget)
    return row


class BlendPanel(SettingsForm):
    """The blend group (and only it): acts on swapped faces, so it is enabled in swap mode."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("blend", parent=parent)

    def set_mode(self, mode: str) -> None:
        self.setEnabled(mode == "swap")


# Each settings group gets a box in the app, made by SettingsForm; the dedicated panels above
# show some settings their own way (or the app decides them), so the forms leave those out.
FORM_TITLES = {"capture": "Input options", "faces": "Faces", "swap": "Swap", "animate": "Animation",
               "blend": "Blending", "output": "Output options", "inference": "Neural models",
               "provenance": "Label"}
SHOWN_ELSEWHERE: dict[str, tuple[str, ...]] = {
    "capture": ("input", "size", "fps", "max_frames"),  # the Mode panel; the app runs until closed
    "swap": ("swapper",),  # the Mode panel
    "animate": ("animator", "calibration"),  # the Mode panel and its Calibrate button
    "output": ("outputs", "mirror",  # the Output panel's buttons
               # the Streaming overlay row (branch issue15), when this build has it
               "overlay_alpha", "overlay_port", "overlay_host", "overlay_obs"),
    "inference": ("device",),  # the Mode panel
}


def form_groups() -> list[tuple[str, str, tuple[str, ...]]]:
    """(group, box title, settings left out) for every settings group, in declaration order:
    a group added to realtime/settings.py gets its box with no GUI change."""
    from realtime.settings import groups

    return [(group, FORM_TITLES.get(group, group.replace("_", " ").capitalize()),
             SHOWN_ELSEWHERE.get(group, ())) for group in groups()]
