"""Creating the QApplication safely, and numpy <-> Qt picture helpers."""

from __future__ import annotations

import os

import numpy as np

# Set by opencv-python's import to its bundled Qt 5 plugins and fonts; a PyQt6 application that
# inherits them fails to load its platform plugin on a real display (see ../shared/DESIGN.md).
_OPENCV_QT_VARIABLES = ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR")


def drop_opencv_qt_paths(environ: dict | None = None) -> list[str]:
    """Remove OpenCV's Qt 5 paths from the environment; returns the names removed.

    Imports cv2 first, because cv2 sets them at import time: dropping them before that would
    let a later `import cv2` put them back before the QApplication exists."""
    import cv2  # noqa: F401  (imported for its side effect on os.environ)

    environ = os.environ if environ is None else environ
    removed = []
    for name in _OPENCV_QT_VARIABLES:
        value = environ.get(name, "")
        if value and "cv2" in value.replace("\\", "/"):
            del environ[name]
            removed.append(name)
    return removed


def application(argv: list[str] | None = None):
    """The process's QApplication (created once, after dropping OpenCV's Qt paths)."""
    drop_opencv_qt_paths()
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else ["facecam"])
        app.setApplicationName("facecam")
        app.setOrganizationName("facecam")
    return app


def qimage_of(picture: np.ndarray):
    """A QImage that views `picture` (BGR uint8) without copying it.

    The QImage does not own the pixels: keep `picture` alive as long as the image is used."""
    from PyQt6.QtGui import QImage

    if not picture.flags.c_contiguous:
        picture = np.ascontiguousarray(picture)
    height, width = picture.shape[:2]
    return QImage(picture.data, width, height, picture.strides[0], QImage.Format.Format_BGR888)


def pixmap_of(picture: np.ndarray, max_side: int):
    """A small QPixmap (thumbnail) of a BGR picture; the pixels are copied into the pixmap."""
    import cv2
    from PyQt6.QtGui import QPixmap

    height, width = picture.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    if scale < 1.0:
        picture = cv2.resize(picture, (max(1, round(width * scale)), max(1, round(height * scale))),
                             interpolation=cv2.INTER_AREA)
    return QPixmap.fromImage(qimage_of(np.ascontiguousarray(picture)).copy())
