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
        for name in ("SIGINT", "SIGTERM"):
            if hasattr(signal, name):
                with contextlib.suppress(ValueError):  # ValueError: not the main thread (embedded use)
                    signal.signal(getattr(signal, name), self)


_STDERR_FD = 2
"""Where facecam's own messages go: a copy of fd 2 made at start, which MediaPipe's start-up
silencing (it points fd 2 at /dev/null for a moment) cannot swallow."""


# -- argument helpers --------------------------------------------------------------------------
def parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 1280x720, not {text!r}") from None
    if not (16 <= width <= 8192 and 16 <= height <= 8192):
        raise argparse.ArgumentTypeError(f"size {text} is out of range (16..8192 per side)")
    return width, height


def parse_position(text: str) -> tuple[float, float]:
    try:
        x, y = (float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"position must look like 0.5,0.4, not {text!r}") from None
    return x, y


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own errors: one line, exit 2
        self.exit(EXIT_USER, f"{self.prog}: error: {message}\n")


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by `run` and `bench` (how to build the pipeline)."""
    parser.add_argument("--source", metavar="PHOTO",
                        help="photo to wear (swap) or portrait to animate; default: a built-in face")
    parser.add_argument("--input", "-i", default=None, metavar="0|FILE|demo",
                        help="camera index, video or picture file, or 'demo'; "
                             "default: camera 0 if one opens, else the demo clip")
    parser.add_argument("--output", "-o", action="append", metavar="window|vcam|null|FILE",
                        help="where frames go (repeatable); default: a window if a display exists, "
                             "else out/facecam-demo.mp4")
    parser.add_argument("--mode", choices=("swap", "animate", "passthrough"), default=None)
    parser.add_argument("--swapper", default=None, help="swapper implementation (default: mesh)")
    parser.add_argument("--animator", default=None, help="animator implementation (default: mesh)")
    parser.add_argument("--size", type=parse_size, metavar="WxH", help="capture size, e.g. 1280x720")
    parser.add_argument("--fps", type=float, help="capture frame rate")
    parser.add_argument("--max-frames", type=int, metavar="N", help="stop after N frames")
    pacing = parser.add_mutually_exclusive_group()
    pacing.add_argument("--live", dest="live", action="store_true", default=None,
                        help="pace file input at its frame rate and drop frames instead of queueing")
    pacing.add_argument("--no-live", dest="live", action="store_false",
                        help="process every frame in order even with a window (file mode)")
    parser.add_argument("--loop", action="store_true", default=None, help="loop a video file input")
    parser.add_argument("--faces", choices=("all", "largest", "nearest"), default=None,
                        help="which faces in the frame get the source face")
    parser.add_argument("--face-position", type=parse_position, metavar="X,Y",
                        help="with --faces nearest: the point (fractions of the frame) to be near")
    parser.add_argument("--max-faces", type=int, help="faces to find per frame (default 1)")
    parser.add_argument("--opacity", type=float)
    parser.add_argument("--feather", type=float)
    parser.add_argument("--erosion", type=float)
    parser.add_argument("--color-transfer", type=float)
    parser.add_argument("--mouth-mask", action="store_true", default=None, help="keep the real mouth")
    parser.add_argument("--smoothing", type=float, help="landmark smoothing 0..1 (default 0.5)")
    parser.add_argument("--mirror", action="store_true", default=None)
    parser.add_argument("--device", choices=("auto", "cpu", "cuda", "tensorrt"), default=None,
                        help="ONNX Runtime provider for neural models")
    # Neural models (realtime/inference): weights from `facecam models fetch NAME`.
    parser.add_argument("--enhance", choices=("none", "gfpgan"), default=None,
                        help="enhance the neural swapper's face (GFPGAN 1.4)")
    parser.add_argument("--enhance-every", type=int, metavar="N",
                        help="run the enhancer every Nth frame, reusing its correction in between")
    parser.add_argument("--swap-model", choices=("inswapper_128", "inswapper_128_fp16"), default=None,
                        help="weights of --swapper inswapper")
    parser.add_argument("--models-dir", metavar="DIR", help="model folder (default: models/)")
    parser.add_argument("--config", metavar="FILE.toml", help="settings file (options override it)")
    # Virtual camera, camera reconnect, lost faces (issue 6).
    parser.add_argument("--vcam-device", metavar="DEVICE",
                        help="virtual camera device, e.g. /dev/video10 or 'OBS Virtual Camera'")
    parser.add_argument("--vcam-size", type=parse_size, metavar="WxH", help="virtual camera size")
    parser.add_argument("--vcam-fps", type=float, help="virtual camera frame rate")
    parser.add_argument("--vcam-format", choices=("auto", "i420", "yuyv"), default=None,
                        help="pixel format for the virtual camera (yuyv for apps that refuse I420)")
    parser.add_argument("--vcam-mirror", action="store_true", default=None,
                        help="mirror only the virtual camera")
    parser.add_argument("--no-reconnect", dest="reconnect", action="store_false", default=None,
                        help="stop when the camera disappears instead of reopening it")
    parser.add_argument("--lost-face", choices=("hold", "passthrough", "blur"), default=None,
                        help="after a face is lost for a few frames: hold it, show the real face, or blur")
    # Live portraits (--mode animate).
    animate = parser.add_argument_group("live portraits (--mode animate)")
    animate.add_argument("--strength", type=float, help="how much of your motion the portrait makes, 0..1.5")
    animate.add_argument("--parts", choices=("all", "head", "expression", "eyes"), default=None,
                         help="what moves (default all)")
    animate.add_argument("--motion", choices=("relative", "absolute"), default=None,
                         help="relative to your neutral face (default), or your face's own shape and pose")
    animate.add_argument("--motion-smoothing", type=float, help="extra smoothing of the motion 0..1")
    animate.add_argument("--portrait-size", type=parse_size, metavar="WxH", help="size of the animated portrait")
    animate.add_argument("--side-by-side", action="store_true", default=None, help="show the driver beside it")
    animate.add_argument("--mouth-interior", choices=("driver", "cavity"), default=None,
                         help="an open mouth shows your mouth, colour-matched (default), or a cavity")
    # Provenance: the invisible mark is always on; only the visible label can be left out.
    parser.add_argument("--no-label", dest="label", action="store_false", default=None,
                        help="no visible 'AI-altered' label (label the recording yourself); "
                             "the invisible mark stays")


def settings_from_args(args: argparse.Namespace):
    from realtime.settings import Settings

    settings = Settings.load(args.config) if getattr(args, "config", None) else Settings()
    changes = {
        "source": args.source, "input": args.input, "mode": args.mode, "swapper": args.swapper,
        "animator": args.animator, "size": args.size, "fps": args.fps, "max_frames": args.max_frames,
        "live": args.live, "loop": args.loop, "faces": args.faces, "face_position": args.face_position,
        "max_faces": args.max_faces, "opacity": args.opacity, "feather": args.feather,
        "erosion": args.erosion, "color_transfer": args.color_transfer, "mouth_mask": args.mouth_mask,
        "smoothing": args.smoothing, "mirror": args.mirror, "device": args.device,
        "label": getattr(args, "label", None),
    }
    changes.update({"enhancer": getattr(args, "enhance", None), "enhance_every": getattr(args, "enhance_every", None),
                    "swap_model": getattr(args, "swap_model", None), "models_dir": getattr(args, "models_dir", None)})
    if getattr(args, "enhance", None) == "gfpgan" and (args.swapper or settings.swap.swapper) != "inswapper":
        log.warning("--enhance gfpgan enhances the neural swapper's face: it has no effect without "
                    "--swapper inswapper")
    changes.update({name: getattr(args, name, None) for name in (
        "vcam_device", "vcam_size", "vcam_fps", "vcam_format", "vcam_mirror", "reconnect", "lost_face")})
    changes.update({  # live portraits (getattr: parsers built without these options)
        key: getattr(args, option, None) for key, option in (
            ("motion_strength", "strength"), ("moving_parts", "parts"), ("motion_mode", "motion"),
            ("motion_smoothing", "motion_smoothing"), ("portrait_size", "portrait_size"),
            ("side_by_side", "side_by_side"), ("mouth_interior", "mouth_interior"))})
    if args.output:
        changes["outputs"] = tuple(args.output)
    return settings.replace(**{k: v for k, v in changes.items() if v is not None})


# -- run ---------------------------------------------------------------------------------------
def _progress_bar(total: int | None, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="frame", dynamic_ncols=True, leave=False, file=sys.stderr)


def command_run(args: argparse.Namespace) -> int:
    from realtime.engine import Engine
    from realtime.output.window import WindowOutput
    from realtime.settings import require_outputs

    settings = settings_from_args(args)
    require_outputs(settings)  # (a front end with its own preview, the GUI, may name none)
    if settings.source is None and settings.mode != "passthrough":
        log.info("no --source given: wearing the built-in face (Grace Hopper)")
    engine: Engine | None = None

    def stats():
        return engine.stats()

    engine = Engine(settings, output_options={"stats": stats})
    interactive = sys.stderr.isatty() and not args.json
    engine.start()
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
        for line in advice.at_end(self.settings, final.frames_out, engine.frames_with_faces):
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
            print(final.summary(live=engine.live), file=sys.stderr)


# -- entry point -------------------------------------------------------------------------------
# Each command lives beside what it drives: a module with `add_arguments(parser)` and
# `run(args) -> exit code`. Imported only when its command runs (or for --help).
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("realtime.cli", "swap or animate a face live, or process a video file"),
    "models": ("realtime.inference.cli", "list, fetch, verify neural models; build TensorRT engines"),
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
    parser.add_argument("--version", action="version", version="facecam 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (_, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.add_argument("--debug", action="store_true", help="tracebacks and debug logging")
        command.add_argument("--verbose", "-v", action="store_true", help="more messages")
        command.add_argument("--quiet", "-q", action="store_true", help="only errors")
        command.add_argument("--json", action="store_true", help="machine-readable result on stdout")
        _command_module(name).add_arguments(command)
    return parser


def _configure_logging(args: argparse.Namespace) -> None:
    level = logging.WARNING if getattr(args, "quiet", False) else logging.INFO
    if getattr(args, "debug", False):
        level = logging.DEBUG
    elif getattr(args, "verbose", False):
        level = logging.INFO
    global _STDERR_FD
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
    _StopSignals().install()
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
