"""What the app remembers between runs, as two TOML files in the user's config folder:

- `settings.toml`: the engine settings (mode, source, input, blending...), in the same format as
  `facecam run --config`, so a setup tuned in the app can be reused on the command line;
- `gui.toml`: the app's own state (recent sources, window geometry, where files go).

Outputs that the user switches on (virtual camera, recording) are not restored: the app never
starts broadcasting or recording by itself.
"""

from __future__ import annotations

import logging
import os
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from realtime.errors import FacecamError
from realtime.settings import Settings

log = logging.getLogger(__name__)

MAX_RECENT = 8


def default_config_dir() -> Path:
    """$FACECAM_CONFIG_DIR, else the platform's per-user config folder + /facecam."""
    explicit = os.environ.get("FACECAM_CONFIG_DIR")
    if explicit:
        return Path(explicit).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "facecam"


def default_media_dir() -> Path:
    """Where recordings and snapshots go unless the user picks another folder."""
    for name in ("Videos", "Movies"):
        candidate = Path.home() / name
        if candidate.is_dir():
            return candidate / "facecam"
    return Path.home() / "facecam"


def gui_settings(settings: Settings) -> Settings:
    """Settings as the app runs them: live pacing (a preview is live), a file input loops, and
    no output besides the app's own preview until the user switches one on."""
    return settings.replace(live=True, loop=True, outputs=(), max_frames=None)


def persistable(settings: Settings) -> Settings:
    """What is worth saving: not the outputs (see module doc), nor one-shot actions."""
    return settings.replace(outputs=(), calibration=0, max_frames=None, live=None)


@dataclass
class GuiState:
    recent_sources: list[str] = field(default_factory=list)
    geometry: str = ""
    """QMainWindow.saveGeometry() as hex."""
    splitter: str = ""
    media_dir: str = ""
    stats_visible: bool = True

    def remember_source(self, path: str) -> None:
        path = str(path)
        if path in self.recent_sources:
            self.recent_sources.remove(path)
        self.recent_sources.insert(0, path)
        del self.recent_sources[MAX_RECENT:]


class Store:
    """Loads and saves the two files in `folder`. Problems with them never stop the app: a
    broken file is reported once (logged) and the defaults are used."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else default_config_dir()
        self.problems: list[str] = []

    @property
    def settings_path(self) -> Path:
        return self.folder / "settings.toml"

    @property
    def gui_path(self) -> Path:
        return self.folder / "gui.toml"

    def load_settings(self) -> Settings:
        if not self.settings_path.exists():
            return Settings()
        try:
            return Settings.load(self.settings_path)
        except FacecamError as error:
            self.problems.append(f"ignored saved settings: {error}")
            return Settings()

    def load_gui(self) -> GuiState:
        try:
            data = tomllib.loads(self.gui_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return GuiState()
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            self.problems.append(f"ignored {self.gui_path}: {error}")
            return GuiState()
        state = GuiState()
        recent = data.get("recent_sources", [])
        if isinstance(recent, list):
            state.recent_sources = [str(p) for p in recent if isinstance(p, str)][:MAX_RECENT]
        for name in ("geometry", "splitter", "media_dir"):
            if isinstance(data.get(name), str):
                setattr(state, name, data[name])
        if isinstance(data.get("stats_visible"), bool):
            state.stats_visible = data["stats_visible"]
        return state

    def save(self, settings: Settings, state: GuiState) -> None:
        try:
            persistable(settings).save(self.settings_path)
            lines = [
                "recent_sources = [" + ", ".join(_quote(p) for p in state.recent_sources) + "]",
                f"geometry = {_quote(state.geometry)}",
                f"splitter = {_quote(state.splitter)}",
                f"media_dir = {_quote(state.media_dir)}",
                f"stats_visible = {'true' if state.stats_visible else 'false'}",
            ]
            tmp = self.gui_path.with_suffix(".toml.tmp")
            tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
            tmp.replace(self.gui_path)
        except OSError as error:
            log.warning("cannot save the app's settings in %s: %s", self.folder, error)


def _quote(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'
