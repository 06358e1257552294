"""Stages as threads, and the channels between them.

capture -> detect -> swap|animate -> blend -> output; every arrow is a thread boundary.

Live mode (cameras, windows, virtual cameras): each arrow is a one-slot "latest value" channel.
A stage that is still busy when a newer frame arrives never builds a queue: the older frame is
overtaken, dropped and counted, so latency stays bounded (about the sum of the stage times) and
throughput is set by the slowest stage.

File mode (video in, video out): each arrow is a small blocking queue. Nothing is dropped,
frames keep their order, and output frame i is input frame i.

Every stage has the same form (`Stage`): `configure(settings)` between frames whenever the
settings changed, `process(frame) -> frame`, `close()`. A stage that raises does not stop the
pipeline: the frame goes on without that stage's work, the error is counted, and logged the
first time it happens. A `FacecamError` (a problem the user must fix) stops the run instead.

Placeholder frames (made up by a camera that is reconnecting) skip the face stages and go straight
to the last stage, so the outputs keep their frame rate; a source's `note` (a camera slower than
asked, reconnecting) is copied into the stats.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol

from realtime.capture import Source
from realtime.errors import FacecamError
from realtime.frame import Frame
from realtime.metrics import Metrics
from realtime.settings import Settings

log = logging.getLogger(__name__)


class Stage(Protocol):
    name: str

    def configure(self, settings: Settings) -> None: ...

    def process(self, frame: Frame) -> Frame: ...

    def close(self) -> None: ...


class _End:
    def __repr__(self) -> str:
        return "END"


END = _End()
"""What a channel yields once it is closed and empty."""


class LatestSlot:
    """Live-mode channel: holds one frame; a newer frame replaces an unread one."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._item: Frame | None = None
        self._closed = False

    def put(self, item: Frame) -> bool:
        """Store `item`; True when it replaced a frame nobody had taken (a drop)."""
        with self._condition:
            replaced = self._item is not None
            self._item = item
            self._condition.notify()
            return replaced

    def get(self) -> Frame | _End:
        with self._condition:
            while self._item is None and not self._closed:
                self._condition.wait()
            if self._item is None:
                return END
            item, self._item = self._item, None
            return item

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify_all()


class BoundedQueue:
    """File-mode channel: blocks the producer when full; never drops, keeps order."""

    def __init__(self, capacity: int = 4) -> None:
        self._condition = threading.Condition()
        self._items: list[Frame] = []
        self._capacity = capacity
        self._closed = False

    def put(self, item: Frame) -> bool:
        with self._condition:
            while len(self._items) >= self._capacity and not self._closed:
                self._condition.wait()
            self._items.append(item)
            self._condition.notify_all()
            return False

    def get(self) -> Frame | _End:
        with self._condition:
            while not self._items and not self._closed:
                self._condition.wait()
            if not self._items:
                return END
            item = self._items.pop(0)
            self._condition.notify_all()
            return item

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify_all()


Channel = LatestSlot | BoundedQueue


class SettingsBox:
    """The current settings and a version number that changes with them (thread-safe)."""

    def __init__(self, settings: Settings) -> None:
        self._lock = threading.Lock()
        self._settings = settings
        self._version = 0

    def get(self) -> tuple[Settings, int]:
        with self._lock:
            return self._settings, self._version

    def set(self, settings: Settings) -> None:
        with self._lock:
            self._settings = settings
            self._version += 1


class _FrozenHeap:
    """`gc.freeze()` while any pipeline runs, `gc.unfreeze()` once none does.

    Python's cyclic garbage collector stops every thread that needs the interpreter while it
    walks the objects of a generation; a full collection walks everything start-up made (the
    modules of MediaPipe, OpenCV, matplotlib..., hundreds of thousands of objects), several
    times a second at 30 frames of small allocations each. Freezing after start-up moves those
    objects out of the collector's sight, so collections only walk what the frames make (measured:
    +19% frames per second in file mode, issue 21). Garbage made while running is still found.
    Objects frozen stay until unfrozen: so the heap is unfrozen again when the last pipeline ends
    (an engine started and stopped many times does not pile up what its old runs left).
    The collector is one per process, so this is too."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0

    def enter(self) -> None:
        with self._lock:
            self._running += 1
            # O(1): the objects move to the permanent generation. No gc.collect() here (it walks
            # everything, ~50 ms): start-up garbage, if any, is frozen until the pipeline ends.
            gc.freeze()

    def leave(self) -> None:
        with self._lock:
            self._running = max(0, self._running - 1)
            if self._running == 0:
                gc.unfreeze()


_FROZEN = _FrozenHeap()


@contextlib.contextmanager
def _stop_signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM that arrive during the block are held back and handed to their handlers
    when it ends (the handler swapped for one that only notes them: a signal mask would not do,
    the kernel hands a masked process signal to any other thread, and Python then raises it in
    the main thread all the same). Python runs signal handlers in the main thread only, so the
    block holds nothing back when entered from another one."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[tuple[int, object]] = []
    previous: dict[int, object] = {}
    for name in ("SIGINT", "SIGTERM"):
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) is not None:
            previous[number] = signal.signal(number, lambda signum, frame: arrived.append((signum, frame)))
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)  # type: ignore[arg-type]
        for number, frame in arrived:
            handler = previous[number]
            if callable(handler):
                handler(number, frame)  # Ctrl-C's KeyboardInterrupt, facecam's stop handler
            elif handler == signal.SIG_DFL:
                signal.raise_signal(number)


class Pipeline:
    """Runs a source and a chain of stages, one thread each."""

    def __init__(self, source: Source, stages: list[Stage], settings: SettingsBox, metrics: Metrics,
                 live: bool, max_frames: int | None = None,
                 on_output: Callable[[Frame], None] | None = None,
                 on_failure: Callable[[BaseException], None] | None = None) -> None:
        self.source = source
        self.stages = stages
        self.settings = settings
        self.metrics = metrics
        self.live = live
        self.max_frames = max_frames
        self._on_output = on_output
        self._on_failure = on_failure
        self._stop = threading.Event()
        self._frozen = False
        self._frozen_lock = threading.Lock()
        self.thread_cpu_s: dict[str, float] = {}
        """CPU seconds each of this pipeline's threads used, by thread name, set as it ends."""
        self.thread_ids: dict[str, int] = {}
        """The native (kernel) id of each of this pipeline's threads, by name."""
        self.channels: list[Channel] = [LatestSlot() if live else BoundedQueue() for _ in stages]
        self._threads = [threading.Thread(target=self._capture_loop, name="facecam-capture", daemon=True)]
        for index, stage in enumerate(stages):
            self._threads.append(threading.Thread(
                target=self._stage_loop, args=(index,), name=f"facecam-{stage.name}", daemon=True))

    # -- control ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start every thread. Call it once start-up is done (stages built): what exists then
        is frozen out of the garbage collector's walks until the pipeline ends (_FrozenHeap)."""
        _FROZEN.enter()
        self._frozen = True
        # All or nothing: a Ctrl-C landing between two thread starts left the first stages running
        # and the rest never started; the caller then closed the models under the running ones
        # (MediaPipe used after close: a crash, exit -11, seen in CI). SIGINT and SIGTERM wait
        # until every thread runs, then arrive as usual (the caller's stop() sees a whole pipeline).
        with _stop_signals_held():
            for thread in self._threads:
                thread.start()

    def stop(self) -> None:
        """Ask capture to stop; the frames already inside still flow out (file mode)."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for every thread to end; True when they all have."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            thread.join(remaining)
        finished = not any(thread.is_alive() for thread in self._threads)
        if finished:
            with self._frozen_lock:
                if self._frozen:
                    self._frozen = False
                    _FROZEN.leave()
        return finished

    @property
    def finished(self) -> bool:
        return not any(thread.is_alive() for thread in self._threads)

    @property
    def stopping(self) -> bool:
        """Asked to stop, or a stage failed: the threads are ending."""
        return self._stop.is_set()

    @property
    def threads(self) -> list[threading.Thread]:
        return list(self._threads)

    # -- threads ---------------------------------------------------------------------------
    def _fail(self, error: BaseException) -> None:
        self._stop.set()
        if self._on_failure is not None:
            self._on_failure(error)

    def _capture_loop(self) -> None:
        outbound = self.channels[0]
        first_stage = self.stages[0].name
        paced = self.live and not self.source.live
        interval_ns = int(1e9 / self.source.fps) if self.source.fps > 0 else 0
        due_ns = time.monotonic_ns() - interval_ns  # the first frame is due at once
        index = 0
        failures = 0
        note: str | None = None
        try:
            while not self._stop.is_set():
                read_start = time.monotonic_ns()
                try:
                    captured = self.source.read()
                    failures = 0
                except FacecamError:
                    raise
                except Exception as error:  # a source glitch: count it, try the next frame
                    failures += 1
                    if self.metrics.error("capture", error):
                        log.warning("capture failed: %s", error)
                    if failures >= 30:
                        raise FacecamError(f"{self.source.name} keeps failing: {error}") from error
                    continue
                if captured is None:
                    break
                # A source may have something to say (camera slower than asked, reconnecting).
                if getattr(self.source, "note", None) != note:
                    note = getattr(self.source, "note", None)
                    self.metrics.note("capture", note)
                read_end = time.monotonic_ns()
                if paced:
                    # Deliver like a camera would: one frame per interval, never in bursts.
                    due_ns = max(due_ns + interval_ns, read_end - interval_ns)
                    wait_s = (due_ns - time.monotonic_ns()) / 1e9
                    if wait_s > 0 and self._stop.wait(wait_s):
                        break
                now = time.monotonic_ns()
                frame = Frame(index=index, image=captured.image, capture_ns=now, pts=captured.pts,
                              placeholder=captured.placeholder)
                frame.stamps["capture"] = (read_start, read_end)
                self.metrics.stage("capture", (read_end - read_start) / 1e6)
                self.metrics.frame_in(now)
                if outbound.put(frame):
                    self.metrics.drop(first_stage)
                index += 1
                if self.max_frames is not None and index >= self.max_frames:
                    break
        except FacecamError as error:
            self._fail(error)
        except Exception as error:  # pragma: no cover - a bug; keep the process alive
            log.exception("capture stopped")
            self._fail(error)
        finally:
            self._record_cpu()
            outbound.close()

    def _stage_loop(self, index: int) -> None:
        stage = self.stages[index]
        inbound = self.channels[index]
        outbound = self.channels[index + 1] if index + 1 < len(self.channels) else None
        next_name = self.stages[index + 1].name if outbound is not None else ""
        version = -1
        try:
            while True:
                item = inbound.get()
                if item is END:
                    break
                assert isinstance(item, Frame)
                frame: Frame = item
                if frame.placeholder and outbound is not None:
                    # Made up while the camera reconnects: no face work, straight to the outputs.
                    if outbound.put(frame):
                        self.metrics.drop(next_name)
                    continue
                settings, current = self.settings.get()
                if current != version:
                    version = current
                    self._run_guarded(stage, "configure", functools.partial(stage.configure, settings))
                name = stage.name  # may change with the settings (swap / animate)
                enter = time.monotonic_ns()
                result = self._run_guarded(stage, name, functools.partial(stage.process, frame), frame)
                leave = time.monotonic_ns()
                frame = result if isinstance(result, Frame) else frame
                frame.stamps[name] = (enter, leave)
                self.metrics.stage(name, (leave - enter) / 1e6)
                if outbound is not None:
                    if outbound.put(frame):
                        self.metrics.drop(next_name)
                else:
                    self.metrics.frame_out(frame)
                    if self._on_output is not None:
                        self._on_output(frame)
        except FacecamError as error:
            self._fail(error)
            # Keep draining so upstream threads never block on a full queue.
            while inbound.get() is not END:
                pass
        finally:
            self._record_cpu()
            if outbound is not None:
                outbound.close()

    def _record_cpu(self) -> None:
        # Before the thread's channel closes, so the figure is there once join() returns.
        thread = threading.current_thread()
        self.thread_ids[thread.name] = threading.get_native_id()
        self.thread_cpu_s[thread.name] = time.thread_time()

    def _run_guarded(self, stage: Stage, what: str, call: Callable[[], object],
                     frame: Frame | None = None) -> object:
        try:
            return call()
        except FacecamError:
            raise
        except Exception as error:
            if self.metrics.error(what, error):
                where = f" on frame {frame.index}" if frame is not None else ""
                log.warning("%s failed%s: %s: %s (later errors of this kind are only counted)",
                            what, where, type(error).__name__, error)
            if frame is not None:
                frame.errors.append(what)
            return None
