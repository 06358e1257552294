"""The One Euro filter (Casiez, Roussel, Vogel, CHI 2012), vectorised over all coordinates of a
face.

A low-pass filter whose cutoff rises with speed: a still face gets heavy smoothing (no jitter),
a fast turn gets little (no lag). One difference from filtering each coordinate on its own:
the speed that sets the cutoff is the face's (the median speed of its points, in face sizes per
second), so every point of a face is smoothed alike and the face keeps its shape while it moves.
With `parts` (groups of points that move on their own: lids, lips, brows, irises), the speed is
also the fastest part's, relative to the whole face's motion: a blink, an opening mouth or a glance
moves a few dozen of 478 points, so the median stayed at rest and the filter held the face at its
still cutoff (1 Hz at smoothing 0.5) through the expression (issue 22: on d9 the tracked eyes'
and mouth's opening correlated 0.92 and 0.90 with MediaPipe's own readings, 0.96 and 0.97 with
parts; the portraits it drives, mouth correlation 0.82 -> 0.94). The tracker uses parts in
animate mode only (realtime/faces/tracking.py).
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np


def _alpha(cutoff_hz: float, dt_s: float) -> float:
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt_s)


class LocalGate(Protocol):
    """A region that may open its own cutoff (realtime/faces/tracking.py's BrowGate)."""

    weights: np.ndarray
    """Per point, 0..1: how much of the local speed each point's cutoff takes."""

    def update(self, value: np.ndarray, scale: float, dt_s: float | None,
               derivative_cutoff_hz: float) -> float:
        """The region's speed (face sizes per second) after this sample; dt_s None: the first."""
        ...

    def reset(self) -> None:
        """Forget the samples seen."""
        ...


class OneEuroFilter:
    """Filter an array of coordinates over time, with real timestamps.

    min_cutoff_hz: the cutoff of a still signal (lower = smoother, more lag at rest).
    beta: how fast the cutoff grows with speed (in cutoff Hz per face size per second).
    derivative_cutoff_hz: cutoff for the speed estimate itself.
    """

    def __init__(self, min_cutoff_hz: float = 1.0, beta: float = 1.0,
                 derivative_cutoff_hz: float = 1.0, parts: tuple[np.ndarray, ...] = (),
                 local: LocalGate | None = None) -> None:
        self.set_parts(parts)
        self.local = local
        self.min_cutoff_hz = min_cutoff_hz
        self.beta = beta
        self.derivative_cutoff_hz = derivative_cutoff_hz
        self._value: np.ndarray | None = None
        self._speed: float | None = None
        self._time_s: float | None = None

    def set_parts(self, parts: tuple[np.ndarray, ...]) -> None:
        self.parts = parts
        """Groups of point indices whose own speed (relative to the face) also sets the cutoff."""
        # The parts as rows of one table (shorter rows padded with an index past the points, read
        # as +inf), so their medians come from one sort: np.median per part cost 15 us each.
        self._part_index = np.concatenate(parts) if parts else None
        width = max((len(part) for part in parts), default=0)
        self._part_rows = np.full((len(parts), width), -1, dtype=np.int64)
        for row, part in enumerate(parts):
            self._part_rows[row, :len(part)] = part
        lengths = np.array([len(part) for part in parts], dtype=np.int64)
        self._part_middle = ((lengths - 1) // 2, lengths // 2)

    def reset(self) -> None:
        self._value = None
        self._speed = None
        self._time_s = None
        if self.local is not None:
            self.local.reset()

    def __call__(self, value: np.ndarray, time_s: float, scale: float = 1.0) -> np.ndarray:
        """Filter one sample. `scale` converts coordinates to face sizes (speed is per size)."""
        value = np.asarray(value, dtype=np.float32)
        local = self.local if self.local is not None and len(self.local.weights) == len(value) else None
        if self._value is None or self._time_s is None:
            self._value = value.copy()
            self._time_s = time_s
            if local is not None:
                local.update(value, scale, None, self.derivative_cutoff_hz)
            return value.copy()
        if time_s <= self._time_s:  # time did not advance (a repeated frame): nothing new
            return self._value.copy()
        dt = time_s - self._time_s
        self._time_s = time_s
        step = value - self._value
        step = step.reshape(step.shape[0], -1) if step.ndim > 1 else step[:, None]
        point_speed = np.linalg.norm(step, axis=1) / max(scale, 1e-6) / dt
        raw_speed = float(np.median(point_speed))
        if self._part_index is not None and step.shape[0] > self._part_index.max():
            # Each part's motion less the face's (the median step: a head that moves moves every
            # part alike, and its speed is counted above already).
            count = step.shape[0]
            middle = np.partition(step, ((count - 1) // 2, count // 2), axis=0)
            face_step = (middle[(count - 1) // 2] + middle[count // 2]) / 2  # np.median, faster
            own = np.append(np.linalg.norm(step - face_step, axis=1), np.inf)
            table = np.sort(own[self._part_rows], axis=1)  # -1: the +inf past the points
            rows = np.arange(len(table))
            medians = (table[rows, self._part_middle[0]] + table[rows, self._part_middle[1]]) / 2
            # Less the face's median speed: at rest that is the points' jitter, which the
            # fastest of several small parts' medians exceeds by chance (taken whole, it raised
            # the still face's jitter by 40 % on d9 and d13).
            part_speed = float(medians.max()) / max(scale, 1e-6) / dt
            raw_speed = max(raw_speed, part_speed - raw_speed)
        if self._speed is None:
            # The first speed measured is taken as it is, not blended from rest: a head that
            # moves as the face is first seen (the start of a call or a recording, a face that
            # comes back) was held at the still cutoff for its first frames, 2-3 px behind on d3.
            self._speed = raw_speed
        else:
            a_d = _alpha(self.derivative_cutoff_hz, dt)
            self._speed = a_d * raw_speed + (1.0 - a_d) * self._speed
        local_speed = local.update(value, scale, dt, self.derivative_cutoff_hz) if local is not None else 0.0
        cutoff = self.min_cutoff_hz + self.beta * self._speed
        a = _alpha(cutoff, dt)
        previous = self._value
        self._value = a * value + (1.0 - a) * previous
        if local is not None and local_speed > self._speed:
            # The region's points take the local speed (by their weight), the others keep the
            # face's (the same arithmetic as without the region).
            region = np.flatnonzero(local.weights * local_speed > self._speed)
            speeds = local.weights[region] * local_speed
            tau = 1.0 / (2.0 * math.pi * (self.min_cutoff_hz + self.beta * speeds))
            a_points = (1.0 / (1.0 + tau / dt)).astype(np.float32).reshape(-1, *([1] * (value.ndim - 1)))
            self._value[region] = a_points * value[region] + (1.0 - a_points) * previous[region]
        return self._value.copy()
