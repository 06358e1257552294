"""The bridge between the window and `realtime.Engine`.

The UI thread only posts requests here and never blocks: one control thread
(`facecam-gui-control`) starts, restarts and updates the engine, in the order asked, and reports
back through Qt signals (delivered on the UI thread). Frames reach the UI the same way: the engine
calls our listener on its output thread, which keeps the newest frame and emits `frame_ready` only
when the UI has taken the previous one, so a slow UI never builds a queue of frames.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from PyQt6.QtCore import QObject, pyqtSignal

from realtime.engine import Engine
from realtime.errors import FacecamError
from realtime.frame import Frame
from realtime.metrics import Stats
from realtime.settings import Settings

log = logging.getLogger(__name__)

# Changes that need a new capture (the engine applies everything else live).
RESTART_SETTINGS = frozenset({"input", "size", "fps", "live", "loop", "max_frames"})

EngineFactory = Callable[[Settings], Engine]

# Changes that can switch on a neural model (checked for missing files before they apply).
MODEL_SETTINGS = frozenset({"mode", "swapper", "animator", "enhancer", "swap_model", "dfm_model",
                            "models_dir"})


def describe(error: BaseException) -> str:
    """Plain words for the window: FacecamError messages are written for users already."""
    if isinstance(error, FacecamError):
        return str(error)
    return f"internal error: {type(error).__name__}: {error} (please report it)"


class EngineController(QObject):
    frame_ready = pyqtSignal()
    """A newer frame can be taken with `take_frame()`."""
    running_changed = pyqtSignal(bool)
    settings_changed = pyqtSignal(object)
    """The settings the engine runs with now (a Settings), after every accepted change."""
    source_changed = pyqtSignal(object)
    """The loaded source face (a SourceFace), or None in passthrough / when none is loaded."""
    error = pyqtSignal(str)
    """Something the user asked for could not be done; the message says why, in plain words."""
    busy_changed = pyqtSignal(bool)
    message = pyqtSignal(str)
    """Something done that the user should hear of (a snapshot saved)."""
    models_missing = pyqtSignal(object)
    """{"swapper"|"animator": {name: why}}: implementations whose model files are not on disk
    (the window marks them in its choices: gui/model_choices.py)."""

    def __init__(self, settings: Settings, engine_factory: EngineFactory | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._factory = engine_factory or (lambda s: Engine(s))
        self.engine: Engine | None = None
        self._jobs: queue.Queue = queue.Queue()
        self._pending: dict = {}
        self._pending_lock = threading.Lock()
        self._frame: Frame | None = None
        self._frame_lock = threading.Lock()
        self._frame_pending = False
        self._closed = False
        self._thread = threading.Thread(target=self._work, name="facecam-gui-control", daemon=True)
        self._thread.start()

    # -- requests (UI thread; none of them blocks) ----------------------------------------------
    @property
    def settings(self) -> Settings:
        """The settings as last accepted (what the engine runs with, or will start with)."""
        return self._settings

    def start(self) -> None:
        self._post(self._do_restart, {})

    def update(self, **changes) -> None:
        """Apply setting changes in the background: live ones on the next frame, capture ones
        (input, size, fps) by restarting capture. Rapid changes (a slider drag) coalesce."""
        if any(name in RESTART_SETTINGS for name in changes):
            self._post(self._do_restart, changes)
            return
        with self._pending_lock:
            first = not self._pending
            self._pending.update(changes)
        if first:
            self._post(self._do_pending)

    def set_output(self, on: bool, spec: str, same_kind: Callable[[str], bool] | None = None) -> None:
        """Switch one output on or off. Worked out on the control thread from the outputs in
        force then, so quick toggles of different outputs never undo each other.
        same_kind: which existing outputs this one replaces (default: equal to `spec`)."""
        same_kind = same_kind or (lambda other: other == spec)
        self._post(self._do_set_output, on, spec, same_kind)

    def calibrate(self) -> None:
        self._post(self._do_update, {"calibrate": True})

    def call(self, function: Callable[[], object]) -> None:
        """Run `function` on the control thread (slow side work, such as writing a snapshot);
        text it returns is emitted as `message`, an exception it raises as `error`."""
        self._post(self._do_call, function)

    def take_frame(self) -> Frame | None:
        """The newest output frame (UI thread); the next one will be signalled again."""
        with self._frame_lock:
            self._frame_pending = False
            return self._frame

    def stats(self) -> Stats | None:
        engine = self.engine
        return engine.stats() if engine is not None else None

    def shutdown(self, timeout: float = 15.0) -> bool:
        """Stop the engine and the control thread (called when the window closes; this one waits,
        since nothing is left to draw). True when every thread has ended."""
        if not self._closed:
            self._closed = True
            self._jobs.put(None)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- control thread ----------------------------------------------------------------------
    def _post(self, function: Callable, *args) -> None:
        if not self._closed:
            self._jobs.put((function, args))

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                break
            function, args = job
            self.busy_changed.emit(True)
            try:
                function(*args)
            except Exception as error:  # keep the control thread alive whatever happens
                log.warning("gui: %s", describe(error))
                self.error.emit(describe(error))
            finally:
                self.busy_changed.emit(self._jobs.qsize() > 0)
        self._stop_engine()
        self.running_changed.emit(False)

    def _on_frame(self, frame: Frame) -> None:
        """Engine listener, on the engine's output thread: keep the newest, signal once."""
        with self._frame_lock:
            self._frame = frame
            signal = not self._frame_pending
            self._frame_pending = True
        if signal:
            self.frame_ready.emit()

    def _stop_engine(self) -> None:
        engine, self.engine = self.engine, None
        if engine is not None:
            engine.stop()
            if engine.failure is not None:
                self.error.emit(describe(engine.failure))

    def _start_engine(self, settings: Settings) -> None:
        engine = self._factory(settings)
        engine.add_listener(self._on_frame)
        engine.start()
        self.engine = engine
        self._settings = engine.settings

    def _do_restart(self, changes: dict) -> None:
        previous = self._settings
        try:
            wanted = previous.replace(**changes)
        except FacecamError as error:
            self.error.emit(describe(error))
            return
        self._stop_engine()
        self.running_changed.emit(False)
        try:
            self._start_engine(wanted)
        except FacecamError as error:
            self.error.emit(describe(error))
            fallback = self._fallback_for(wanted, previous, error)
            if fallback is None:
                self.settings_changed.emit(self._settings)
                return
            try:
                self._start_engine(fallback)
            except FacecamError as second:
                self.error.emit(describe(second))
                self.settings_changed.emit(self._settings)
                return
        self.running_changed.emit(True)
        self.settings_changed.emit(self._settings)
        self._emit_source()

    def _fallback_for(self, wanted: Settings, previous: Settings, error: FacecamError) -> Settings | None:
        """What to run instead when `wanted` cannot start: the previous settings when they
        differ, else the same without the part that failed (a vanished photo, a bad output)."""
        if wanted != previous:
            return previous
        if wanted.source is not None:
            return wanted.replace(source=None)
        if wanted.output.outputs:
            return wanted.replace(outputs=())
        return None

    def _do_set_output(self, on: bool, spec: str, same_kind: Callable[[str], bool]) -> None:
        outputs = tuple(o for o in self._settings.output.outputs if not same_kind(o))
        if on:
            outputs += (spec,)
        self._do_update({"outputs": outputs})

    def _do_call(self, function: Callable[[], object]) -> None:
        result = function()
        if isinstance(result, str):
            self.message.emit(result)

    def _do_pending(self) -> None:
        with self._pending_lock:
            changes, self._pending = self._pending, {}
        if changes:
            self._do_update(changes)

    def _refuse_missing_models(self, changes: dict) -> bool:
        """A change that would switch on a model that is not downloaded is refused before it
        reaches the engine: one line with the fetch command, the engine keeps running what
        worked, and the choices are marked (issue 14)."""
        if not MODEL_SETTINGS & changes.keys():
            return False
        from realtime.inference.requirements import missing_choices, missing_models

        try:
            wanted = self._settings.replace(**{k: v for k, v in changes.items() if k != "calibrate"})
            lines = missing_models(wanted)
            if not lines or missing_models(self._settings):
                return False
            self.models_missing.emit(missing_choices(self._settings))
        except FacecamError:
            return False  # the engine's own validation says what is wrong
        except Exception as error:  # never let the check itself stop the engine
            log.warning("gui: model check failed: %s", error)
            return False
        self.error.emit(f"{lines[0]}; still running {self._settings.mode} with "
                        f"{self._settings.swap.swapper if self._settings.mode == 'swap' else self._settings.animate.animator}")
        self.settings_changed.emit(self._settings)
        return True

    def check_models(self) -> None:
        """Emit `models_missing` for the current model folder (the window marks its choices)."""
        from realtime.inference.requirements import missing_choices

        self._post(lambda: self.models_missing.emit(missing_choices(self._settings)))

    def _do_update(self, changes: dict) -> None:
        if self._refuse_missing_models(changes):
            return
        engine = self.engine
        if engine is not None and engine.failure is not None and not engine.running:
            # The run ended on an error (a model that failed to load, an input that broke):
            # the user's next change starts it again with that change.
            changes = {k: v for k, v in changes.items() if k != "calibrate"}
            self._do_restart(changes)
            return
        try:
            if engine is not None:
                self._settings = engine.update(**changes)
            else:
                changes = {k: v for k, v in changes.items() if k != "calibrate"}
                self._settings = self._settings.replace(**changes)
        except FacecamError as error:
            if len(changes) > 1:  # keep the changes that can work
                for name, value in changes.items():
                    self._do_update({name: value})
                return
            self.error.emit(describe(error))
            self.settings_changed.emit(self._settings)
            return
        self.settings_changed.emit(self._settings)
        if {"source", "mode", "source_face"} & changes.keys():
            self._emit_source()

    def _emit_source(self) -> None:
        engine = self.engine
        try:
            face = engine.source_face() if engine is not None else None
        except FacecamError:
            face = None
        self.source_changed.emit(face)
