"""Command-line flags made from the settings declarations, and the way back.

Every setting declared in `realtime/settings.py` becomes a flag of `facecam run` (and of the
benchmarks) with no edit here: `--NAME` from its name (`color_transfer` -> `--color-transfer`),
plus the spellings its metadata keeps for users (`flags`: `-o`, `--strength`), help with its range
or choices and default, `--X/--no-X` for a switch, a repeatable flag for a list. A setting whose
metadata gives a `no_flag` reason has none; any setting can still be given as `--set NAME=VALUE`.

Values are parsed and checked here, not by argparse, so an error names the flag the user typed
(`--fps must be between 1 and 240, not 500.0`) and comes out as one line, exit code 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from typing import Any

from realtime.errors import SettingsError
from realtime.settings import Settings, Spec, groups, parse_assignment, specs
from realtime.settings import spec as spec_named

_DEST = "setting:"
"""Namespace attributes of the settings flags are prefixed: no clash with a command's own
options (`--json`, `--quiet`...) whatever name a setting gets later."""
_TYPED = "_settings_flags_typed"
"""Namespace attribute: {setting name: the flag spelling the user typed} (for error messages)."""

_METAVARS = {"int": "N", "float": "X", "size": "WxH", "pair": "X,Y", "str": "TEXT", "list": "ITEM",
             "value": "VALUE"}


def dest(name: str) -> str:
    """The namespace attribute that holds a setting's raw flag value."""
    return _DEST + name


class _Record(argparse.Action):
    """Store the raw text (or append it, for a list) and remember the spelling used."""

    def __call__(self, parser, namespace, values, option_string=None):
        name = self.dest[len(_DEST):]
        if getattr(self, "repeat", False):
            values = [*(getattr(namespace, self.dest, None) or []), values]
        setattr(namespace, self.dest, values)
        _typed(namespace)[name] = option_string


class _Switch(argparse.BooleanOptionalAction):
    """--X / --no-X that remembers the spelling used."""

    def __call__(self, parser, namespace, values, option_string=None):
        super().__call__(parser, namespace, values, option_string)
        _typed(namespace)[self.dest[len(_DEST):]] = option_string


def _typed(namespace: argparse.Namespace) -> dict[str, str]:
    found = getattr(namespace, _TYPED, None)
    if found is None:
        found = {}
        setattr(namespace, _TYPED, found)
    return found


def flag_help(spec: Spec) -> str:
    """--help text of a setting's flag: its help, range or choices, default, TOML key."""
    return spec.describe().replace("%", "%%")


def flags_of(spec: Spec) -> list[str]:
    """The spellings of a setting's flag, generated name first; none with a `no_flag` reason."""
    if spec.no_flag is not None:
        return []
    return [spec.flag, *(f for f in spec.flags if f != spec.flag)]


def add_settings_arguments(parser: argparse.ArgumentParser, *, exclude: Iterable[str] = (),
                           config: bool = True) -> None:
    """Add a flag for every setting (but `exclude`d ones), `--set NAME=VALUE` and `--config`.

    One argument group per settings group, titled like its TOML table. A spelling that the
    command already uses for an option of its own is left out (the setting keeps the others,
    and `--set`)."""
    excluded = set(exclude)
    taken = set(parser._option_string_actions)
    sections: dict[str | None, argparse._ArgumentGroup] = {}
    for spec in specs():
        if spec.name in excluded:
            continue
        spellings = [f for f in flags_of(spec) if f not in taken]
        if not spellings:
            continue
        if spec.group not in sections:
            title = "settings" if spec.group is None else f"{spec.group} settings ([{spec.group}] in --config)"
            sections[spec.group] = parser.add_argument_group(title)
        section = sections[spec.group]
        if spec.kind == "bool":
            long = [f for f in spellings if f.startswith("--")]
            section.add_argument(*spellings, dest=dest(spec.name), action=_Switch, default=None,
                                 help=flag_help(spec))
            taken.update(long + ["--no-" + f[2:] for f in long])
        else:
            allowed = spec.allowed()
            metavar = spec.metavar or ("{" + ",".join(allowed) + "}" if allowed else
                                      {"file": "FILE", "dir": "DIR"}.get(spec.path or "")
                                      or _METAVARS.get(spec.kind, "VALUE"))
            action = section.add_argument(*spellings, dest=dest(spec.name), action=_Record, default=None,
                                          metavar=metavar, help=flag_help(spec))
            action.repeat = spec.kind == "list"  # type: ignore[attr-defined]
            taken.update(spellings)
    extra = parser.add_argument_group("any setting")
    if "--set" not in taken:
        extra.add_argument("--set", dest=dest("--set"), action="append", default=None,
                           metavar="NAME=VALUE",
                           help="any setting by name, e.g. --set shading=0.5 (repeatable; "
                                "applied after the other flags); names: " + ", ".join(
                                    s.name for s in specs()).replace("%", "%%"))
    if config and "--config" not in taken:
        extra.add_argument("--config", metavar="FILE.toml",
                           help="settings file, one [table] per group (flags override it)")


def changes_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """{bare name: value} of the settings flags and `--set`s given, each parsed and checked
    against its declaration; SettingsError naming the flag as typed."""
    typed = getattr(args, _TYPED, None) or {}
    changes: dict[str, Any] = {}
    for declared in specs():
        raw = getattr(args, dest(declared.name), None)
        if raw is None:
            continue
        label = typed.get(declared.name) or declared.flag
        value: Any
        if declared.kind == "bool":
            value = bool(raw)
        elif declared.kind == "list":
            value = tuple(raw)
        else:
            value = declared.parse(raw, label)
        check(declared, value, label)
        changes[declared.name] = value
    for item in getattr(args, dest("--set"), None) or ():
        name, value = parse_assignment(item)
        check(spec_named(name), value, f"--set {name}")
        changes[name] = value
    return changes


def check(spec: Spec, value: Any, label: str) -> None:
    """The declaration's checks, and for a registry-backed choice: a registered name."""
    spec.check(value, label)
    allowed = spec.allowed() if spec.registry is not None else None
    if allowed is not None and value not in allowed:
        raise SettingsError(f"{label} must be one of {', '.join(allowed)}, not {value!r}")


def settings_from_args(args: argparse.Namespace, base: Settings | None = None) -> Settings:
    """The settings a command line asks for: `--config` (or `base`, or the defaults), then the
    settings flags, then `--set`."""
    config = getattr(args, "config", None)
    settings = Settings.load(config) if config else (base or Settings())
    return settings.replace(**changes_from_args(args))


def parse_size(text: str) -> tuple[int, int]:
    """argparse type for a WxH option that is not a setting (e.g. a benchmark's own)."""
    spec = Spec(name="size", group=None, kind="size", optional=False, default=None, help="")
    try:
        value = spec.parse(text, "size")
        spec.check(value, "size")
    except SettingsError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return value


__all__ = ["add_settings_arguments", "changes_from_args", "dest", "flag_help", "flags_of", "groups",
           "parse_size", "settings_from_args"]
