"""The live preview: draws the newest output frame, scaled to fit, keeping its aspect ratio.

The frame's own pixels are wrapped in a QImage (no copy) and scaled by QPainter straight onto
the widget: the only per-frame work is the scaling Qt must do anyway.

With a face map, each mapped face gets a thin outline and a name tag (the photo it wears),
painted over the widget only: they never reach the frame, so never an output or a recording.
A click on the picture emits `clicked(x, y)` in fractions of the frame (click-to-map).
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QPainter, QPen
from PyQt6.QtWidgets import QSizePolicy, QWidget

from gui.qt import qimage_of


class PreviewWidget(QWidget):
    clicked = pyqtSignal(float, float)
    """A click on the picture: (x, y) as fractions of the frame."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 180)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._picture: np.ndarray | None = None  # keeps the pixels alive for the QImage
        self._image = None
        self.message = "starting..."
        self.frames_shown = 0
        self.tags: list = []
        """Frame.mapping of the picture shown: (box, name, track id, rule) per mapped face."""

    @property
    def picture(self) -> np.ndarray | None:
        """The picture shown now (BGR)."""
        return self._picture

    def show_picture(self, picture: np.ndarray, tags: list | None = None) -> None:
        self._picture = picture
        self.tags = list(tags or [])
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
            self._paint_tags(painter, target, scale)
        elif self.message:
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.message)
        painter.end()

    def picture_rect(self) -> QRectF | None:
        """Where the picture is drawn in the widget (None: no picture)."""
        if self._image is None:
            return None
        width, height = self._image.width(), self._image.height()
        scale = min(self.width() / width, self.height() / height)
        return QRectF((self.width() - width * scale) / 2, (self.height() - height * scale) / 2,
                      width * scale, height * scale)

    def _paint_tags(self, painter: QPainter, target: QRectF, scale: float) -> None:
        for box, name, _, rule in self.tags:
            x0, y0, x1, y1 = box
            rect = QRectF(target.left() + x0 * scale, target.top() + y0 * scale,
                          (x1 - x0) * scale, (y1 - y0) * scale)
            colour = QColor(80, 200, 255) if rule is not None else QColor(200, 200, 200)
            painter.setPen(QPen(colour, 1.5))
            painter.drawRect(rect)
            metrics = painter.fontMetrics()
            label = QRectF(rect.left(), rect.top() - metrics.height() - 2,
                           metrics.horizontalAdvance(name) + 8, metrics.height() + 2)
            painter.fillRect(label, QColor(0, 0, 0, 170))
            painter.setPen(colour)
            painter.drawText(label, Qt.AlignmentFlag.AlignCenter, name)

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        rect = self.picture_rect()
        point: QPointF = event.position()
        if rect is not None and rect.contains(point) and event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit((point.x() - rect.left()) / rect.width(),
                              (point.y() - rect.top()) / rect.height())
        super().mousePressEvent(event)
