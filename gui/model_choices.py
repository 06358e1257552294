"""Marks, in the window's implementation choices, those whose model files are missing: greyed,
with a tooltip naming the fetch command. The item text stays the implementation's name (the
controls emit it as the setting's value), so this hook works on whatever builds the combos."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QBrush, QColor
from PyQt6.QtWidgets import QComboBox

MISSING_ROLE = Qt.ItemDataRole.UserRole + 14


def mark_missing(choices: dict[str, QComboBox], missing: dict[str, dict[str, str]]) -> None:
    for kind, combo in choices.items():
        reasons = missing.get(kind, {})
        for index in range(combo.count()):
            name = combo.itemText(index)
            why = reasons.get(name)
            combo.setItemData(index, why, MISSING_ROLE)
            combo.setItemData(index, f"{name}: {why}" if why else None, Qt.ItemDataRole.ToolTipRole)
            combo.setItemData(index, QBrush(QColor("gray")) if why else None, Qt.ItemDataRole.ForegroundRole)
