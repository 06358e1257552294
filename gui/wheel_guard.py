"""The mouse wheel over a scrolling panel scrolls the panel.

Qt gives a wheel event to the slider, list or spin box under the pointer, which changes its
value (and the app saves it) while the user only meant to scroll past it. The usual Qt fix: an
event filter on those widgets that passes the wheel to the scroll area unless the widget has
the keyboard focus (clicked or tabbed to: then the wheel is meant for it), and a focus policy
that does not give focus on a wheel turn. Installed on a whole panel, not per control, so
controls generated from the settings are covered too.
"""

from __future__ import annotations

from PyQt6.QtCore import QEvent, QObject, Qt
from PyQt6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QWidget,
)

WHEEL_SENSITIVE = (QAbstractSlider, QComboBox, QAbstractSpinBox)


class WheelGuard(QObject):
    def __init__(self, scroll_area: QAbstractScrollArea) -> None:
        super().__init__(scroll_area)
        self.scroll_area = scroll_area

    def install(self, panel: QWidget) -> int:
        """Guard every wheel-sensitive widget inside `panel` (again after controls were added:
        a widget is guarded once). Returns how many widgets are guarded now."""
        guarded = 0
        for widget in panel.findChildren(QWidget):
            if isinstance(widget, WHEEL_SENSITIVE):
                if not widget.property("facecam_wheel_guard"):
                    widget.installEventFilter(self)
                    widget.setProperty("facecam_wheel_guard", True)
                    if widget.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
                guarded += 1
        return guarded

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() != QEvent.Type.Wheel or not isinstance(watched, QWidget) or watched.hasFocus():
            return False
        # Hand the turn to the scroll area's scroll bar: the panel scrolls, the value stays.
        QApplication.sendEvent(self.scroll_area.verticalScrollBar(), event)
        return True
