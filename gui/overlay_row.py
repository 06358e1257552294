"""The overlay switch of the Output group: on/off, what is opaque, and the page's URL with a
copy button (the URL goes into an OBS Browser Source)."""

from __future__ import annotations

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QApplication, QComboBox, QGridLayout, QLabel, QPushButton, QWidget

from realtime.settings import Settings

ALPHA_MODES = ("face", "person", "portrait", "frame")


class OverlayRow(QWidget):
    toggled = pyqtSignal(bool)
    changed = pyqtSignal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(4, 0, 4, 4)
        self.button = QPushButton("OBS overlay")
        self.button.setCheckable(True)
        self.button.setToolTip("serve a page with a transparent background for an OBS Browser Source")
        self.button.clicked.connect(lambda on: self.toggled.emit(bool(on)))
        self.alpha = QComboBox()
        self.alpha.addItems(ALPHA_MODES)
        self.alpha.setToolTip("what the page shows: the swapped face, the person cut out, "
                              "the animated portrait cut out, or the whole frame")
        self.alpha.currentTextChanged.connect(lambda text: self.changed.emit({"overlay_alpha": text}))
        self.url = QLabel("off")
        self.url.setTextInteractionFlags(self.url.textInteractionFlags().TextSelectableByMouse)
        self.copy = QPushButton("Copy URL")
        self.copy.setEnabled(False)
        self.copy.clicked.connect(self.copy_url)
        layout.addWidget(self.button, 0, 0)
        layout.addWidget(self.alpha, 0, 1)
        layout.addWidget(self.url, 1, 0, 1, 2)
        layout.addWidget(self.copy, 2, 0)
        layout.setColumnStretch(1, 1)
        self._url: str | None = None

    def copy_url(self) -> None:
        if self._url:
            QApplication.clipboard().setText(self._url)

    def show_settings(self, settings: Settings, url: str | None) -> None:
        on = "overlay" in settings.output.outputs
        self.button.blockSignals(True)
        self.button.setChecked(on)
        self.button.blockSignals(False)
        self.alpha.blockSignals(True)
        self.alpha.setCurrentText(settings.output.overlay_alpha)
        self.alpha.blockSignals(False)
        self._url = url if on else None
        self.url.setText(url if on and url else ("starting…" if on else "off"))
        self.copy.setEnabled(bool(self._url))
