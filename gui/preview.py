"""The live preview: draws the newest output frame, scaled to fit, keeping its aspect ratio.

The frame's own pixels are wrapped in a QImage (no copy) and scaled by QPainter straight onto
the widget: the only per-frame work is the scaling Qt must do anyway.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtGui import QColor, QPainter
from PyQt6.QtWidgets import QSizePolicy, QWidget

from gui.qt import qimage_of


class PreviewWidget(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 180)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._picture: np.ndarray | None = None  # keeps the pixels alive for the QImage
        self._image = None
        self.message = "starting..."
        self.frames_shown = 0

    @property
    def picture(self) -> np.ndarray | None:
        """The picture shown now (BGR)."""
        return self._picture

    def show_picture(self, picture: np.ndarray) -> None:
        self._picture = picture
        self._image = qimage_of(picture)
        self.frames_shown += 1
        self.update()

    def show_message(self, text: str) -> None:
        """Text over the preview (no input yet, an input that failed)."""
        self.message = text
        self.update()

    def clear(self, text: str) -> None:
        self._picture = None
        self._image = None
        self.show_message(text)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(24, 24, 24))
        if self._image is not None:
            width, height = self._image.width(), self._image.height()
            scale = min(self.width() / width, self.height() / height)
            target = QRectF((self.width() - width * scale) / 2, (self.height() - height * scale) / 2,
                            width * scale, height * scale)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.drawImage(target, self._image)
        elif self.message:
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.message)
        painter.end()
