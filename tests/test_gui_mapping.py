"""Face mapping in the desktop app (issue 18): click a face in the preview, choose a photo, that
face wears it; the name tags are drawn on the preview only; the chooser of the photo's faces."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

pytest.importorskip("pytestqt")

from tests.conftest import media  # noqa: E402
from tests.test_gui import WAIT_MS, collect_frames, open_window, qapp_cls, still_video  # noqa: E402,F401


def _colour_pixels(picture_bgr: np.ndarray, bgr: tuple[int, int, int]) -> int:
    return int((np.abs(picture_bgr.astype(int) - np.array(bgr)).sum(axis=2) < 40).sum())


def test_clicking_a_face_and_choosing_a_photo_maps_that_face(open_window, qtbot, tmp_path, monkeypatch):  # noqa: F811
    from PyQt6.QtCore import QPoint, Qt
    from PyQt6.QtWidgets import QFileDialog

    from benchmarks.mapping_clips import compose

    media("d9.mp4")
    media("d10.mp4")
    picture = compose("two", frames=1).frames[0]  # 480x240: faces centred at x=120 and x=360
    video = still_video(tmp_path / "two.mp4", picture)
    einstein, woman = str(media("s12.jpg")), str(media("s42.jpg"))
    window = open_window(input=str(video), source=einstein, max_faces=4)
    qtbot.waitUntil(lambda: len(window.controller.engine.latest_frame().faces) == 2, timeout=WAIT_MS)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (woman, "")))

    rect = window.preview.picture_rect()
    click = QPoint(int(rect.left() + rect.width() * 0.75), int(rect.top() + rect.height() * 0.5))
    qtbot.mouseClick(window.preview, Qt.MouseButton.LeftButton, pos=click)
    qtbot.waitUntil(lambda: any("s42.jpg" in rule for rule in window.controller.settings.swap.face_map),
                    timeout=WAIT_MS)
    kept = collect_frames(window)

    def right_wears_woman(frame) -> bool:
        return any(name == "s42" and box[0] > 240 for box, name, _, _ in frame.mapping)

    qtbot.waitUntil(lambda: len(kept) >= 3 and right_wears_woman(kept[-1]), timeout=WAIT_MS)
    frame = kept[-1]
    left = [name for box, name, _, _ in frame.mapping if box[2] < 240]
    assert left == ["s12"]  # the other face keeps the main photo
    right = np.s_[60:180, 310:410]
    assert np.abs(frame.result[right].astype(int) - picture[right].astype(int)).mean() > 4

    # The tags are on the preview, not in the frames that go out.
    qtbot.waitUntil(lambda: any(name == "s42" for _, name, _, _ in window.preview.tags), timeout=WAIT_MS)
    shown = window.preview.grab().toImage().convertToFormat(window.preview.grab().toImage().Format.Format_RGB888)
    width, height = shown.width(), shown.height()
    pixels = np.frombuffer(shown.constBits().asstring(shown.sizeInBytes()), np.uint8)
    pixels = pixels.reshape(height, shown.bytesPerLine())[:, :width * 3].reshape(height, width, 3)
    tag_bgr = (255, 200, 80)  # QColor(80, 200, 255)
    assert _colour_pixels(pixels[:, :, ::-1], tag_bgr) > 50
    assert _colour_pixels(frame.result, tag_bgr) < 5

    # A click beside the faces maps nothing and says so.
    before = window.controller.settings.swap.face_map
    assert not window.map_face_at(0.5, 0.05, photo=einstein)
    assert window.controller.settings.swap.face_map == before
    assert not window.errors


def test_a_photo_with_two_faces_offers_a_chooser(open_window, qtbot, tmp_path):  # noqa: F811
    einstein = cv2.imread(str(media("s12.jpg")))
    woman = cv2.resize(cv2.imread(str(media("s42.jpg"))), (einstein.shape[1], einstein.shape[0]))
    both = tmp_path / "both.png"
    cv2.imwrite(str(both), np.hstack([einstein, woman]))
    window = open_window(input="demo", source=str(both))
    chooser = window.source_panel.faces
    qtbot.waitUntil(lambda: chooser.count() == 2 and not chooser.isHidden(), timeout=WAIT_MS)
    chooser.setCurrentIndex(1)
    chooser.activated.emit(1)
    qtbot.waitUntil(lambda: window.controller.settings.swap.source_face == 1, timeout=WAIT_MS)
    assert chooser.currentIndex() == 1
