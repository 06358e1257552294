"""The desktop app, driven like a user would (pytest-qt, offscreen) over real video input."""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest

pytest.importorskip("pytestqt")

from gui.qt import application, drop_opencv_qt_paths  # noqa: E402
from gui.state import GuiState, Store  # noqa: E402
from realtime.settings import Settings  # noqa: E402
from tests import fake_vcam  # noqa: E402
from tests.conftest import media, run_cli, unaltered  # noqa: E402

WAIT_MS = 30000


@pytest.fixture(scope="session")
def qapp_cls():
    """pytest-qt's QApplication, created the app's way (OpenCV's Qt 5 paths dropped first)."""
    application()
    from PyQt6.QtWidgets import QApplication

    return QApplication


@pytest.fixture
def open_window(qtbot, tmp_path):
    from gui.window import MainWindow

    def make(**changes) -> MainWindow:
        store = Store(tmp_path / "config")
        store.save(Settings(), GuiState(media_dir=str(tmp_path / "media")))
        window = MainWindow(Settings().replace(**changes), store)
        qtbot.addWidget(window)  # closed (engine stopped) at the end of the test
        window.show()
        qtbot.waitUntil(lambda: window.preview.frames_shown >= 3, timeout=WAIT_MS)
        return window

    return make


@pytest.fixture
def fake_camera(monkeypatch):
    """Only the fake pyvirtualcam backend exists (a real v4l2loopback must not be picked)."""
    import pyvirtualcam.camera

    backend = fake_vcam.FakeCameraBackend
    backend.instances.clear()
    monkeypatch.setattr(pyvirtualcam.camera, "BACKENDS", {"facecam-fake": backend})
    return backend


def still_video(path, picture: np.ndarray, frames: int = 30, fps: int = 30):
    """A video whose every frame is `picture`: output differences then come from the settings."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = picture.shape[1], picture.shape[0], "yuv420p"
        stream.options = {"crf": "12"}
        for _ in range(frames):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="bgr24")))
        container.mux(stream.encode())
    return path


def drop_file(window, path) -> None:
    """Drop a file on the window, as from a file manager."""
    from PyQt6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PyQt6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    assert event.isAccepted()


def running(window) -> bool:
    engine = window.controller.engine  # None while the control thread restarts it
    return engine is not None and engine.running


def face_box(window) -> tuple[int, int, int, int]:
    frame = window.controller.engine.latest_frame()
    assert frame is not None and frame.faces, "the face in the input must be found"
    return frame.faces[0].box


def collect_frames(window) -> list:
    kept: list = []
    window.controller.engine.add_listener(kept.append)
    return kept


def test_choosing_a_source_photo_changes_the_output(open_window, qtbot, tmp_path):
    from tests.conftest import read_video

    first_frame = read_video(media("d9.mp4"))[0]
    video = still_video(tmp_path / "still.mp4", first_frame)
    window = open_window(input=str(video), source=str(media("s12.jpg")))
    x0, y0, x1, y1 = face_box(window)
    before = window.preview.picture[y0:y1, x0:x1].astype(int)
    assert "s12.jpg" in window.windowTitle()

    drop_file(window, media("s42.jpg"))
    qtbot.waitUntil(lambda: "s42.jpg" in window.windowTitle(), timeout=WAIT_MS)
    kept = collect_frames(window)
    qtbot.waitUntil(lambda: len(kept) >= 10, timeout=WAIT_MS)  # past the frames already in flight
    qtbot.waitUntil(lambda: window.preview.picture is kept[-1].output, timeout=WAIT_MS)
    after = window.preview.picture[y0:y1, x0:x1].astype(int)
    # Same input, same source: the same face. The median over the last four frame pairs (0.01
    # here): one pair read 2.66 once on a loaded machine (session 38's clean clone of main),
    # a frame caught while the tracker or the occluders still settled after the switch.
    faces = [frame.output[y0:y1, x0:x1].astype(int) for frame in kept[-5:]]
    noise = float(np.median([np.abs(a - b).mean() for a, b in zip(faces[1:], faces[:-1], strict=True)]))
    change = np.abs(after - before).mean()  # another source photo: another face
    print(f"\nmean difference in the face box: {change:.2f} between sources, {noise:.2f} within one")
    assert noise < 2 and change > 5 * max(noise, 0.5)
    assert window.source_panel.recent.count() == 2  # both photos offered as recent thumbnails
    assert window.source_panel.face.pixmap() is not None and not window.source_panel.face.pixmap().isNull()
    assert not window.errors


def test_virtual_camera_toggle_starts_and_stops_frames(open_window, qtbot, fake_camera):
    from PyQt6.QtCore import Qt

    window = open_window(input=str(media("d9.mp4")))
    qtbot.mouseClick(window.output_panel.vcam, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(fake_camera.instances) and len(fake_camera.instances[-1].sent) >= 10,
                    timeout=WAIT_MS)
    camera = fake_camera.instances[-1]
    qtbot.waitUntil(lambda: "/dev/fake-facecam" in window.output_panel.vcam_state.text(), timeout=WAIT_MS)
    assert window.output_panel.vcam.isChecked()
    assert (camera.width, camera.height) == (512, 480)

    qtbot.keyClick(window, Qt.Key.Key_V)  # the shortcut switches it off again
    qtbot.waitUntil(lambda: camera.closed, timeout=WAIT_MS)
    sent = len(camera.sent)
    qtbot.waitUntil(lambda: not window.output_panel.vcam.isChecked(), timeout=WAIT_MS)
    qtbot.wait(300)
    assert len(camera.sent) == sent  # no more frames once off
    assert window.output_panel.vcam_state.text() == "off"
    assert window.preview.frames_shown > 0 and not window.errors


def test_no_virtual_camera_driver_is_said_in_the_window(open_window, qtbot, monkeypatch):
    import pyvirtualcam.camera

    monkeypatch.setattr(pyvirtualcam.camera, "BACKENDS", {})
    window = open_window(input=str(media("d9.mp4")))
    window.set_vcam(True)
    qtbot.waitUntil(lambda: bool(window.errors), timeout=WAIT_MS)
    assert "no virtual camera available" in window.errors[-1]
    assert window.banner_row.isVisible()
    assert window.output_panel.vcam_state.text().startswith("unavailable")
    qtbot.waitUntil(lambda: not window.output_panel.vcam.isChecked(), timeout=WAIT_MS)


def test_a_slider_change_reaches_the_engine_on_the_next_frame(open_window, qtbot):
    window = open_window(input=str(media("d9.mp4")))
    kept = collect_frames(window)
    qtbot.waitUntil(lambda: len(kept) >= 3, timeout=WAIT_MS)
    swapped = kept[-1]
    assert swapped.faces and not np.array_equal(swapped.output, swapped.image)

    with qtbot.waitSignal(window.controller.settings_changed, timeout=WAIT_MS):
        window.blend_panel.sliders["opacity"].setValue(0)  # as a drag to the left end would
    applied_ns = time.monotonic_ns()
    assert window.controller.engine.settings.blend.opacity == 0.0
    qtbot.waitUntil(lambda: sum(f.capture_ns > applied_ns for f in kept) >= 5, timeout=WAIT_MS)
    after = [f for f in kept if f.capture_ns > applied_ns]
    # Opacity 0: not one frame captured after the change shows the swapped face.
    # (The face box is compared: the "AI-altered" label sits in a corner of every frame.)
    def face_area(picture, frame):
        x0, y0, x1, y1 = frame.faces[0].box
        return picture[y0:y1, x0:x1]
    assert all(f.faces for f in after)
    assert all(unaltered(face_area(f.output, f), face_area(f.image, f)) for f in after)
    assert all(f.faces for f in after)
    assert window.blend_panel.values["opacity"].text() == "0.00"


def test_a_bad_photo_shows_an_error_and_the_app_keeps_running(open_window, qtbot, tmp_path):
    plain = tmp_path / "wall.png"
    cv2.imwrite(str(plain), np.full((200, 200, 3), 120, dtype=np.uint8))
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a picture")
    window = open_window(input=str(media("d9.mp4")), source=str(media("s12.jpg")))

    window.choose_source(str(plain))
    qtbot.waitUntil(lambda: bool(window.errors), timeout=WAIT_MS)
    assert "no face found" in window.errors[-1]
    assert window.banner_row.isVisible() and "no face found" in window.banner.text()
    window.choose_source(str(broken))
    qtbot.waitUntil(lambda: len(window.errors) >= 2, timeout=WAIT_MS)
    assert "not a picture" in window.errors[-1]

    shown = window.preview.frames_shown
    qtbot.waitUntil(lambda: window.preview.frames_shown > shown + 5, timeout=WAIT_MS)
    assert window.controller.settings.source.endswith("s12.jpg")  # the old photo is kept
    assert "s12.jpg" in window.windowTitle()
    assert window.controller.engine.running


def test_closing_the_window_stops_every_thread(open_window, qtbot, fake_camera, tmp_path):
    before = set(threading.enumerate())
    window = open_window(input=str(media("d9.mp4")))
    window.set_vcam(True)
    window.set_recording(True)
    qtbot.waitUntil(lambda: window.output_panel.record.isChecked() and window.output_panel.vcam.isChecked(),
                    timeout=WAIT_MS)
    qtbot.wait(700)
    assert window.output_panel.record_state.text().startswith("●")
    started = [t for t in threading.enumerate() if t not in before]
    assert any(t.name == "facecam-vcam" for t in started)

    window.close()
    left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not left, f"threads still alive: {[t.name for t in left]}"
    recordings = list((tmp_path / "media").glob("facecam-*.mp4"))
    assert len(recordings) == 1 and recordings[0].stat().st_size > 1000  # finalised, playable
    assert fake_camera.instances[-1].closed


def test_a_saved_photo_that_is_gone_falls_back_to_the_built_in_face(open_window, tmp_path):
    window = open_window(input=str(media("d9.mp4")), source=str(tmp_path / "deleted.jpg"))
    assert any("not found" in error for error in window.errors)
    assert window.controller.settings.source is None
    assert "built-in face" in window.windowTitle()


def test_settings_and_recent_sources_persist(open_window, qtbot, tmp_path):
    from gui.window import MainWindow

    window = open_window(input=str(media("d9.mp4")), source=str(media("s42.jpg")))
    window.blend_panel.sliders["feather"].setValue(50)
    qtbot.waitUntil(lambda: window.controller.settings.blend.feather == 0.25, timeout=WAIT_MS)
    window.close()

    store = Store(tmp_path / "config")
    saved = store.load_settings()
    assert saved.blend.feather == 0.25 and saved.source.endswith("s42.jpg")
    assert saved.output.outputs == ()  # the app never starts a camera or a recording by itself
    reopened = MainWindow(None, store)
    qtbot.addWidget(reopened)
    assert reopened.blend_panel.sliders["feather"].value() == 50
    assert reopened.source_panel.recent.count() == 1
    reopened.close()


def test_the_preview_keeps_up_with_a_30_fps_input(open_window, qtbot):
    window = open_window(input=str(media("d9.mp4")), source=str(media("s12.jpg")))
    qtbot.wait(3000)
    window.display_lags_ms.clear()
    qtbot.wait(3000)
    lags = np.array(window.display_lags_ms)
    rate, _ = window.preview_rate()
    stats = window.controller.stats()
    print(f"\npreview {rate:.1f} FPS shown, capture-to-screen p50 {np.median(lags):.1f} ms "
          f"p95 {np.percentile(lags, 95):.1f} ms; engine: {stats.summary()}")
    # Bounded latency: frames are dropped rather than queued, so the lag never grows with time.
    # (A queue anywhere would add about a second every few seconds at this rate.)
    first, last = np.median(lags[: len(lags) // 2]), np.median(lags[len(lags) // 2:])
    assert last < first + 300
    assert np.median(lags) < 1000
    assert len(lags) >= 15  # at least 5 FPS shown even on a very busy machine


class MissingModelSwapper:
    """A swapper whose weights are not downloaded: what a neural swapper says then."""

    name = "needs-model"

    def __init__(self, settings) -> None:
        from realtime.errors import FacecamError

        raise FacecamError("model inswapper_128 is not downloaded; run: facecam models fetch inswapper_128")


def test_a_missing_model_is_said_and_another_choice_runs_again(open_window, qtbot, monkeypatch):
    from realtime import swap

    monkeypatch.setitem(swap.SWAPPERS, "needs-model", "tests.test_gui:MissingModelSwapper")
    window = open_window(input=str(media("d9.mp4")))
    combo = window.mode_panel.choices["swapper"]
    assert combo.isEnabled() and combo.findText("needs-model") >= 0
    combo.setCurrentText("needs-model")
    combo.activated.emit(combo.currentIndex())  # as a user's pick does
    qtbot.waitUntil(lambda: bool(window.errors), timeout=WAIT_MS)
    assert "facecam models fetch inswapper_128" in window.errors[-1]
    assert "Traceback" not in window.banner.text()

    window.change({"swapper": "mesh"})
    qtbot.waitUntil(lambda: running(window) and window.controller.engine.failure is None, timeout=WAIT_MS)
    shown = window.preview.frames_shown
    qtbot.waitUntil(lambda: window.preview.frames_shown > shown + 5, timeout=WAIT_MS)
    assert window.mode_panel.choices["swapper"].currentText() == "mesh"


def test_a_missing_camera_is_said_and_the_previous_input_kept(open_window, qtbot):
    window = open_window(input=str(media("d9.mp4")))
    window.change({"input": "7"})  # what choosing a camera that is not there does
    qtbot.waitUntil(lambda: bool(window.errors), timeout=WAIT_MS)
    assert "camera 7 not found" in window.errors[-1]
    qtbot.waitUntil(lambda: running(window), timeout=WAIT_MS)
    assert window.controller.settings.capture.input.endswith("d9.mp4")
    shown = window.preview.frames_shown
    qtbot.waitUntil(lambda: window.preview.frames_shown > shown + 5, timeout=WAIT_MS)

    window.change({"input": "demo", "size": (640, 360)})
    qtbot.waitUntil(lambda: "demo clip" in window.windowTitle(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.preview.picture is not None and window.preview.picture.shape[:2] == (360, 640),
                    timeout=WAIT_MS)
    assert window.mode_panel.size.currentText() == "640x360"


def test_snapshot_and_mirror_from_the_keyboard(open_window, qtbot, tmp_path):
    from PyQt6.QtCore import Qt

    window = open_window(input=str(media("d9.mp4")))
    qtbot.keyClick(window, Qt.Key.Key_M)
    qtbot.waitUntil(lambda: window.controller.settings.output.mirror, timeout=WAIT_MS)
    # the check box follows when the UI thread gets the settings signal (a moment later under load)
    qtbot.waitUntil(window.output_panel.mirror.isChecked, timeout=WAIT_MS)
    qtbot.keyClick(window, Qt.Key.Key_P)
    qtbot.waitUntil(lambda: bool(list((tmp_path / "media").glob("facecam-*.png"))), timeout=WAIT_MS)
    # The file can be seen before it is fully written: wait until it reads as a picture.
    qtbot.waitUntil(lambda: cv2.imread(str(next((tmp_path / "media").glob("facecam-*.png")))) is not None,
                    timeout=WAIT_MS)
    saved = cv2.imread(str(next((tmp_path / "media").glob("facecam-*.png"))))
    assert saved.shape == (480, 512, 3) and saved.std() > 10  # a real picture, not a blank
    qtbot.waitUntil(lambda: "snapshot saved" in window.statusBar().currentMessage(), timeout=WAIT_MS)


def test_a_settings_group_becomes_controls_that_emit_engine_changes(qtbot):
    from gui.controls import SettingsForm

    form = SettingsForm("faces", exclude=("smoothing",))
    qtbot.addWidget(form)
    # Every field of the group but the excluded one becomes a control (other issues add fields).
    assert {"max_faces", "min_confidence", "hold_frames"} <= set(form.controls)
    assert "smoothing" not in form.controls
    form.show_settings(Settings().replace(max_faces=3, hold_frames=30))
    assert form.value_of("max_faces", form.controls["max_faces"].value()) == 3
    assert form.value_of("hold_frames", form.controls["hold_frames"].value()) == 30
    with qtbot.waitSignal(form.changed) as emitted:
        form.controls["hold_frames"].setValue(form.controls["hold_frames"].maximum())
    assert emitted.args == [{"hold_frames": 120}]
    Settings().replace(**emitted.args[0])  # a change the engine accepts
    output = SettingsForm("output", exclude=("outputs",))
    qtbot.addWidget(output)
    assert {"mirror", "stats_overlay", "label"} <= set(output.controls)


def test_the_provider_shown_is_the_one_the_engine_reports():
    from gui.stats_panel import CLASSICAL_PROVIDER, provider_of
    from realtime.metrics import Stats

    assert provider_of(Stats(), Settings()) == CLASSICAL_PROVIDER
    neural = Settings().replace(swapper="inswapper", device="cuda")
    assert "not reported" in provider_of(Stats(), neural) and "CUDA" not in provider_of(Stats(), neural)
    reported = Stats(notes=("swap: provider CUDAExecutionProvider", "camera gives 15 fps"))
    assert provider_of(reported, neural) == "swap: provider CUDAExecutionProvider"


def test_opencv_qt_plugin_path_is_dropped():
    import cv2 as opencv

    plugins = opencv.__file__.replace("__init__.py", "qt/plugins")
    environ = {"QT_QPA_PLATFORM_PLUGIN_PATH": plugins, "QT_QPA_FONTDIR": "/usr/share/fonts",
               "HOME": "/home/x"}
    assert drop_opencv_qt_paths(environ) == ["QT_QPA_PLATFORM_PLUGIN_PATH"]
    assert environ == {"QT_QPA_FONTDIR": "/usr/share/fonts", "HOME": "/home/x"}


def test_gui_without_a_display_says_so():
    helped = run_cli("gui", "--help")
    assert helped.returncode == 0 and "--config-dir" in helped.stdout
    result = run_cli("gui", env={"QT_QPA_PLATFORM": ""})
    assert result.returncode == 2
    assert "needs a display" in result.stderr and "Traceback" not in result.stderr


# -- issue 19, item 15: traps a new user meets ---------------------------------------------------
def _wheel(widget, notches: int = -1) -> None:
    """Turn the mouse wheel over `widget` (negative: towards the user, i.e. scroll down)."""
    from PyQt6.QtCore import QPoint, QPointF, Qt
    from PyQt6.QtGui import QWheelEvent
    from PyQt6.QtWidgets import QApplication

    local = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(local, QPointF(widget.mapToGlobal(local.toPoint())), QPoint(0, 0),
                        QPoint(0, 120 * notches), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_the_wheel_over_the_side_panel_scrolls_it_and_changes_no_setting(open_window, qtbot):
    from PyQt6.QtWidgets import QComboBox, QScrollArea, QSlider

    window = open_window(input=str(media("d9.mp4")))
    window.resize(1280, 420)  # short enough that the panel scrolls
    scroll = window.findChild(QScrollArea)
    qtbot.waitUntil(lambda: scroll.verticalScrollBar().maximum() > 0, timeout=WAIT_MS)
    slider = window.blend_panel.findChildren(QSlider)[0]
    combos = [c for c in window.mode_panel.findChildren(QComboBox) if c.count() > 1]
    before = (slider.value(), [c.currentIndex() for c in combos], window.controller.settings)
    bar = scroll.verticalScrollBar()
    for widget in [slider, *combos]:
        bar.setValue(0)
        _wheel(widget)
        assert bar.value() > 0, f"the wheel over a {type(widget).__name__} did not scroll the panel"
    qtbot.wait(300)
    assert (slider.value(), [c.currentIndex() for c in combos], window.controller.settings) == before
    # a control the user clicked into (focus) takes the wheel, as a user expects
    window.activateWindow()
    slider.setFocus()
    qtbot.waitUntil(slider.hasFocus, timeout=5000)
    _wheel(slider, notches=-1 if slider.value() > slider.minimum() else 1)
    assert slider.value() != before[0]


def test_output_controls_are_in_view_at_the_default_window_size(open_window):
    window = open_window(input=str(media("d9.mp4")))
    assert (window.width(), window.height()) == (1280, 760)
    panel = window.output_panel
    for button in (panel.vcam, panel.record, panel.snapshot_button):
        visible = button.visibleRegion().boundingRect()
        assert visible.size() == button.size(), f"{button.text()} is below the fold ({visible})"


def test_the_virtual_camera_error_is_shown_once_short_with_details(open_window, qtbot, monkeypatch):
    import pyvirtualcam.camera

    monkeypatch.setattr(pyvirtualcam.camera, "BACKENDS", {})
    window = open_window(input=str(media("d9.mp4")))
    window.set_vcam(True)
    qtbot.waitUntil(lambda: bool(window.errors), timeout=WAIT_MS)
    full = window.errors[-1]
    assert len(full) > 200  # the install hint: long

    def shown() -> list[str]:
        texts = [window.banner.text(), window.statusBar().currentMessage(), window.output_panel.vcam_state.text()]
        return [t for t in texts if t]

    assert sum(full in text for text in shown()) == 0
    assert len(window.banner.text()) <= 160 and window.banner.text().startswith("no virtual camera")
    assert window.output_panel.vcam_state.text() == "unavailable"
    assert window.banner_details.isVisible()
    window.banner_details.click()  # details on demand, in one place
    assert sum(full in text for text in shown()) == 1 and window.banner.text() == full
    window.banner_details.click()
    assert len(window.banner.text()) <= 160


def test_stats_rows_of_another_mode_do_not_pile_up(open_window, qtbot):
    window = open_window(input=str(media("d9.mp4")))
    qtbot.waitUntil(lambda: "swap" in window.stats_panel.stage_bars, timeout=WAIT_MS)
    window.change({"mode": "passthrough"})
    qtbot.waitUntil(lambda: "passthrough" in window.stats_panel.stage_bars, timeout=WAIT_MS)
    qtbot.wait(2 * 250)  # two more polls
    rows = list(window.stats_panel.stage_bars)
    assert "swap" not in rows and len(rows) == len(set(rows))
    grid = window.stats_panel._bars
    labels = [grid.itemAt(i).widget().text() for i in range(grid.count())
              if grid.itemAt(i).widget() is not None and not hasattr(grid.itemAt(i).widget(), "setValue")]
    assert sorted(labels) == sorted(rows)  # no orphaned row left in the grid


def test_a_passthrough_preview_carries_no_ai_altered_label(open_window, qtbot, tmp_path):
    from tests.conftest import read_video

    first = read_video(media("d9.mp4"))[0]
    window = open_window(input=str(still_video(tmp_path / "still.mp4", first)), mode="passthrough")
    kept = collect_frames(window)
    qtbot.waitUntil(lambda: len(kept) >= 3, timeout=WAIT_MS)
    frame = kept[-1]
    height, width = frame.image.shape[:2]
    corner = np.abs(frame.output.astype(int) - frame.image.astype(int))[height * 8 // 10:, width * 6 // 10:]
    assert corner.max(axis=2).__gt__(12).sum() < 10  # only the invisible mark (±2 levels) differs


def test_no_command_line_flag_is_suggested_by_a_live_recording_of_a_video_with_sound(tmp_path, caplog):
    from realtime.engine import Engine
    from tests.test_recorder import make_clip

    clip = make_clip(tmp_path / "with-sound.mp4")
    settings = Settings().replace(input=str(clip), mode="passthrough", live=True,
                                  outputs=(str(tmp_path / "out.mp4"),))
    with caplog.at_level("INFO"), Engine(settings) as engine:
        assert engine.wait(60)
    said = [r.getMessage() for r in caplog.records if "sound" in r.getMessage()]
    assert said and not any("--" in text for text in said)


def test_snapshots_without_a_videos_folder_say_where_they_went(qtbot, tmp_path, monkeypatch):
    from PyQt6.QtCore import Qt

    from gui.window import MainWindow

    home = tmp_path / "home"
    home.mkdir()  # no ~/Videos, no ~/Movies
    monkeypatch.setenv("HOME", str(home))
    store = Store(tmp_path / "config")
    store.save(Settings(), GuiState())  # no folder chosen: the default
    window = MainWindow(Settings().replace(input=str(media("d9.mp4"))), store)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.preview.frames_shown >= 3, timeout=WAIT_MS)
    qtbot.keyClick(window, Qt.Key.Key_P)
    qtbot.waitUntil(lambda: "snapshot saved" in window.statusBar().currentMessage(), timeout=WAIT_MS)
    message = window.statusBar().currentMessage()
    assert str(home / "facecam") in message and "Videos" in message
    assert list((home / "facecam").glob("facecam-*.png"))
