"""The Engine: the one object a front end talks to.

    engine = Engine(Settings(source="me.jpg"))
    engine.start()                 # opens the input, the outputs, starts the stage threads
    engine.update(opacity=0.7)     # takes effect on the next frame, capture keeps running
    engine.stats()                 # FPS, latency per stage and end to end, drops, errors
    engine.stop()                  # finishes the outputs (a recording is finalised)

Problems the user must fix (no such file, no face in the photo, no camera) raise FacecamError
from `start` and `update`, before anything changes; problems during the run end it and are kept
in `engine.failure`. `stop` finishes the outputs even when a Ctrl-C or SIGTERM arrives meanwhile:
the signal is held until the files are final, then delivered. An engine can be
started again after `stop`; a file it already wrote is never replaced (the next free name).
"""

from __future__ import annotations

import gc
import logging
import signal
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from realtime import advice
from realtime.assembly import ModeStage, build_stages
from realtime.capture import Source, open_source
from realtime.errors import FacecamError, OutputError
from realtime.faces.source import SourceFace, SourceLibrary
from realtime.frame import Frame
from realtime.metrics import Metrics, Stats
from realtime.output import Output, OutputFormat, open_output, output_is_live, resolve_outputs
from realtime.output.stage import Finisher, OutputStage
from realtime.pipeline import Pipeline, SettingsBox, Stage
from realtime.settings import Settings

if TYPE_CHECKING:
    from realtime.provenance import Provenance

log = logging.getLogger(__name__)


class Engine:
    def __init__(self, settings: Settings | None = None, *, source: Source | None = None,
                 outputs: Sequence[Output] = (), finishers: Sequence[Finisher] = (),
                 output_options: dict | None = None, metrics_window: int = 2000,
                 provenance_session: int | None = None,
                 provenance_key_fps: float | None = None) -> None:
        """settings: what to do. source: a ready Source instead of settings.capture.input.
        outputs: outputs owned by the caller (a GUI preview), kept besides settings.output.
        finishers: last touches on every output picture. output_options: passed to outputs
        that are opened from the settings (e.g. `stats` for the window overlay)."""
        self._settings = settings or Settings()
        self._settings.validate()
        self._given_source = source
        self._extra_outputs = list(outputs)
        self._finishers = list(finishers)
        self.provenance: Provenance | None = None  # made by start()
        # The mark's session id; None: a new random one. The parts of one video processed apart
        # (batch chunks) share one, so the joined file carries one readable payload.
        self._provenance_session = provenance_session
        # A chunk of a video keys the mark by its frames' presentation times, so the joined
        # file's temporal key runs on across the cuts (Provenance.key_fps).
        self._provenance_key_fps = provenance_key_fps
        self._output_options = dict(output_options or {})
        self._metrics_window = metrics_window
        self.metrics = Metrics(window=metrics_window)
        self.sources = SourceLibrary()
        self.source: Source | None = None
        self.failure: BaseException | None = None
        self._box = SettingsBox(self._settings)
        self._pipeline: Pipeline | None = None
        self._output_stage: OutputStage | None = None
        self._spec_outputs: dict[str, Output] = {}
        self._stages: list[Stage] = []
        self._latest: Frame | None = None
        self._latest_lock = threading.Lock()
        self._listeners: list[Callable[[Frame], None]] = []
        self._update_lock = threading.Lock()
        self._stopped = threading.Event()
        self.live = False
        self._still = False
        self.written: list[Path] = []
        """Files this engine has written (kept across restarts: none is ever replaced)."""
        self.file_outputs: list[Output] = []
        """The file outputs of the last run, finished by stop (frames_written, complete)."""
        self.frames_with_faces = 0
        self._face_watch = advice.FaceWatch()

    # -- life cycle ----------------------------------------------------------------------------
    def start(self) -> Engine:
        if self.running:
            raise FacecamError("the engine is already running: stop it before starting it again")
        if self._pipeline is not None and not self._stopped.is_set():
            self.stop()  # the last run ended by itself: finish its outputs before new ones open
        settings = self._settings
        # A restart after stop: a new run with new outputs (the old ones are closed).
        self._stopped.clear()
        self.failure = None
        self._spec_outputs = {}
        self.file_outputs = []
        self.frames_with_faces = 0
        self._face_watch = advice.FaceWatch()
        if self._pipeline is not None:
            self.metrics = Metrics(window=self._metrics_window)
            self._pipeline = None
        try:
            if settings.mode != "passthrough":
                self.sources.get(settings.source)  # a bad photo fails here, before anything opens
            self.source = self._given_source or open_source(settings.capture)
            self._still = self.source.frame_count == 1
            for line in advice.at_start(settings, self.source):
                log.warning(line)
            specs = resolve_outputs(settings.output.outputs, still=self._still)
            live = settings.capture.live
            if live is None:
                live = self.source.live or any(output_is_live(s) for s in specs) or \
                    any(getattr(o, "live", False) for o in self._extra_outputs)
            self.live = bool(live)
            # One assembly for the engine and the benchmarks (realtime/assembly.py); provenance
            # (label + invisible mark) is its last finisher: every output gets the marked picture.
            assembled = build_stages(settings, self.sources, finishers=self._finishers,
                                     current=lambda: self.settings, on_error=self._stage_error,
                                     provenance_session=self._provenance_session,
                                     provenance_key_fps=self._provenance_key_fps)
            self.provenance, self._output_stage = assembled.provenance, assembled.output
            self._stages = assembled.stages
            self._sync_outputs(settings)
        except BaseException:
            self._close_everything()
            raise
        # Start-up's garbage goes now, before the pipeline freezes what is left (pipeline.py).
        gc.collect()
        self._pipeline = Pipeline(self.source, self._stages, self._box, self.metrics, live=self.live,
                                  max_frames=settings.capture.max_frames,
                                  on_output=self._frame_out, on_failure=self._pipeline_failed)
        try:
            self._pipeline.start()
        except BaseException:  # a Ctrl-C arriving as it returns: stop as if it came a moment later
            self.stop()
            raise
        log.info("running: %s -> %s (%s mode)", self.source.name,
                 ", ".join(o.name for o in self._output_stage.outputs) or "nothing",
                 "live" if self.live else "file")
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the input ends (or stop() is called); True when finished."""
        if self._pipeline is None:
            return True
        return self._pipeline.join(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop capturing, let the frames inside reach the outputs, close everything.
        Safe to call more than once and from any thread but the stage threads."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        _shielded(lambda: self._stop(timeout))

    def _stop(self, timeout: float) -> None:
        if self._pipeline is not None:
            self._pipeline.stop()
            if not self._pipeline.join(timeout):
                log.warning("some stages did not stop within %.0f s", timeout)
        self._close_everything()

    def __enter__(self) -> Engine:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._pipeline is not None and not self._pipeline.finished

    @property
    def settings(self) -> Settings:
        return self._box.get()[0]

    @property
    def outputs(self) -> list[Output]:
        """The outputs frames go to now."""
        return self._output_stage.outputs if self._output_stage is not None else []

    @property
    def threads(self) -> list[threading.Thread]:
        return self._pipeline.threads if self._pipeline is not None else []

    def settled_after(self, pts: float) -> bool | None:
        """Whether what this run takes from its first frames and keeps (animate: the neutral
        reference, ModeStage.settled) is final once the frame at `pts` (seconds) has been drawn;
        None while that frame is still on its way (True once the run stops). A batch chunk's
        source reads the video's start frame by frame until True, so its engine keeps what one
        run's engine keeps, from the same frames on every run (realtime/batch/chunks.py)."""
        if self._pipeline is None:
            return False
        if self._stopped.is_set() or self._pipeline.stopping:
            return True
        mode_stage = next((stage for stage in self._stages if isinstance(stage, ModeStage)), None)
        return mode_stage.settled_after(pts) if mode_stage is not None else True

    # -- live changes --------------------------------------------------------------------------
    def update(self, **changes) -> Settings:
        """Change settings while running; they apply from the next frame.

        Takes any setting by its bare name (`opacity=0.5`, `source="me.jpg"`, `mode="animate"`)
        and one action: `calibrate=True` (animate: take the next frame as the neutral face).
        Raises FacecamError, changing nothing, when a value cannot work."""
        with self._update_lock:
            current = self.settings
            if changes.pop("calibrate", False):
                changes["calibration"] = current.animate.calibration + 1
            updated = current.replace(**changes)
            if updated.mode != "passthrough" and (
                    updated.source != current.source or updated.mode != current.mode):
                self.sources.get(updated.source)
            mode_stage = next((stage for stage in self._stages if isinstance(stage, ModeStage)), None)
            if mode_stage is not None:  # a swapper/animator that cannot load is refused here
                mode_stage.prepare(updated)
            if self._output_stage is not None and (
                    updated.output.outputs != current.output.outputs):
                self._sync_outputs(updated)
            self._box.set(updated)
            self._settings = updated
            return updated

    def source_face(self) -> SourceFace | None:
        """The loaded source face (for a GUI thumbnail), None in passthrough."""
        if self.settings.mode == "passthrough":
            return None
        return self.sources.get(self.settings.source)

    def set_face_source(self, x: float, y: float, photo: str | None) -> Settings:
        """Give the face at (x, y) (fractions of the frame, in the newest output frame) its own
        source photo (None: take its own photo away): a change of `face_map` through update(),
        so a photo that cannot work is refused and nothing changes. InputError when no face is
        there."""
        from realtime.errors import InputError
        from realtime.faces.mapping import face_at, map_face

        frame = self.latest_frame()
        face = face_at(frame.faces, x * frame.width, y * frame.height) if frame is not None else None
        if frame is None or face is None:
            raise InputError(f"no face at {x:.2f},{y:.2f} of the picture: click on a face")
        rules = map_face(self.settings.swap.face_map, frame.mapping, face, frame.width, frame.height, photo)
        return self.update(face_map=rules)

    # -- observation ---------------------------------------------------------------------------
    def stats(self) -> Stats:
        if self.running:
            # While running the note follows the mode; after stop the last one stays for the summary.
            self.metrics.note("provider", self._provider_note())
        return self.metrics.snapshot()

    def _provider_note(self) -> str | None:
        """Which ONNX Runtime provider really runs the neural models of the current mode (read
        from the sessions after creation: a requested provider that did not load shows here)."""
        mode_stage = next((stage for stage in self._stages if isinstance(stage, ModeStage)), None)
        if mode_stage is None:
            return None
        sessions = mode_stage.model_sessions()
        if not sessions:
            return None
        providers = sorted({session.provider.removesuffix("ExecutionProvider") for session in sessions})
        return "provider: " + ", ".join(providers) + f" ({len(sessions)} model(s))"

    def latest_frame(self) -> Frame | None:
        """The newest frame that reached the outputs."""
        with self._latest_lock:
            return self._latest

    def add_listener(self, callback: Callable[[Frame], None]) -> None:
        """Call `callback(frame)` on the output thread for every output frame (keep it quick)."""
        self._listeners.append(callback)

    # -- internals -----------------------------------------------------------------------------
    def _output_format(self) -> OutputFormat:
        source = self.source
        if source is None:
            raise RuntimeError("outputs are opened after the input")  # start() opens the input first
        path = getattr(source, "path", None)
        settings = self.settings
        inputs = tuple(str(p) for p in (path, settings.source if settings.mode != "passthrough" else None)
                       if p is not None)
        width, height = source.size
        return OutputFormat(size=(width, height), fps=float(source.fps), live=self.live,
                            source_path=str(path) if path is not None else None,
                            frame_count=source.frame_count, inputs=inputs)

    def _sync_outputs(self, settings: Settings) -> None:
        """Open outputs newly named in the settings, close those no longer named."""
        specs = resolve_outputs(settings.output.outputs, still=self._still)
        provenance, output_stage = self.provenance, self._output_stage
        if provenance is None or output_stage is None:
            raise RuntimeError("outputs are synchronised after the stages are built")
        opened: dict[str, Output] = {}
        try:
            for spec in specs:
                if spec in self._spec_outputs:
                    opened[spec] = self._spec_outputs[spec]
                else:
                    try:
                        opened[spec] = provenance.track(open_output(
                            spec, self._output_format(), settings=settings, written=self.written,
                            **self._output_options))
                        if hasattr(opened[spec], "frames_written"):
                            self.file_outputs.append(opened[spec])
                    except OutputError as error:
                        # At start, no virtual camera must not take the preview (or recording)
                        # down with it; a live change (the GUI's toggle) reports the error instead.
                        starting = self._pipeline is None
                        if spec != "vcam" or not starting or len(specs) + len(self._extra_outputs) < 2:
                            raise
                        log.warning("%s; continuing without the virtual camera", error)
        except BaseException:
            for spec, output in opened.items():
                if spec not in self._spec_outputs:
                    output.close()
            raise
        removed = output_stage.replace_outputs(self._extra_outputs + list(opened.values()))
        self._spec_outputs = opened
        for output in removed:
            self._close_quietly(output)
            self._note_written(output)

    def _frame_out(self, frame: Frame) -> None:
        with self._latest_lock:
            self._latest = frame
            if frame.faces:
                self.frames_with_faces += 1
        mode = self._settings.mode
        if mode != "passthrough" and not frame.placeholder:
            time_s = frame.pts if frame.pts is not None else frame.capture_ns / 1e9
            line = self._face_watch.update(any(not face.held for face in frame.faces), time_s, mode)
            if line is not None:
                (log.warning if self._face_watch.missing else log.info)(line)
                # The GUI's stats show notes: the warning stays there while no face is found.
                self.metrics.note("faces", line if self._face_watch.missing else None)
        for listener in self._listeners:
            try:
                listener(frame)
            except Exception as error:
                self._stage_error("listener", error)

    def _stage_error(self, where: str, error: BaseException) -> None:
        if self.metrics.error(where, error):
            log.warning("%s failed: %s (later errors of this kind are only counted)", where, error)

    def _pipeline_failed(self, error: BaseException) -> None:
        if self.failure is None:
            self.failure = error

    def _close_quietly(self, closable) -> None:
        try:
            closable.close()
        except FacecamError as error:
            if self.failure is None:
                self.failure = error
        except Exception as error:
            log.warning("closing %s: %s", getattr(closable, "name", closable), error)

    def _note_written(self, output: Output) -> None:
        path = getattr(output, "path", None)
        if path is not None and Path(path).exists() and Path(path) not in self.written:
            self.written.append(Path(path))

    def _close_everything(self) -> None:
        if self._stages:  # the summary after stop still names the provider that ran
            self.metrics.note("provider", self._provider_note())
        # "No face found for 2 s" is a live status; the summary counts the frames with faces.
        self.metrics.note("faces", None)
        for stage in self._stages:
            self._close_quietly(stage)
        self._stages = []
        if self._output_stage is not None:
            self._close_quietly(self._output_stage)
        for output in self.file_outputs:
            self._note_written(output)
        if self.provenance is not None:  # the files are final now: add their C2PA manifests
            self.provenance.finish()
        if self.source is not None and self._given_source is None:
            self._close_quietly(self.source)
        self.sources.close()


def _shielded(work: Callable[[], None]) -> None:
    """Run `work` to its end even if SIGINT or SIGTERM arrives meanwhile.

    Python runs signal handlers in the main thread between any two bytecodes, and the default
    SIGINT handler raises KeyboardInterrupt there: in the middle of finishing a recording, that
    leaves a truncated file (and a second Ctrl-C is what impatient users press). While `work`
    runs, both signals are held when their handlers are Python's defaults (KeyboardInterrupt,
    termination); once it is done the defaults are back and each held signal is delivered to
    them. A program's own handler is left alone: it decides (the CLI's ignores a second signal
    while stopping)."""
    if threading.current_thread() is not threading.main_thread():
        work()  # signals are handled on the main thread only: nothing can interrupt this one
        return
    held: list[int] = []

    def hold(signum, frame) -> None:
        if not held:
            log.warning("still finishing the outputs; they are final in a moment")
        if signum not in held:
            held.append(signum)

    previous: dict[int, Callable[[int, FrameType | None], Any] | int | None] = {}
    for name in ("SIGINT", "SIGTERM"):
        number = getattr(signal, name, None)
        if number is None:
            continue
        current = signal.getsignal(number)
        if current not in (signal.default_int_handler, signal.SIG_DFL):
            continue
        try:
            previous[number] = signal.signal(number, hold)
        except (ValueError, OSError):  # not settable here (another interpreter)
            continue
    try:
        work()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for number in held:
            signal.raise_signal(number)
