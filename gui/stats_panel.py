"""The stats panel: every number comes from `Engine.stats()`.

FPS, end-to-end latency p50/p95, a bar per stage (p50, scaled to the frame budget of the input
rate, so a full bar means "this stage alone uses the whole frame time"), drops, the inference
provider in use, and a short history plot of FPS and latency.
"""

from __future__ import annotations

from collections import deque

from PyQt6.QtCore import QPointF, Qt
from PyQt6.QtGui import QColor, QPainter, QPen, QPolygonF
from PyQt6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from realtime.metrics import Stats
from realtime.settings import MODES, Settings

CLASSICAL_PROVIDER = "CPU (classical mesh engine, no neural model)"


def provider_of(stats: Stats, settings: Settings | None = None) -> str:
    """The execution provider the engine says it uses (a stats note). Without one: the classical
    engine when only mesh stages run, else say that it is not known (never guess "CUDA")."""
    for note in stats.notes:
        lowered = note.lower()
        if "provider" in lowered or "tensorrt" in lowered or "cuda" in lowered:
            return note
    if settings is None or settings.mode == "passthrough" or (
            settings.mode == "swap" and settings.swap.swapper == "mesh") or (
            settings.mode == "animate" and settings.animate.animator == "mesh"):
        return CLASSICAL_PROVIDER
    return f"not reported by the engine (asked for: {settings.inference.device})"


class HistoryPlot(QWidget):
    """FPS (green) and end-to-end p50 latency (orange) over the last samples."""

    def __init__(self, length: int = 120, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fps: deque[float] = deque(maxlen=length)
        self.latency: deque[float] = deque(maxlen=length)
        self.setMinimumHeight(70)

    def add(self, fps: float, latency_ms: float) -> None:
        self.fps.append(fps)
        self.latency.append(latency_ms)
        self.update()

    def _line(self, values: deque[float], top: float, colour: QColor, painter: QPainter) -> None:
        if len(values) < 2:
            return
        width, height = self.width() - 1, self.height() - 14
        step = width / (self.fps.maxlen - 1)
        start = width - step * (len(values) - 1)
        points = [QPointF(start + i * step, 12 + height * (1 - min(v, top) / top))
                  for i, v in enumerate(values)]
        painter.setPen(QPen(colour, 1.5))
        painter.drawPolyline(QPolygonF(points))

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor(30, 30, 30))
        fps_top = max(30.0, max(self.fps, default=0) * 1.2)
        latency_top = max(100.0, max(self.latency, default=0) * 1.2)
        self._line(self.fps, fps_top, QColor(90, 200, 110), painter)
        self._line(self.latency, latency_top, QColor(240, 150, 60), painter)
        painter.setPen(QColor(90, 200, 110))
        painter.drawText(4, 11, f"FPS (top {fps_top:.0f})")
        painter.setPen(QColor(240, 150, 60))
        painter.drawText(self.width() // 2, 11, f"latency ms (top {latency_top:.0f})")
        painter.end()


class StatsPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        numbers = QWidget()
        layout = QVBoxLayout(numbers)
        layout.setContentsMargins(0, 0, 0, 0)
        self.summary = QLabel("no frames yet")
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.provider = QLabel(CLASSICAL_PROVIDER)
        self.notes = QLabel("")
        self.notes.setWordWrap(True)
        layout.addWidget(self.summary)
        layout.addWidget(self.provider)
        self._bars_widget = QWidget()
        self._bars = QGridLayout(self._bars_widget)
        self._bars.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._bars_widget)
        layout.addStretch(1)
        outer.addWidget(numbers, 3)
        history = QVBoxLayout()
        self.plot = HistoryPlot()
        self.plot.setMinimumWidth(220)
        history.addWidget(self.plot, 1)
        history.addWidget(self.notes)
        outer.addLayout(history, 2)
        self.stage_bars: dict[str, QProgressBar] = {}
        self._labels: dict[str, QLabel] = {}
        self.last: Stats | None = None

    def _bar(self, name: str) -> QProgressBar:
        bar = self.stage_bars.get(name)
        if bar is None:
            row = len(self.stage_bars)
            bar = QProgressBar()
            bar.setMaximumHeight(16)
            bar.setTextVisible(True)
            label = QLabel(name)
            self._bars.addWidget(label, row, 0)
            self._bars.addWidget(bar, row, 1)
            self.stage_bars[name] = bar
            self._labels[name] = label
        return bar

    def _keep_rows(self, names: list[str]) -> None:
        """One row per stage that runs now, in pipeline order: rows of a mode left behind (the
        engine keeps their last numbers) go, instead of piling up under the new ones."""
        if list(self.stage_bars) == names:
            return
        for name in list(self.stage_bars):
            for widget in (self.stage_bars.pop(name), self._labels.pop(name)):
                self._bars.removeWidget(widget)
                widget.deleteLater()

    def show_stats(self, stats: Stats, preview: tuple[float, float] | None = None,
                   settings: Settings | None = None) -> None:
        """stats: the engine's; preview: (frames shown per second, capture-to-screen ms);
        settings: what the engine runs with (which stages are neural)."""
        self.last = stats
        e2e = stats.end_to_end
        text = (f"{stats.fps:5.1f} FPS (input {stats.input_fps:.1f})   "
                f"end-to-end p50 {e2e.p50:.1f} ms  p95 {e2e.p95:.1f} ms\n"
                f"frames {stats.frames_out}/{stats.frames_in}   dropped {stats.dropped}   "
                f"faces {stats.faces}   errors {sum(stats.errors.values())}")
        if preview is not None:
            text += f"\npreview: {preview[0]:.1f} FPS shown, capture to screen {preview[1]:.1f} ms"
        self.summary.setText(text)
        provider = provider_of(stats, settings)
        self.provider.setText("provider: " + provider)
        budget_ms = 1000.0 / stats.input_fps if stats.input_fps > 1 else 1000.0 / 30
        mode = settings.mode if settings is not None else None
        stages = {name: times for name, times in stats.stages.items()
                  if mode is None or name not in MODES or name == mode}
        self._keep_rows(list(stages))
        for name, times in stages.items():
            bar = self._bar(name)
            bar.setMaximum(1000)
            bar.setValue(int(min(1.0, times.p50 / budget_ms) * 1000))
            bar.setFormat(f"{times.p50:.1f} / {times.p95:.1f} ms")
        lines = [f"{where}: {count}" for where, count in stats.errors.items()]
        lines += [note for note in stats.notes if note != provider]
        self.notes.setText("\n".join(lines))
        if stats.frames_out >= 15:  # the first frames of a run (warm-up) are not representative
            self.plot.add(stats.fps, e2e.p50)
