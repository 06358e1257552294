"""Faces that ship inside installed packages, so facecam runs with no download and no media:
Grace Hopper (matplotlib's sample data) is the default source face; the astronaut Eileen
Collins (scikit-image's data, public domain, NASA) plays the person in front of the camera in
the demo clip."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def builtin_source_path() -> Path:
    """matplotlib's grace_hopper.jpg (public domain, US Navy photograph)."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"


def demo_person() -> np.ndarray:
    """scikit-image's astronaut picture, BGR."""
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
