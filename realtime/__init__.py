"""facecam's real-time engine: capture -> detect -> swap | animate -> blend -> output.

Front ends (the CLI, the Qt app, benchmarks) use `Engine` and `Settings`; nothing here imports Qt.
"""

from realtime.engine import Engine
from realtime.errors import FacecamError
from realtime.frame import Face, FaceLayer, Frame
from realtime.metrics import Stats
from realtime.settings import Settings

__all__ = ["Engine", "FacecamError", "Face", "FaceLayer", "Frame", "Settings", "Stats"]
__version__ = "0.1.0"
