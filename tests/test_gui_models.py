"""The window never strands the user on a missing model (issue 14): the engine keeps running
what worked, the error names the fetch command, and the choices mark what is not downloaded."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from gui.qt import application  # noqa: E402
from gui.state import GuiState, Store  # noqa: E402
from realtime.settings import Settings  # noqa: E402
from tests.conftest import media  # noqa: E402

WAIT_MS = 30000


@pytest.fixture(scope="session")
def qapp_cls():
    application()
    from PyQt6.QtWidgets import QApplication

    return QApplication


def test_choosing_a_missing_model_keeps_the_engine_running(qtbot, tmp_path, monkeypatch):
    from gui.model_choices import MISSING_ROLE
    from gui.window import MainWindow

    monkeypatch.setenv("FACECAM_MODELS", str(tmp_path / "no-models"))
    store = Store(tmp_path / "config")
    store.save(Settings(), GuiState(media_dir=str(tmp_path / "media")))
    window = MainWindow(Settings().replace(input=str(media("d9.mp4"))), store)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.preview.frames_shown >= 3, timeout=WAIT_MS)
    engine = window.controller.engine
    combo = window.mode_panel.choices["swapper"]
    index = combo.findText("inswapper")
    qtbot.waitUntil(lambda: combo.itemData(index, MISSING_ROLE) is not None, timeout=WAIT_MS)
    assert "facecam models fetch" in combo.itemData(index, MISSING_ROLE)

    combo.setCurrentIndex(index)
    combo.activated.emit(index)  # as a user's pick does
    qtbot.waitUntil(lambda: bool(window.errors), timeout=WAIT_MS)
    assert "facecam models fetch inswapper_128" in window.errors[-1]
    assert "still running swap with mesh" in window.errors[-1]
    # the same engine goes on, frames keep coming, the choice shows what really runs
    shown = window.preview.frames_shown
    qtbot.waitUntil(lambda: window.preview.frames_shown > shown + 5, timeout=WAIT_MS)
    assert window.controller.engine is engine and engine.running and engine.failure is None
    assert combo.currentText() == "mesh"
