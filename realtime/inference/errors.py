"""Errors of the neural-model layer: each says, in one line, the command that fixes it."""

from __future__ import annotations

from realtime.errors import FacecamError


class DeviceError(FacecamError):
    """The requested execution provider (CUDA, TensorRT) cannot run here."""


class ModelMissingError(FacecamError):
    """A model's weights are not downloaded."""


class ModelCorruptError(FacecamError):
    """A model file does not match its recorded hash or size."""


class DownloadError(FacecamError):
    """A download failed (network, server, or a hash mismatch)."""


class ModelMismatchError(FacecamError):
    """A model file has inputs or outputs other than the ones the code is written for."""


class ProviderFailedError(DeviceError):
    """An execution provider refused or failed to run a model (not the file's fault)."""


class OutOfMemoryError(DeviceError):
    """The device ran out of memory while creating or warming up a session."""


class OptionRefusedError(DeviceError):
    """ONNX Runtime refused a session option (a CUDA graph on a model that cannot use one)."""
