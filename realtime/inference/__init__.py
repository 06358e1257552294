"""Neural models: where they are found (the manifest and the model folder), how they are
downloaded and verified, and the one factory that creates every ONNX Runtime session.

Nothing here imports onnxruntime at import time: the embedded default runs without it.
"""

from __future__ import annotations

from realtime.inference.errors import (
    DeviceError,
    DownloadError,
    ModelCorruptError,
    ModelMismatchError,
    ModelMissingError,
)

__all__ = ["DeviceError", "DownloadError", "ModelCorruptError", "ModelMismatchError",
           "ModelMissingError"]
