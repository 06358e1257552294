"""`facecam gui`: the desktop app. Qt is imported only when the command runs."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from realtime.errors import FacecamError

log = logging.getLogger("facecam")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", metavar="PHOTO", help="photo to wear or portrait to animate "
                        "(default: the last one used)")
    parser.add_argument("--input", "-i", metavar="0|FILE|demo",
                        help="camera index, video file or 'demo' (default: the last one used)")
    parser.add_argument("--mode", choices=("swap", "animate", "passthrough"))
    parser.add_argument("--config-dir", metavar="DIR", type=Path,
                        help="where the app keeps its settings (default: the user config folder, "
                             "or $FACECAM_CONFIG_DIR)")
    parser.add_argument("--reset", action="store_true", help="start from default settings")


def run(args: argparse.Namespace) -> int:
    from gui.qt import application
    from realtime.output import display_available
    from realtime.settings import Settings

    if not display_available() and not _offscreen():
        raise FacecamError("facecam gui needs a display (none found: DISPLAY and WAYLAND_DISPLAY "
                           "are unset); use `facecam run` on a server")
    from gui.state import Store

    store = Store(args.config_dir)
    settings = Settings() if args.reset else store.load_settings()
    changes = {"source": args.source, "input": args.input, "mode": args.mode}
    if args.source is not None and not Path(args.source).expanduser().exists():
        raise FacecamError(f"source photo not found: {args.source}")
    settings = settings.replace(**{k: v for k, v in changes.items() if v is not None})
    app = application()
    from gui.window import MainWindow

    window = MainWindow(settings, store)
    window.show()
    interrupted = _close_on_signals(window)
    previous_hook, sys.excepthook = sys.excepthook, window.internal_error
    try:
        code = app.exec()
    finally:
        sys.excepthook = previous_hook
    return 130 if interrupted else code


def _close_on_signals(window) -> list[int]:
    """Ctrl-C and SIGTERM close the window the normal way (settings saved, recording finalised,
    threads stopped). Python runs signal handlers only when it has control, so a timer hands it
    control a few times a second while Qt's event loop runs. Returns a list that gets the signal
    number when one arrived."""
    import signal

    from PyQt6.QtCore import QTimer

    received: list[int] = []

    def close(signum, frame) -> None:
        received.append(signum)
        QTimer.singleShot(0, window.close)

    for name in ("SIGINT", "SIGTERM"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), close)
    wake = QTimer(window)
    wake.timeout.connect(lambda: None)
    wake.start(200)
    return received


def _offscreen() -> bool:
    import os

    return os.environ.get("QT_QPA_PLATFORM", "") in ("offscreen", "minimal", "vnc")
