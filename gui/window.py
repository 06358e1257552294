"""The main window: preview and stats on the left, source and controls on the right."""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path

import cv2
import numpy as np
from PyQt6.QtCore import QByteArray, Qt, QTimer
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from gui.controller import EngineController, EngineFactory
from gui.controls import BlendPanel, ModePanel, OutputPanel, SettingsForm, form_groups
from gui.model_choices import mark_missing
from gui.overlay_row import OverlayRow
from gui.preview import PreviewWidget
from gui.source_panel import PHOTO_FILTER, SourcePanel, is_picture
from gui.state import GuiState, Store, default_media_dir, gui_settings
from gui.stats_panel import StatsPanel
from gui.wheel_guard import WheelGuard
from realtime.output import PICTURE_SUFFIXES as OUTPUT_PICTURES
from realtime.output import VIDEO_SUFFIXES
from realtime.settings import Settings, source_face_index

STATS_INTERVAL_MS = 250
NOT_FILES = ("vcam", "window", "null", "auto")


def _group(title: str, widget: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(4, 8, 4, 4)
    layout.addWidget(widget)
    return box


def recording_path(outputs: tuple[str, ...]) -> str | None:
    """The video file being recorded to, if any."""
    return next((o for o in outputs if o not in NOT_FILES and Path(o).suffix.lower() in VIDEO_SUFFIXES),
                None)


BRIEF_CHARS = 140


def brief(text: str, limit: int = BRIEF_CHARS) -> tuple[str, str | None]:
    """(what the banner shows, the full text when that was shortened, else None): a long
    message is cut at the end of its first clause (before " (" or "; "), else at a word."""
    if len(text) <= limit:
        return text, None
    cuts = [i for i in (text.find(" ("), text.find("; ")) if 20 <= i <= limit]
    cut = min(cuts) if cuts else text.rfind(" ", 0, limit)
    return text[:cut if cut > 0 else limit].rstrip(" :;,") + " …", text


def write_png(path: Path, picture) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(".png", picture)
    if not ok:
        raise OSError(f"cannot encode a PNG for {path}")
    data.tofile(str(path))  # tofile: works with non-ASCII paths, unlike imwrite on Windows
    return f"snapshot saved: {path}"


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings | None = None, store: Store | None = None,
                 engine_factory: EngineFactory | None = None) -> None:
        super().__init__()
        self.store = store or Store()
        self.state: GuiState = self.store.load_gui()
        settings = gui_settings(settings if settings is not None else self.store.load_settings())
        self.controller = EngineController(settings, engine_factory, parent=self)
        self.errors: list[str] = []
        self._record_started: float | None = None
        self._failure_shown: object = None
        self._closing = False
        # Capture-to-screen time of every frame shown: the preview's own latency, on the engine's
        # clock (frame.capture_ns); shown beside the engine's numbers.
        self.display_lags_ms: deque[float] = deque(maxlen=300)
        self._shown_times: deque[float] = deque(maxlen=300)
        self.setAcceptDrops(True)
        self.setWindowTitle("facecam")
        self._build()
        self._connect()
        self._actions()
        self._restore_layout()
        self.source_panel.set_recent(self.state.recent_sources)
        self._reflect(settings)
        for problem in self.store.problems:
            self.show_error(problem)
        self.controller.start()

    # -- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        settings = self.controller.settings
        self.preview = PreviewWidget()
        self.banner = QLabel("")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background: #7a1f1f; color: white; padding: 6px;")
        self.banner_details = QPushButton("Details")
        self.banner_details.setCheckable(True)
        self.banner_details.toggled.connect(self._show_details)
        self.banner_close = QPushButton("Dismiss")
        self.banner_close.clicked.connect(self.dismiss_error)
        banner_row = QWidget()
        banner_layout = QHBoxLayout(banner_row)
        banner_layout.setContentsMargins(0, 0, 0, 0)
        banner_layout.addWidget(self.banner, 1)
        banner_layout.addWidget(self.banner_details)
        banner_layout.addWidget(self.banner_close)
        self._banner_text = ("", None)
        self.banner_row = banner_row
        banner_row.hide()
        self.stats_panel = StatsPanel()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(banner_row)
        left_layout.addWidget(self.preview, 1)
        self.stats_box = _group("Stats", self.stats_panel)
        left_layout.addWidget(self.stats_box)

        self.source_panel = SourcePanel()
        self.mode_panel = ModePanel(settings)
        self.output_panel = OutputPanel()
        column = QWidget()
        column_layout = QVBoxLayout(column)
        column_layout.addWidget(_group("Source", self.source_panel))
        column_layout.addWidget(_group("Mode and input", self.mode_panel))
        # A box per settings group, its controls made from the declarations (gui/controls.py):
        # a setting added to realtime/settings.py shows up here with no GUI change.
        self.forms: dict[str, SettingsForm] = {}
        self.form_boxes: dict[str, QWidget] = {}
        for group, title, elsewhere in form_groups():
            form = BlendPanel() if group == "blend" else SettingsForm(group, exclude=elsewhere)
            box = _group(title, form)
            box.setVisible(bool(form.controls))  # only when the engine has such options
            column_layout.addWidget(box)
            self.forms[group], self.form_boxes[group] = form, box
        self.blend_panel = self.forms["blend"]
        self.blend_box = self.form_boxes["blend"]
        self.animate_form, self.animate_box = self.forms["animate"], self.form_boxes["animate"]
        self.neural_form, self.neural_box = self.forms["inference"], self.form_boxes["inference"]
        self.overlay_row = OverlayRow()
        column_layout.addWidget(_group("Streaming overlay", self.overlay_row))
        column_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(column)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(column.sizeHint().width() + 20)
        self.scroll = scroll
        # The wheel scrolls the panel; it changes a control only once that control has focus.
        self.wheel_guard = WheelGuard(scroll)
        self.wheel_guard.install(column)
        # Output (virtual camera, record, snapshot) stays in view below the scrolling panel:
        # it is what a new user looks for first, and it must not sit below the fold.
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(scroll, 1)
        right_layout.addWidget(_group("Output", self.output_panel))

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.setCentralWidget(self.splitter)
        self.busy = QLabel("")
        self.statusBar().addPermanentWidget(self.busy)
        self.resize(1280, 760)
        self.stats_timer = QTimer(self)
        self.stats_timer.setInterval(STATS_INTERVAL_MS)
        self.stats_timer.timeout.connect(self._poll)
        self.stats_timer.start()
        self.save_timer = QTimer(self)
        self.save_timer.setSingleShot(True)
        self.save_timer.setInterval(1000)
        self.save_timer.timeout.connect(self.save_state)

    def _connect(self) -> None:
        c = self.controller
        c.frame_ready.connect(self._show_frame)
        c.settings_changed.connect(self._reflect)
        c.source_changed.connect(self._source_loaded)
        c.error.connect(self.show_error)
        c.models_missing.connect(lambda missing: mark_missing(self.mode_panel.choices, missing))
        c.check_models()  # models not downloaded are marked in the swapper/animator choices
        c.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        c.running_changed.connect(self._running)
        c.busy_changed.connect(lambda busy: self.busy.setText("working…" if busy else ""))
        self.source_panel.source_chosen.connect(self.choose_source)
        self.source_panel.face_chosen.connect(lambda index: self.change({"source_face": index}))
        self.preview.clicked.connect(self.map_face_at)
        self.mode_panel.changed.connect(self.change)
        self.mode_panel.calibrate.connect(c.calibrate)
        self.output_panel.changed.connect(self.change)
        for form in self.forms.values():
            form.changed.connect(self.change)
        self.output_panel.vcam_toggled.connect(self.set_vcam)
        self.output_panel.record_toggled.connect(self.set_recording)
        self.output_panel.snapshot.connect(self.snapshot)
        self.overlay_row.toggled.connect(lambda on: self.controller.set_output(on, "overlay"))
        self.overlay_row.changed.connect(self.change)

    def _actions(self) -> None:
        def add(text: str, keys: str, slot) -> QAction:
            action = QAction(text, self)
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(slot)
            self.addAction(action)
            return action

        add("Open photo", "Ctrl+O", self.source_panel.open_dialog)
        add("Virtual camera", "V", lambda: self.set_vcam("vcam" not in self.controller.settings.output.outputs))
        add("Record", "R", lambda: self.set_recording(self._recording() is None))
        add("Snapshot", "P", self.snapshot)
        add("Mirror", "M", lambda: self.change({"mirror": not self.controller.settings.output.mirror}))
        add("Calibrate", "C", self.controller.calibrate)
        add("Stats", "S", self.toggle_stats)
        add("Quit", "Ctrl+Q", self.close)
        for number, mode in enumerate(("swap", "animate", "passthrough"), start=1):
            add(mode, str(number), lambda _=False, m=mode: self._mode_key(m))

    def _mode_key(self, mode: str) -> None:
        if self.mode_panel.mode_buttons[mode].isEnabled():
            self.change({"mode": mode})

    def _restore_layout(self) -> None:
        if self.state.geometry:
            self.restoreGeometry(QByteArray.fromHex(self.state.geometry.encode()))
        if self.state.splitter:
            self.splitter.restoreState(QByteArray.fromHex(self.state.splitter.encode()))
        self.stats_box.setVisible(self.state.stats_visible)

    # -- requests ----------------------------------------------------------------------------
    def change(self, changes: dict) -> None:
        self.controller.update(**changes)
        self.save_timer.start()

    def choose_source(self, path: str | None) -> None:
        if path is not None:
            path = str(Path(path).expanduser().resolve())
        self.change({"source": path})

    def map_face_at(self, x: float, y: float, photo: str | None = None) -> bool:
        """Click-to-map (issue 18): the face under (x, y) (fractions of the picture) wears a photo
        chosen now (or `photo`), as a face map rule that then follows that person. The change
        goes through Engine.update like any other: a photo that cannot work is refused."""
        from realtime.faces.mapping import face_at, map_face

        engine = self.controller.engine
        frame = engine.latest_frame() if engine is not None else None
        face = face_at(frame.faces, x * frame.width, y * frame.height) if frame is not None else None
        if frame is None or face is None:
            self.statusBar().showMessage("no face there: click on a face to give it its own photo", 8000)
            return False
        if photo is None:
            photo, _ = QFileDialog.getOpenFileName(self, "Photo for this face", "", PHOTO_FILTER)
            if not photo:
                return False
        rules = map_face(self.controller.settings.swap.face_map, frame.mapping, face,
                         frame.width, frame.height, str(Path(photo).expanduser().resolve()))
        self.change({"face_map": rules})
        return True

    def set_vcam(self, on: bool) -> None:
        if on:
            self.output_panel.vcam_state.setText("starting…")
        self.controller.set_output(on, "vcam")

    def media_folder(self) -> tuple[Path, str]:
        """Where recordings and snapshots go, and words to add to the message saying so when
        that is not the usual ~/Videos/facecam (no Videos or Movies folder in the home)."""
        if self.state.media_dir:
            return Path(self.state.media_dir), ""
        folder = default_media_dir()
        if folder.parent.name in ("Videos", "Movies"):
            return folder, ""
        return folder, f" (there is no {Path.home() / 'Videos'} folder, so files go to {folder})"

    def set_recording(self, on: bool) -> None:
        folder, note = self.media_folder()
        path = str(folder / time.strftime("facecam-%Y%m%d-%H%M%S.mp4"))
        if on:
            self.statusBar().showMessage(f"recording to {path}{note}", 15000)
        self.controller.set_output(on, path, lambda other: recording_path((other,)) is not None)

    def snapshot(self) -> None:
        picture = self.preview.picture
        if picture is None:
            self.show_error("no picture to save yet")
            return
        folder, note = self.media_folder()
        path = folder / time.strftime("facecam-%Y%m%d-%H%M%S.png")
        self.controller.call(lambda: write_png(path, picture) + note)

    def toggle_stats(self) -> None:
        self.state.stats_visible = not self.stats_box.isVisible()
        self.stats_box.setVisible(self.state.stats_visible)

    def show_error(self, text: str) -> None:
        """Plain words in the window, once: a banner that stays until dismissed, with a long
        message (the virtual camera's, ~500 characters) cut to its first clause and the rest
        behind "Details"."""
        self.errors.append(text)
        short, details = brief(text)
        self._banner_text = (short, details)
        self.banner_details.setVisible(details is not None)
        self.banner_details.setChecked(False)
        self._show_details(False)
        self.banner_row.show()
        if "virtual camera" in text:
            self.output_panel.vcam_state.setText("unavailable")
            self.output_panel.vcam_state.setToolTip(text)

    def _show_details(self, on: bool) -> None:
        short, details = self._banner_text
        self.banner.setText(details if on and details else short)

    def internal_error(self, kind, value, trace) -> None:
        """sys.excepthook while the app runs: a bug in a slot is shown, not a crash (PyQt would
        abort the process otherwise); the traceback goes to the log."""
        import logging
        import traceback

        logging.getLogger(__name__).error("".join(traceback.format_exception(kind, value, trace)))
        self.show_error(f"internal error: {kind.__name__}: {value} (please report it)")

    def dismiss_error(self) -> None:
        self.banner_row.hide()

    # -- what the engine says ----------------------------------------------------------------
    def _recording(self) -> str | None:
        return recording_path(self.controller.settings.output.outputs)

    def _show_frame(self) -> None:
        frame = self.controller.take_frame()
        if frame is not None:
            self.preview.show_picture(frame.result, frame.mapping)
            now = time.monotonic_ns()
            self.display_lags_ms.append((now - frame.capture_ns) / 1e6)
            self._shown_times.append(now / 1e9)

    def preview_rate(self) -> tuple[float, float]:
        """(frames shown per second over the last 2 s, median capture-to-screen lag in ms)."""
        now = time.monotonic()
        recent = [t for t in self._shown_times if t >= now - 2.0]
        rate = (len(recent) - 1) / (recent[-1] - recent[0]) if len(recent) > 2 and recent[-1] > recent[0] else 0.0
        lags = list(self.display_lags_ms)[-max(1, len(recent)):]
        return rate, (float(np.median(lags)) if lags else 0.0)

    def _running(self, running: bool) -> None:
        if not running and not self._closing:
            self.preview.show_message("starting the input…")

    def _reflect(self, settings: Settings) -> None:
        engine = self.controller.engine
        device = None
        if engine is not None:
            device = next((getattr(o, "device", None) for o in engine.outputs
                           if o.name.startswith("virtual camera")), None)
        recording = recording_path(settings.output.outputs)
        if recording and self._record_started is None:
            self._record_started = time.monotonic()
        elif not recording:
            self._record_started = None
            self.output_panel.record_state.setText("not recording")
        self.mode_panel.show_settings(settings)
        for group, form in self.forms.items():
            form.show_settings(settings)
            # What acts on a mode only is greyed out in the others.
            enabled = {"blend": settings.mode == "swap", "swap": settings.mode == "swap",
                       "animate": settings.mode == "animate",
                       "faces": settings.mode != "passthrough"}.get(group, True)
            self.form_boxes[group].setEnabled(enabled)
        self.output_panel.show_settings(settings, device, recording)
        overlay_url = None
        if engine is not None:
            overlay_url = next((getattr(o, "url", None) for o in engine.outputs if o.name == "overlay"), None)
        self.overlay_row.show_settings(settings, overlay_url)
        self._update_title(settings)

    def _update_title(self, settings: Settings) -> None:
        engine = self.controller.engine
        where = engine.source.name if engine is not None and engine.source is not None else settings.capture.input
        if settings.mode == "passthrough":
            self.setWindowTitle(f"facecam — passthrough — {where}")
        else:
            name = Path(settings.source).name if settings.source else "built-in face"
            self.setWindowTitle(f"facecam — {settings.mode}: {name} — {where}")

    def _source_loaded(self, source_face) -> None:
        settings = self.controller.settings
        self.source_panel.show_source(source_face, settings.mode,
                                      source_face_index(settings.swap.source_face))
        if settings.source and source_face is not None:
            self.state.remember_source(settings.source)
            self.source_panel.set_recent(self.state.recent_sources)
        self._update_title(settings)

    def _poll(self) -> None:
        engine = self.controller.engine
        if engine is None:
            return
        self.stats_panel.show_stats(engine.stats(), self.preview_rate(), engine.settings)
        if self._record_started is not None:
            elapsed = int(time.monotonic() - self._record_started)
            self.output_panel.record_state.setText(
                f"● {elapsed // 60:02d}:{elapsed % 60:02d}  {Path(self._recording() or '').name}")
        if engine.failure is not None and engine.failure is not self._failure_shown:
            self._failure_shown = engine.failure
            self.show_error(f"stopped: {engine.failure}")
            self.preview.clear("stopped: change a setting or the input to start again")

    # -- drag and drop -----------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        for url in event.mimeData().urls():
            if not url.isLocalFile():
                continue
            path = url.toLocalFile()
            self.open_dropped(path)
            event.acceptProposedAction()
            return

    def open_dropped(self, path: str) -> None:
        """A dropped picture becomes the source; a dropped video becomes the input."""
        suffix = Path(path).suffix.lower()
        if is_picture(path) or suffix in OUTPUT_PICTURES:
            self.choose_source(path)
        elif suffix in VIDEO_SUFFIXES:
            self.change({"input": path})
        else:
            self.show_error(f"cannot use {Path(path).name}: drop a photo (JPEG, PNG...) or a video")

    # -- closing -----------------------------------------------------------------------------
    def save_state(self) -> None:
        self.state.geometry = bytes(self.saveGeometry().toHex()).decode()
        self.state.splitter = bytes(self.splitter.saveState().toHex()).decode()
        self.store.save(self.controller.settings, self.state)

    def closeEvent(self, event) -> None:  # noqa: N802
        self._closing = True
        self.stats_timer.stop()
        self.save_timer.stop()
        self.save_state()
        self.preview.clear("stopping…")
        self.controller.shutdown()
        super().closeEvent(event)
