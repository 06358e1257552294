"""The source panel: the photo to wear (swap) or the portrait to animate.

Open a photo, drop one on the window, or click a recent one; the face the engine detected in it
is shown, so the user sees at once which face will be used.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PyQt6.QtCore import QSize, Qt, pyqtSignal
from PyQt6.QtGui import QIcon
from PyQt6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.qt import pixmap_of
from realtime.capture import PICTURE_SUFFIXES

PHOTO_FILTER = "Pictures (" + " ".join(f"*{s}" for s in sorted(PICTURE_SUFFIXES)) + ")"
THUMBNAIL = 64


def is_picture(path: str | Path) -> bool:
    return Path(path).suffix.lower() in PICTURE_SUFFIXES


def face_crop(image: np.ndarray, box: tuple[int, int, int, int], margin: float = 0.25) -> np.ndarray:
    """The face box of `image` with a margin around it (clipped to the picture)."""
    x0, y0, x1, y1 = box
    pad_x, pad_y = int((x1 - x0) * margin), int((y1 - y0) * margin)
    height, width = image.shape[:2]
    x0, y0 = max(0, x0 - pad_x), max(0, y0 - pad_y)
    x1, y1 = min(width, x1 + pad_x), min(height, y1 + pad_y)
    if x1 <= x0 or y1 <= y0:
        return image
    return image[y0:y1, x0:x1]


def _box_of(points: np.ndarray) -> tuple[int, int, int, int]:
    x0, y0 = np.floor(points.min(axis=0)).astype(int)
    x1, y1 = np.ceil(points.max(axis=0)).astype(int)
    return int(x0), int(y0), int(x1), int(y1)


class SourcePanel(QWidget):
    source_chosen = pyqtSignal(object)
    """A path (str), or None for the built-in face."""
    face_chosen = pyqtSignal(int)
    """Which face of a photo with several to wear (0: the largest): the source_face setting."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        self.face = QLabel("no source")
        self.face.setFixedSize(112, 112)
        self.face.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.face.setStyleSheet("background: #202020; color: #bbb;")
        self.face.setToolTip("the face found in the source photo")
        top.addWidget(self.face)
        side = QVBoxLayout()
        self.name = QLabel("built-in face")
        self.name.setWordWrap(True)
        self.open_button = QPushButton("Open photo…")
        self.open_button.setToolTip("choose the photo to wear or the portrait to animate (Ctrl+O); "
                                    "you can also drop a picture on the window")
        self.open_button.clicked.connect(self.open_dialog)
        self.builtin_button = QPushButton("Built-in face")
        self.builtin_button.clicked.connect(lambda: self.source_chosen.emit(None))
        side.addWidget(self.name)
        side.addWidget(self.open_button)
        side.addWidget(self.builtin_button)
        # Shown only when the photo has several faces (issue 18): which one to wear.
        self.faces = QComboBox()
        self.faces.setToolTip("the photo has several faces: which one to wear")
        self.faces.activated.connect(self.face_chosen.emit)
        self.faces.setVisible(False)
        side.addWidget(self.faces)
        side.addStretch(1)
        top.addLayout(side, 1)
        layout.addLayout(top)
        layout.addWidget(QLabel("Recent:"))
        self.recent = QListWidget()
        self.recent.setViewMode(QListView.ViewMode.IconMode)
        self.recent.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
        self.recent.setFlow(QListView.Flow.LeftToRight)
        self.recent.setWrapping(False)
        self.recent.setFixedHeight(THUMBNAIL + 30)
        self.recent.setMovement(QListView.Movement.Static)
        self.recent.itemClicked.connect(lambda item: self.source_chosen.emit(item.data(Qt.ItemDataRole.UserRole)))
        layout.addWidget(self.recent)
        self._thumbnails: dict[str, QIcon] = {}

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a source photo", "", PHOTO_FILTER)
        if path:
            self.source_chosen.emit(path)

    def set_recent(self, paths: list[str]) -> None:
        self.recent.clear()
        for path in paths:
            icon = self._thumbnails.get(path)
            if icon is None:
                icon = self._thumbnail(path)
                if icon is None:
                    continue  # moved or deleted since: not offered
                self._thumbnails[path] = icon
            item = QListWidgetItem(icon, Path(path).name[:14])
            item.setData(Qt.ItemDataRole.UserRole, path)
            item.setToolTip(path)
            self.recent.addItem(item)

    def _thumbnail(self, path: str) -> QIcon | None:
        image = cv2.imread(path, cv2.IMREAD_REDUCED_COLOR_4) if Path(path).is_file() else None
        if image is None:
            return None
        return QIcon(pixmap_of(image, THUMBNAIL))

    def show_source(self, source_face, mode: str, index: int = 0) -> None:
        """The SourceFace in use (None: passthrough, or nothing loaded); `index`: which of its
        faces is worn (the source_face setting)."""
        self._show_faces(source_face, index)
        if source_face is not None:
            source_face = source_face.choose(index)
        if source_face is None:
            self.face.clear()
            self.name.setText("(not used in passthrough)" if mode == "passthrough" else "")
            self.face.setText("passthrough" if mode == "passthrough" else "no source")
            return
        crop = face_crop(source_face.image, source_face.face.box)
        tip = "the face found in the source photo"
        if mode == "swap":
            # What will really be worn: the clean texture (the photo's light removed, a hand or
            # hair in front of the face filled in, lipstick toned down), made once per photo.
            from realtime.swap.texture import clean_texture_of

            made = [value for key, value in source_face.memo.items()
                    if isinstance(key, tuple) and key[:1] == ("clean_texture",)
                    and key[2:] == (id(source_face.image), id(source_face.face))]
            try:
                texture = made[0] if made else clean_texture_of(source_face)
                crop = face_crop(texture.image, _box_of(texture.points))
                tip = ("the face as it will be worn: the photo's own light removed, glasses, a hand or hair "
                       "in front of the face filled in")
            except Exception:  # noqa: BLE001 - the raw face is still worth showing
                pass
        self.face.setToolTip(tip)
        self.face.setPixmap(pixmap_of(crop, 112))
        self.name.setText(source_face.name)
        self.name.setToolTip(source_face.path)

    def _show_faces(self, source_face, index: int) -> None:
        faces = source_face.faces if source_face is not None else ()
        self.faces.clear()
        for number, face in enumerate(faces):
            x0, _, x1, _ = face.box
            where = "left" if (x0 + x1) / 2 < source_face.image.shape[1] / 3 else (
                "right" if (x0 + x1) / 2 > 2 * source_face.image.shape[1] / 3 else "middle")
            self.faces.addItem(f"face {number + 1} of {len(faces)}: "
                               f"{'largest, ' if number == 0 else ''}{where}, {face.size:.0f} px")
        if faces:
            self.faces.setCurrentIndex(min(index, len(faces) - 1))
        self.faces.setVisible(len(faces) > 1)
