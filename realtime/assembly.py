"""The stages of the pipeline, assembled in one place.

    detect -> swap | animate | passthrough (ModeStage) -> blend -> output (provenance last)

`Engine.start` and the benchmarks (benchmarks/latency.py) both call `build_stages`, so a
benchmark measures exactly what the engine runs, the provenance finisher (label + invisible mark)
included.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from realtime.faces.source import SourceLibrary
from realtime.frame import Frame
from realtime.output import Output
from realtime.output.stage import Finisher, OutputStage
from realtime.pipeline import Stage

if TYPE_CHECKING:
    from realtime.provenance import Provenance
from realtime.settings import Settings


def apply_threads(settings: Settings) -> None:
    """OpenCV's thread pool size, from `opencv_threads` (process-wide: OpenCV has one pool).

    Measured on d13.mp4 (720x1280, mesh swap, issue 21): OpenCV's default pool (one worker per
    core) spends 6% (pipelined) to 12% (one loop) more CPU per frame than one thread and most of
    the run's kernel time, for no more frames per second: its workers spin and yield between the
    many small calls of a frame, and the pipeline's stage threads already fill the cores."""
    import cv2

    wanted = settings.inference.opencv_threads
    cv2.setNumThreads(wanted if wanted > 0 else -1)  # -1: OpenCV's default


class ModeStage:
    """Position 2 of the pipeline: swap, animate or pass through, as the `mode` setting says.

    Its name follows the mode, so the metrics call the stage by what it does."""

    def __init__(self, settings: Settings, sources: SourceLibrary) -> None:
        self._sources = sources
        self._stages: dict[str, Stage] = {}
        self._prepare_lock = threading.Lock()
        self._current: Stage | None = None
        self._drawn_through = float("-inf")  # the presentation time of the last frame processed
        self.name = settings.mode
        self.configure(settings)

    def _stage_for(self, settings: Settings) -> Stage | None:
        mode = settings.mode
        if mode == "passthrough":
            return None
        with self._prepare_lock:
            return self._build(settings, mode)

    def _build(self, settings: Settings, mode: str) -> Stage:
        if mode not in self._stages:
            if mode == "swap":
                from realtime.swap.stage import SwapStage

                self._stages[mode] = SwapStage(settings, self._sources)
            else:
                from realtime.animate.stage import AnimateStage

                self._stages[mode] = AnimateStage(settings, self._sources)
        return self._stages[mode]

    def configure(self, settings: Settings) -> None:
        apply_threads(settings)  # a live change of opencv_threads lands here (any stage would do)
        self._current = self._stage_for(settings)
        self.name = settings.mode
        if self._current is not None:
            self._current.configure(settings)

    def process(self, frame: Frame) -> Frame:
        try:
            if self._current is None:
                return frame
            return self._current.process(frame)
        finally:
            # Read by a batch chunk's capture thread (settled_after); a failed frame counts too.
            self._drawn_through = frame.pts if frame.pts is not None else float("inf")

    def settled(self) -> bool:
        """What the current stage takes from a run's first frames and keeps is final (the
        animator's neutral reference; a swap keeps nothing of the kind: True)."""
        settled = getattr(self._current, "settled", None)
        return bool(settled()) if callable(settled) else True

    def settled_after(self, pts: float) -> bool | None:
        """`settled()` once the frame at `pts` (seconds) has been through this stage; None while
        it has not (a stage that keeps nothing from the first frames: True at once)."""
        if not callable(getattr(self._current, "settled", None)):
            return True
        if self._drawn_through < pts - 1e-6:
            return None
        return self.settled()

    def model_sessions(self) -> list:
        """The ONNX Runtime sessions of the current swapper or animator (none for mesh)."""
        implementation = getattr(self._current, "swapper", None) or getattr(self._current, "animator", None)
        sessions = getattr(implementation, "model_sessions", None)
        return list(sessions()) if callable(sessions) else []

    def prepare(self, settings: Settings) -> None:
        """Load what `settings` needs (a mode's first stage, a new swapper or animator) now, on
        the caller's thread: a FacecamError here leaves the running stage untouched."""
        mode = settings.mode
        if mode == "passthrough":
            return
        with self._prepare_lock:
            existing = self._stages.get(mode)
            if existing is None:
                self._build(settings, mode)  # built here, configured on the stage thread
                return
        prepare = getattr(existing, "prepare", None)
        if callable(prepare):  # outside the lock: the running stage keeps going meanwhile
            prepare(settings)

    def close(self) -> None:
        for stage in self._stages.values():
            stage.close()
        self._stages.clear()


@dataclass
class Stages:
    """What `build_stages` made: the stages in pipeline order (the output stage last) and the
    parts a caller reaches into."""

    stages: list[Stage]
    mode: ModeStage
    output: OutputStage
    provenance: Provenance
    """The last finisher; `track` files, `finish` signs them."""

    def close(self) -> None:
        """Close every stage (outputs included), then sign the files written (C2PA); the first
        error of a close is raised after all are closed."""
        failure: BaseException | None = None
        for stage in self.stages:
            try:
                stage.close()
            except Exception as error:
                failure = failure or error
        self.provenance.finish()
        if failure is not None:
            raise failure


def build_stages(settings: Settings, sources: SourceLibrary, *, outputs: Sequence[Output] = (),
                 finishers: Sequence[Finisher] = (),
                 current: Callable[[], Settings] | None = None,
                 on_error: Callable[[str, BaseException], None] | None = None,
                 provenance_session: int | None = None,
                 provenance_key_fps: float | None = None) -> Stages:
    """The engine's stages for `settings`.

    sources: where the source photo is loaded (and cached). outputs: the outputs to start with
    (more can be swapped in with `Stages.output.replace_outputs`). finishers: last touches before
    provenance, which always comes last so every output gets the marked picture. current: the
    settings now (read by provenance on every frame; default: those the output stage was last
    configured with). provenance_session: the invisible mark's session id (None: a new one; the
    chunks of one batch job share one). provenance_key_fps: key the mark by presentation time
    at this frame rate (batch chunks: see Provenance.key_fps). A stage that fails to build closes those built before it."""
    from realtime.blend.stage import BlendStage
    from realtime.faces.stage import DetectStage
    from realtime.provenance import Provenance

    built: list[Stage] = []
    output_stage: OutputStage | None = None
    provenance = Provenance(current or (lambda: output_stage.settings if output_stage else settings),
                            session=provenance_session, key_fps=provenance_key_fps)
    try:
        output_stage = OutputStage(settings, outputs=outputs, finishers=[*finishers, provenance],
                                   on_error=on_error)
        detect = DetectStage(settings)
        built.append(detect)
        mode = ModeStage(settings, sources)
        built.append(mode)
        built.append(BlendStage(settings))
        built.append(output_stage)
    except BaseException:
        for stage in built:
            with contextlib.suppress(Exception):
                stage.close()
        raise
    return Stages(stages=built, mode=mode, output=output_stage, provenance=provenance)
