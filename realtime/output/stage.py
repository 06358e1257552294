"""The output stage: finish the picture (mirror, provenance) and hand it to every output."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

import cv2
import numpy as np

from realtime.errors import FacecamError
from realtime.frame import Frame
from realtime.output import Output
from realtime.settings import Settings

log = logging.getLogger(__name__)

Finisher = Callable[[np.ndarray, Frame], np.ndarray]
"""Last touches on every output picture (provenance label and mark): (picture, frame) -> picture."""


class OutputStage:
    name = "output"

    def __init__(self, settings: Settings, outputs: Sequence[Output] = (),
                 finishers: Sequence[Finisher] = (),
                 on_error: Callable[[str, BaseException], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._outputs: list[Output] = list(outputs)
        self.finishers = list(finishers)
        self._on_error = on_error
        self.configure(settings)

    @property
    def outputs(self) -> list[Output]:
        with self._lock:
            return list(self._outputs)

    def replace_outputs(self, outputs: Sequence[Output]) -> list[Output]:
        """Swap in a new list of outputs between two frames; returns the ones removed (the
        caller closes them)."""
        with self._lock:
            removed = [o for o in self._outputs if o not in outputs]
            self._outputs = list(outputs)
        return removed

    def configure(self, settings: Settings) -> None:
        self.mirror = settings.output.mirror
        self.settings = settings
        # Outputs that follow settings live (the overlay's alpha mode) say so with a configure().
        for output in self.outputs:
            configure = getattr(output, "configure", None)
            if callable(configure):
                configure(settings)

    def process(self, frame: Frame) -> Frame:
        picture = frame.result
        if self.mirror:
            picture = cv2.flip(picture, 1)
        for finish in self.finishers:
            picture = finish(picture, frame)
        frame.output = picture
        with self._lock:
            for output in self._outputs:
                try:
                    output.write(frame)
                except FacecamError:
                    raise
                except Exception as error:  # one broken output must not starve the others
                    if self._on_error is not None:
                        self._on_error(f"output {output.name}", error)
                    else:
                        log.warning("output %s failed: %s", output.name, error)
        return frame

    def close(self) -> None:
        with self._lock:
            outputs, self._outputs = self._outputs, []
        for output in outputs:
            output.close()
