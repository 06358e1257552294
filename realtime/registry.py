"""Implementations chosen by name from settings.

Each stage kind keeps a table `name -> "module:Class"`; the module is imported only when the
implementation is chosen, so an optional dependency (ONNX Runtime, say) costs nothing until used
and its absence is reported as a clear error naming what to install.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from realtime.errors import SettingsError


def load(kind: str, table: Mapping[str, str], name: str) -> Any:
    """The class registered as `name` for stage kind `kind`."""
    try:
        target = table[name]
    except KeyError:
        known = ", ".join(sorted(table))
        raise SettingsError(f"unknown {kind} {name!r}; choose one of: {known}") from None
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute)
