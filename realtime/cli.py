"""`facecam` command line: run, and the tools around it.

Exit codes: 0 done, 1 internal error (a bug: please report it), 2 a problem with the input,
the settings or the machine (the message says what to do), 130 stopped by Ctrl-C or SIGTERM
(outputs are finalised first; a second signal meanwhile is ignored), 141 the reader of the
output went away (`facecam verify | head`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from typing import TextIO

from realtime.errors import FacecamError

log = logging.getLogger("facecam")

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USER = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE: what any tool killed by a closed pipe reports."""


class Interrupted(KeyboardInterrupt):
    """SIGTERM: stop cleanly, exactly as Ctrl-C does (a KeyboardInterrupt, so no `except
    Exception` on the way, such as one closing an output, can swallow it)."""


class _StopSignals:
    """SIGINT and SIGTERM. The first raises Interrupted in the main thread (the run stops and
    its outputs are finished); every later one is acknowledged once and ignored, so a double
    Ctrl-C, coreutils `timeout` or a group-wide signal cannot cut a recording's finishing short
    (SIGKILL still can: the file then plays up to about its last second)."""

    def __init__(self) -> None:
        self.stopping = False
        self._told = False

    def __call__(self, signum, frame) -> None:
        if not self.stopping:
            self.stopping = True
            raise KeyboardInterrupt() if signum == getattr(signal, "SIGINT", None) else Interrupted()
        if not self._told:
            self._told = True
            with contextlib.suppress(OSError):
                os.write(_STDERR_FD, b"facecam: still finishing the outputs; they are final in a "
                                     b"moment (kill -9 would lose up to the last second)\n")

    def install(self) -> None:
        self._set(self)

    def ignore_until_exit(self) -> None:
        """After a stopped run has finished its outputs: later signals are ignored. CPython's
        finalisation (`_PySignal_Fini`) puts SIG_DFL back in place of a Python handler, and
        native libraries' teardown runs after it, so a third Ctrl-C or a group-wide SIGTERM
        landing then killed the process (exit -2/-15 instead of 130, the file already final).
        SIG_IGN is left alone by that reset."""
        self._set(signal.SIG_IGN)

    @staticmethod
    def _set(handler) -> None:
        for name in ("SIGINT", "SIGTERM"):
            if hasattr(signal, name):
                with contextlib.suppress(ValueError):  # ValueError: not the main thread (embedded use)
                    signal.signal(getattr(signal, name), handler)


_STDERR_FD = 2
"""Where facecam's own messages go: a copy of fd 2 made at start, which MediaPipe's start-up
silencing (it points fd 2 at /dev/null for a moment) cannot swallow."""


# -- argument helpers --------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own errors: one line, exit 2
        self.exit(EXIT_USER, f"{self.prog}: error: {message}\n")


def parse_size(text: str) -> tuple[int, int]:
    """argparse type for a WxH option of a command's own (settings have theirs generated)."""
    from realtime.settings_cli import parse_size as parse

    return parse(text)


def add_run_arguments(parser: argparse.ArgumentParser, exclude: Sequence[str] = ()) -> None:
    """The settings flags (generated from realtime/settings.py), `--set` and `--config`."""
    from realtime.settings_cli import add_settings_arguments

    add_settings_arguments(parser, exclude=exclude)


def settings_from_args(args: argparse.Namespace, base=None):
    from realtime.settings_cli import settings_from_args as from_args

    settings = from_args(args, base)
    if settings.inference.enhancer != "none" and settings.swap.swapper != "inswapper":
        log.warning("--enhance %s enhances the neural swapper's face: it has no effect without "
                    "--swapper inswapper", settings.inference.enhancer)
    return settings


# -- run ---------------------------------------------------------------------------------------
def _progress_bar(total: int | None, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="frame", dynamic_ncols=True, leave=False, file=sys.stderr)


def command_run(args: argparse.Namespace) -> int:
    from realtime.engine import Engine
    from realtime.output.window import WindowOutput
    from realtime.provenance import session_from_environment
    from realtime.settings import require_outputs

    settings = settings_from_args(args)
    require_outputs(settings)  # (a front end with its own preview, the GUI, may name none)
    dfm = settings.mode == "swap" and settings.swap.swapper == "dfm"  # identity inside the model
    if dfm and settings.source is not None:
        log.warning("--swapper dfm: the face comes from the DeepFaceLab model; --source is not used")
    elif settings.source is None and settings.mode != "passthrough" and not dfm:
        log.info("no --source given: wearing the built-in face (Grace Hopper)")
    engine: Engine | None = None

    def stats():
        return engine.stats()

    engine = Engine(settings, output_options={"stats": stats}, provenance_session=session_from_environment())
    interactive = sys.stderr.isatty() and not args.json
    engine.start()
    assert engine.source is not None  # opened by start()
    output_names = [output.name for output in engine.outputs]
    window = next((o for o in engine.outputs if isinstance(o, WindowOutput)), None)
    total = engine.source.frame_count
    if settings.capture.max_frames is not None:
        total = min(total, settings.capture.max_frames) if total else settings.capture.max_frames
    bar = _progress_bar(total, interactive and window is None and not engine.source.live)
    interrupted = False
    report = _RunReport(engine, settings, args)
    try:
        shown = 0
        while engine.running:
            if window is not None:
                key = window.pump()
                if key in (27, ord("q")):
                    break
                if key == ord("c"):
                    engine.update(calibrate=True)
                elif key == ord("m"):
                    engine.update(mirror=not engine.settings.output.mirror)
                elif key == ord("s"):
                    window.show_stats = not window.show_stats
            else:
                time.sleep(0.1)
            if bar is not None:
                done = engine.stats().frames_out
                bar.update(done - shown)
                shown = done
    except (KeyboardInterrupt, Interrupted):
        interrupted = True
        print("\nstopping: finishing the outputs...", file=sys.stderr)
    finally:
        if bar is not None:
            bar.close()
        engine.stop()
    report.show(output_names)
    if engine.failure is not None:
        raise engine.failure
    return EXIT_INTERRUPTED if interrupted else EXIT_OK


class _RunReport:
    """What `run` says at the end: the summary (or --json), the files and the frames they
    really hold, and warnings only the whole run can give. Printed after a failure too (a full
    disk), before the error line."""

    def __init__(self, engine, settings, args: argparse.Namespace) -> None:
        self.engine, self.settings, self.args = engine, settings, args

    def files(self) -> list[dict]:
        return [{"path": str(output.path), "frames": output.frames_written if output.complete else None,
                 "frames_handed": output.frames_written, "complete": bool(output.complete)}
                for output in self.engine.file_outputs]

    def show(self, output_names: list[str]) -> None:
        from realtime import advice

        engine = self.engine
        final = engine.stats()
        for line in advice.at_end(self.settings, final.frames_out, final.frames_with_faces):
            log.warning(line)
        if self.args.json:
            data = final.as_dict()
            data["files"] = self.files()
            if engine.failure is not None:
                data["error"] = str(engine.failure)
            print(json.dumps(data, indent=2))
        elif not self.args.quiet:
            names = [str(output.path) for output in engine.file_outputs] or output_names
            print(f"{engine.source.name} -> {', '.join(names)}", file=sys.stderr)
            print(final.summary(live=engine.live, faces=self.settings.mode != "passthrough"), file=sys.stderr)


# -- entry point -------------------------------------------------------------------------------
# Each command lives beside what it drives: a module with `add_arguments(parser)` and
# `run(args) -> exit code`. Imported only when its command runs (or for --help).
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("realtime.cli", "swap or animate a face live, or process a video file"),
    "models": ("realtime.inference.cli", "list, fetch, verify neural models; build TensorRT engines"),
    "batch": ("realtime.batch.cli", "many videos at once, on local processes or a Ray cluster"),
    "gui": ("gui.cli", "the desktop app: live preview, controls, stats, virtual camera"),
    "doctor": ("realtime.doctor", "check this machine: cameras, virtual camera, display, GPU, models"),
    "bench": ("benchmarks.bench_cli", "latency per stage and end to end, pipelined vs sequential"),
    "verify": ("realtime.provenance.verify", "tell whether a video or picture carries facecam's mark"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`facecam run`'s options."""
    add_run_arguments(parser)


def run(args: argparse.Namespace) -> int:
    return command_run(args)


def _command_module(name: str):
    import importlib

    return importlib.import_module(COMMANDS[name][0])


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="facecam", description="Real-time face swap and live portraits. "
                     "Every output is marked as AI-altered.")
    from realtime import __version__

    parser.add_argument("--version", action="version", version=f"facecam {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (_, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        _add_common(command)
        _command_module(name).add_arguments(command)
        # A command with actions (`models list`) takes the common flags after the action too:
        # `facecam models list --json` as well as `facecam models --json list`.
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                for nested in action.choices.values():
                    _add_common(nested, default=argparse.SUPPRESS)
    return parser


def _add_common(parser: argparse.ArgumentParser, default=False) -> None:
    """Flags every command takes. default=SUPPRESS: set only when given (a nested parser must
    not overwrite what the command's parser already read)."""
    parser.add_argument("--debug", action="store_true", default=default, help="tracebacks and debug logging")
    parser.add_argument("--verbose", "-v", action="store_true", default=default, help="more messages")
    parser.add_argument("--quiet", "-q", action="store_true", default=default, help="only errors")
    parser.add_argument("--json", action="store_true", default=default,
                        help="machine-readable result on stdout")


def _configure_logging(args: argparse.Namespace) -> None:
    level = logging.WARNING if getattr(args, "quiet", False) else logging.INFO
    if getattr(args, "debug", False):
        level = logging.DEBUG
    elif getattr(args, "verbose", False):
        level = logging.INFO
    global _STDERR_FD
    stream: TextIO
    try:  # a private copy of fd 2: other threads' lines survive MediaPipe's start-up silencing
        _STDERR_FD = os.dup(sys.stderr.fileno())
        stream = os.fdopen(_STDERR_FD, "w", buffering=1, encoding=sys.stderr.encoding or "utf-8",
                           errors="backslashreplace", closefd=False)
    except (AttributeError, OSError, ValueError):  # no real fd 2 (embedded, captured)
        stream = sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("facecam: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Third-party chatter stays out of the user's way unless debugging.
    for noisy in ("absl", "matplotlib", "PIL", "libav"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if level == logging.DEBUG else logging.ERROR)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USER
    _configure_logging(args)
    stop_signals = _StopSignals()
    stop_signals.install()
    try:
        return _run_command(args)
    finally:
        if stop_signals.stopping:
            stop_signals.ignore_until_exit()


def _run_command(args: argparse.Namespace) -> int:
    try:
        return _command_module(args.command).run(args)
    except BrokenPipeError:  # `facecam verify | head`: the reader has all it wanted
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except FacecamError as error:
        if args.debug:
            log.exception("failed")
        print(f"facecam: error: {error}", file=sys.stderr)
        return error.exit_code
    except (KeyboardInterrupt, Interrupted):
        print("facecam: stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # a bug: one line, the traceback with --debug
        if args.debug:
            raise
        print(f"facecam: internal error: {type(error).__name__}: {error} "
              "(run again with --debug for details, and please report it)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    # `python -m realtime.cli` runs this file as __main__ while the commands import
    # realtime.cli: use that module's main, so both agree on one `Interrupted` (SIGTERM) class.
    from realtime.cli import main as package_main

    sys.exit(package_main())
