"""Screenshots of the real window for the README, one per mode.

    xvfb-run -a -s "-screen 0 1400x860x24" python -m gui.screenshots docs/ \\
        --input ../shared/media/d9.mp4 --source ../shared/media/s12.jpg

Run it on a display (Xvfb is one) with the xcb platform: what is saved is what the X server shows
(`QScreen.grabWindow`), not a widget rendered offscreen. Modes this installation cannot run
(animate without its animator) are skipped with a message.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from realtime.settings import MODES, Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gui.screenshots")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--input", default="demo")
    parser.add_argument("--source", default=None)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--seconds", type=float, default=6.0, help="run time before each shot")
    parser.add_argument("--size", default="1280x760", help="the window size (default: the app's own default)")
    args = parser.parse_args(argv)

    from gui.qt import application

    app = application()
    if app.platformName() != "xcb" and os.environ.get("FACECAM_ALLOW_OFFSCREEN_SHOTS") != "1":
        print(f"screenshots need the xcb platform on an X display (this is {app.platformName()!r})",
              file=sys.stderr)
        return 2
    from gui.controls import mode_available
    from gui.state import GuiState, Store
    from gui.window import MainWindow

    args.folder.mkdir(parents=True, exist_ok=True)
    width, height = (int(v) for v in args.size.split("x"))
    saved = []
    for mode in args.modes.split(","):
        settings = Settings().replace(mode=mode, input=args.input, source=args.source)
        if not mode_available(mode, settings):
            print(f"{mode}: not available in this installation; no screenshot", file=sys.stderr)
            continue
        with tempfile.TemporaryDirectory() as config:
            store = Store(Path(config))
            recent = [args.source] if args.source else []
            store.save(Settings(), GuiState(recent_sources=recent))
            window = MainWindow(settings, store)
            window.resize(width, height)
            window.move(0, 0)
            window.show()
            deadline = time.monotonic() + args.seconds
            while time.monotonic() < deadline:
                app.processEvents()
                time.sleep(0.01)
            shot = window.screen().grabWindow(int(window.winId()))
            path = args.folder / f"gui-{mode}.png"
            shot.save(str(path))
            saved.append(path)
            stats = window.controller.stats()
            print(f"{path}: {window.windowTitle()} | {stats.summary().splitlines()[0] if stats else ''}")
            window.close()
    return 0 if saved else 1


if __name__ == "__main__":
    sys.exit(main())
