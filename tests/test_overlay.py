"""The streaming overlay (`-o overlay`), tested in a real browser: Debian's Chromium driven by
Playwright, as OBS's Browser Source (embedded Chromium) would show it."""

from __future__ import annotations

import io
import shutil
import socket
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

from realtime.engine import Engine
from realtime.settings import Settings

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("needs Debian's chromium (make test installs it: apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (the test extra)")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def start_engine(alpha: str = "face", host: str = "127.0.0.1", **changes) -> tuple[Engine, str]:
    port = free_port()
    settings = Settings().replace(mode=changes.pop("mode", "swap"), input="demo", loop=True, live=True,
                                  size=(640, 360), outputs=("overlay",), overlay_alpha=alpha,
                                  overlay_port=port, overlay_host=host, stats_overlay=False, **changes)
    engine = Engine(settings).start()
    overlay = engine._spec_outputs["overlay"]
    return engine, overlay.url


def wait_painted(page, count: int, timeout_s: float = 60) -> int:
    deadline = time.monotonic() + timeout_s
    painted = 0
    while time.monotonic() < deadline:
        painted = page.evaluate("window.facecam ? window.facecam.painted : 0")
        if painted >= count:
            return painted
        time.sleep(0.1)
    raise AssertionError(f"the page painted {painted} frames in {timeout_s} s, wanted {count}")


def screenshot_rgba(page) -> np.ndarray:
    from PIL import Image

    png = page.locator("#overlay").screenshot(omit_background=True)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def test_face_overlay_is_transparent_but_for_the_face_and_the_label(browser):
    engine, url = start_engine("face")
    try:
        page = browser.new_page(viewport={"width": 640, "height": 360})
        page.goto(url)
        wait_painted(page, 10)
        shot = screenshot_rgba(page)
        frame = engine.latest_frame() if hasattr(engine, "latest_frame") else engine._latest
        assert shot.shape[:2] == (360, 640)
        alpha = shot[:, :, 3]
        # Away from the face and the label: see-through.
        assert alpha[:40, :40].max() == 0
        assert alpha[:, :60].max() == 0
        # On the face (the nose tip of the last frame's landmarks): opaque.
        assert frame.faces, "the demo clip's face was not found"
        x, y = frame.faces[0].points[1].astype(int)
        assert alpha[y - 3:y + 4, x - 3:x + 4].min() >= 250
        # The label's corner (bottom-right) stays opaque: the overlay stays labelled.
        assert alpha[-12:-8, -40:-20].min() >= 250
        opaque = (alpha > 0).mean()
        assert 0.02 < opaque < 0.5, f"{opaque:.0%} of the page is opaque"
        # The picture changes as frames arrive (the demo face moves).
        time.sleep(0.5)
        later = screenshot_rgba(page)
        assert np.abs(later.astype(int) - shot.astype(int)).mean() > 0.2
    finally:
        engine.stop()


def test_two_viewers_and_a_reload(browser):
    engine, url = start_engine("frame")
    try:
        first, second = browser.new_page(), browser.new_page()
        first.goto(url)
        second.goto(url)
        wait_painted(first, 5)
        wait_painted(second, 5)
        assert engine._spec_outputs["overlay"].viewers == 2
        # A frame overlay is opaque everywhere.
        assert screenshot_rgba(first)[:, :, 3].min() == 255
        first.reload()
        wait_painted(first, 5)  # painted counts from 0 in the reloaded page
        assert first.evaluate("window.facecam.connects") == 1
        assert wait_painted(second, 15)
    finally:
        engine.stop()


def test_page_reconnects_when_facecam_restarts(browser):
    port = free_port()
    settings = Settings().replace(input="demo", loop=True, live=True, size=(320, 180), outputs=("overlay",),
                                  overlay_alpha="frame", overlay_port=port)
    engine = Engine(settings).start()
    page = browser.new_page()
    try:
        page.goto(engine._spec_outputs["overlay"].url)
        wait_painted(page, 3)
        engine.stop()
        engine = Engine(settings).start()  # same port: the open page finds it again
        before = page.evaluate("window.facecam.painted")
        wait_painted(page, before + 5, timeout_s=30)
        assert page.evaluate("window.facecam.connects") >= 2
    finally:
        engine.stop()


def test_another_interface_needs_the_token(browser):
    # 127.0.0.2 is still this machine (tests stay on loopback), but it is not the default
    # interface, so the overlay treats it as exposed and demands the token.
    engine, url = start_engine("frame", host="127.0.0.2")
    try:
        assert "token=" in url
        bare = url.split("?")[0]
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(bare, timeout=5)
        assert refused.value.code == 403
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(bare + "?token=wrong", timeout=5)
        page = browser.new_page()
        page.goto(url)
        wait_painted(page, 3)
    finally:
        engine.stop()


@pytest.mark.parametrize("mode, alpha", [("swap", "person"), ("animate", "portrait")])
def test_person_and_portrait_overlays_cut_out_the_person(browser, mode, alpha):
    engine, url = start_engine(alpha, mode=mode)
    try:
        page = browser.new_page(viewport={"width": 640, "height": 360})
        page.goto(url)
        wait_painted(page, 5)
        alpha = screenshot_rgba(page)[:, :, 3]
        opaque = (alpha > 128).mean()
        assert 0.05 < opaque < 0.9, f"{opaque:.0%} of the page is opaque"
    finally:
        engine.stop()


def test_nobody_watching_costs_nothing_and_the_engine_never_waits():
    engine, url = start_engine("face")
    try:
        # The engine runs on with no viewer at all (on a loaded 2-core machine 10 frames may
        # take more than a second: wait for them, up to a few seconds).
        deadline = time.monotonic() + 6.0
        while engine.stats().frames_out <= 10 and time.monotonic() < deadline:
            time.sleep(0.1)
        overlay = engine._spec_outputs["overlay"]
        assert overlay.frames_encoded == 0
        stats = engine.stats()
        assert stats.frames_out > 10
    finally:
        engine.stop()


def test_overlay_port_in_use_is_one_clear_error():
    from realtime.errors import FacecamError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = Settings().replace(input="demo", size=(320, 180), outputs=("overlay",), overlay_port=port)
        with pytest.raises(FacecamError, match="cannot listen"):
            Engine(settings).start()


@pytest.fixture(scope="session")
def qapp_cls():
    """pytest-qt's QApplication, created the app's way (OpenCV's Qt 5 paths dropped first)."""
    pytest.importorskip("pytestqt")
    from gui.qt import application

    application()
    from PyQt6.QtWidgets import QApplication

    return QApplication


def test_gui_switch_shows_the_url_and_copies_it(qtbot, tmp_path):
    from PyQt6.QtCore import Qt
    from PyQt6.QtWidgets import QApplication

    from gui.state import GuiState, Store
    from gui.window import MainWindow

    port = free_port()
    store = Store(tmp_path / "config")
    store.save(Settings(), GuiState(media_dir=str(tmp_path / "media")))
    window = MainWindow(Settings().replace(input="demo", size=(320, 180), overlay_port=port), store)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.preview.frames_shown >= 3, timeout=30000)
    assert window.overlay_row.url.text() == "off"
    qtbot.mouseClick(window.overlay_row.button, Qt.MouseButton.LeftButton)
    url = f"http://127.0.0.1:{port}/"
    qtbot.waitUntil(lambda: window.overlay_row.url.text() == url, timeout=30000)
    page = urllib.request.urlopen(url, timeout=5).read().decode()
    assert "facecam overlay" in page
    qtbot.mouseClick(window.overlay_row.copy, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == url
    qtbot.mouseClick(window.overlay_row.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.overlay_row.url.text() == "off", timeout=30000)
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=5)
    assert not window.errors
