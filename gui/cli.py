"""`facecam gui`: the desktop app. Qt is imported only when the command runs."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from realtime.errors import FacecamError

log = logging.getLogger("facecam")


# The app starts no output by itself (the Output panel does) and runs until closed.
GUI_EXCLUDED = ("outputs", "max_frames")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from realtime.settings_cli import add_settings_arguments

    parser.add_argument("--config-dir", metavar="DIR", type=Path,
                        help="where the app keeps its settings (default: the user config folder, "
                             "or $FACECAM_CONFIG_DIR)")
    parser.add_argument("--reset", action="store_true", help="start from default settings")
    # Every setting is a flag here too; one given overrides the app's saved value (default: the
    # last one used).
    add_settings_arguments(parser, exclude=GUI_EXCLUDED, config=False)


def run(args: argparse.Namespace) -> int:
    from gui.qt import application
    from realtime.output import display_available
    from realtime.settings import Settings
    from realtime.settings_cli import changes_from_args

    if not display_available() and not _offscreen():
        raise FacecamError("facecam gui needs a display (none found: DISPLAY and WAYLAND_DISPLAY "
                           "are unset); use `facecam run` on a server")
    from gui.state import Store

    store = Store(args.config_dir)
    settings = Settings() if args.reset else store.load_settings()
    changes = changes_from_args(args)
    source = changes.get("source")
    if source is not None and not Path(source).expanduser().exists():
        raise FacecamError(f"source photo not found: {source}")
    settings = settings.replace(**changes)
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
