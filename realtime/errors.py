"""Errors meant for the user: one clear line, no traceback."""

from __future__ import annotations


class FacecamError(Exception):
    """A problem the user can fix (bad input, missing device or model).

    The CLI prints `facecam: error: <message>` and exits with `exit_code`; the GUI shows the
    message in the window. The message is a single sentence that says what to do.
    """

    exit_code = 2


class SettingsError(FacecamError):
    """A setting has a value that cannot work."""


class InputError(FacecamError):
    """A source photo, video file or camera cannot be used."""


class NoFaceError(InputError):
    """A picture that must contain a face has none that can be found."""


class OutputError(FacecamError):
    """An output (file, window, virtual camera) cannot be opened or written."""
