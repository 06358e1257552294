"""What a run costs in CPU, where that CPU goes, and what competes for it.

- `process_cpu()`: user and system CPU seconds of the whole process, every thread (ours, and the
  native ones of MediaPipe, OpenCV and FFmpeg).
- `ThreadCpu`: CPU seconds per thread, read from /proc/self/task at a run's start and end (a
  thread that ends takes its counters with it: the pipeline's own threads record theirs as they
  end, `Pipeline.thread_cpu_s`). Threads are grouped by name: ours are named `facecam-<stage>`; MediaPipe names its workers
  `mediapipe/<id>`, FFmpeg's decoder `av:h264:df<n>`; a native pool that names nothing (OpenCV's
  parallel_for) shows as the interpreter's name.
- `CpuLoad(n)`: n competitor processes, each keeping one core busy (the call app on the same
  laptop). They stop on every way out of the `with` block (Ctrl-C and SIGTERM raise
  KeyboardInterrupt in facecam's main thread), and they also end when their parent is killed
  outright (PR_SET_PDEATHSIG on Linux, and a parent check in their loop).
- `Profiler(path)`: py-spy sampling this very process (`py-spy record --pid`) into a flame graph
  SVG, from the end of start-up to the end of the measured runs.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from realtime.errors import FacecamError


@dataclass(frozen=True)
class CpuTimes:
    user_s: float
    sys_s: float

    @property
    def total_s(self) -> float:
        return self.user_s + self.sys_s

    def __sub__(self, other: CpuTimes) -> CpuTimes:
        return CpuTimes(self.user_s - other.user_s, self.sys_s - other.sys_s)


def process_cpu() -> CpuTimes:
    """User and system CPU time of this process so far, all threads together."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return CpuTimes(usage.ru_utime, usage.ru_stime)


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_TASKS = Path("/proc/self/task")


def _read_tasks() -> dict[int, tuple[str, float, float]]:
    """tid -> (kernel thread name, user s, system s); empty where /proc is missing (macOS)."""
    found: dict[int, tuple[str, float, float]] = {}
    try:
        tids = os.listdir(_TASKS)
    except OSError:
        return found
    for tid in tids:
        try:
            stat = (_TASKS / tid / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        found[int(tid)] = (name, int(fields[11]) / _TICK, int(fields[12]) / _TICK)
    return found


def _process_name() -> str:
    try:
        return Path("/proc/self/comm").read_text().strip()
    except OSError:
        return ""


UNNAMED = "unnamed native threads"
"""Native threads that name nothing inherit the process's name: OpenCV's parallel_for pool,
OpenBLAS's workers, TFLite's XNNPACK pool."""


def thread_group(name: str) -> str:
    """A thread's name without what tells one worker of a pool from the next."""
    if name.startswith("facecam-"):
        return name
    if name == _process_name():
        return UNNAMED
    name = re.sub(r"(/|:df|-)\d+$", "", name)  # mediapipe/1234, av:h264:df0, Thread-3
    return name


class ThreadCpu:
    """CPU time per thread between `start()` and the last `sample()`, grouped by thread name."""

    def __init__(self) -> None:
        self._start: dict[int, tuple[str, float, float]] = {}
        self._last: dict[int, tuple[str, float, float]] = {}
        self._names: dict[int, str] = {}
        self._lock = threading.Lock()

    def start(self) -> ThreadCpu:
        with self._lock:
            self._start = _read_tasks()
            self._last = dict(self._start)
        return self

    def sample(self) -> None:
        """Read every thread's counters now (an ended thread keeps those of the last sample
        before it ended)."""
        tasks = _read_tasks()
        names = {thread.native_id: thread.name for thread in threading.enumerate()
                 if thread.native_id is not None}
        with self._lock:
            self._last.update(tasks)
            self._names.update(names)

    def by_group(self, exclude: set[int] | frozenset[int] = frozenset()) -> dict[str, CpuTimes]:
        """Thread group -> CPU used since start (most first); `exclude`: thread ids counted
        elsewhere (a thread Python has joined may linger in /proc for a moment)."""
        groups: dict[str, list[float]] = {}
        with self._lock:
            for tid, (kernel_name, user, system) in self._last.items():
                if tid in exclude:
                    continue
                _, user0, system0 = self._start.get(tid, (kernel_name, 0.0, 0.0))
                name = thread_group(self._names.get(tid, kernel_name))
                total = groups.setdefault(name, [0.0, 0.0])
                total[0] += user - user0
                total[1] += system - system0
        ordered = sorted(groups.items(), key=lambda kv: -(kv[1][0] + kv[1][1]))
        return {name: CpuTimes(user, system) for name, (user, system) in ordered
                if user + system > 0}


# -- competitors -------------------------------------------------------------------------------
# A competitor: a tight loop that stops by itself once its parent is gone (a SIGKILLed bench
# must not leave cores busy): on Linux the kernel sends it SIGTERM when the parent dies
# (PR_SET_PDEATHSIG, set by the child itself: a preexec_fn is unsafe in a process with threads),
# and everywhere it checks its parent every few milliseconds.
_BUSY = """
import os, sys
parent = int(sys.argv[1])
if sys.platform.startswith("linux"):
    try:
        import ctypes, signal
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass
while os.getppid() == parent:
    for _ in range(20000):
        pass
"""


class CpuLoad:
    """`with CpuLoad(n):` n processes keep one core busy each for the duration of the block."""

    def __init__(self, count: int) -> None:
        if count < 0:
            raise FacecamError(f"--cpu-load must be 0 or more, not {count}")
        self.count = count
        self.processes: list[subprocess.Popen] = []

    def __enter__(self) -> CpuLoad:
        try:
            for _ in range(self.count):
                self.processes.append(subprocess.Popen(
                    [sys.executable, "-c", _BUSY, str(os.getpid())], stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def stop(self) -> None:
        for process in self.processes:
            with contextlib.suppress(OSError):
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes = []

    def __exit__(self, *exc_info) -> None:
        self.stop()


# -- profile -----------------------------------------------------------------------------------
class Profiler:
    """`with Profiler(path):` py-spy samples this process into a flame graph SVG (idle threads
    left out: the graph shows where CPU goes). `native=True` adds C/C++ frames (MediaPipe,
    OpenCV), at a much higher sampling cost."""

    def __init__(self, path: Path, rate: int = 100, native: bool = False) -> None:
        self.path = Path(path)
        self.rate = rate
        self.native = native
        self._process: subprocess.Popen | None = None

    @staticmethod
    def executable() -> str:
        beside = Path(sys.executable).with_name("py-spy")
        found = str(beside) if beside.exists() else shutil.which("py-spy")
        if found is None:
            raise FacecamError("--profile needs py-spy: pip install 'facecam[bench]' (or pip "
                               "install py-spy)")
        return found

    def __enter__(self) -> Profiler:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        command = [self.executable(), "record", "--pid", str(os.getpid()), "--rate", str(self.rate),
                   "--format", "flamegraph", "--output", str(self.path), "--threads", "--nonblocking"]
        if self.native:
            command.append("--native")
        self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, text=True)
        # An error (no ptrace permission, no such process) ends py-spy at once.
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline and self._process.poll() is None:
            time.sleep(0.05)
        if self._process.poll() is not None:
            said = (self._process.stdout.read() if self._process.stdout else "").strip()
            raise FacecamError("py-spy could not sample this process (" + (said.splitlines() or
                               ["no output"])[-1] + "); on Linux it needs ptrace permission: run as "
                               "the same user with kernel.yama.ptrace_scope=0, or with sudo")
        return self

    def __exit__(self, *exc_info) -> None:
        process = self._process
        if process is None:
            return
        self._process = None
        with contextlib.suppress(OSError):
            process.send_signal(signal.SIGINT)  # py-spy writes the file when interrupted
        try:
            process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
