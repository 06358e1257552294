"""A setting is declared once (realtime/settings.py) and surfaces everywhere: `facecam run` and
`facecam bench` flags with help (range, default), `--set`, TOML, the GUI forms, error messages
that name the flag typed. And the latency benchmark runs the engine's own stage list."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from realtime.cli import build_parser
from realtime.errors import SettingsError
from realtime.settings import Settings, parse_assignment, specs
from realtime.settings_cli import flags_of, settings_from_args

ROOT = Path(__file__).resolve().parents[1]


def _help(command: str) -> str:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return sub.choices[command].format_help()


def test_every_setting_has_a_flag_or_a_written_reason():
    run_help, bench_help = _help("run"), _help("bench")
    from benchmarks.bench_cli import BENCH_EXCLUDED

    for declared in specs():
        assert declared.help, f"{declared.key} has no help text"
        if declared.no_flag:
            assert declared.flag not in run_help.split()
            continue
        assert declared.flag in run_help, declared.key
        if declared.name not in BENCH_EXCLUDED:
            assert declared.flag in bench_help, declared.key


def test_help_shows_range_choices_and_default():
    text = " ".join(_help("run").split())  # argparse wraps lines
    assert "--opacity X how much of the new face shows [0..1; default 1]" in text
    assert "--fps X requested frame rate [1..240; default none]" in text
    assert "--swapper {mesh,inswapper" in text  # choices from the registry (more may be registered)
    assert "--mouth-mask, --no-mouth-mask" in text


@pytest.mark.parametrize("argv, words", [
    (["--fps", "500"], "--fps must be between 1 and 240, not 500.0"),
    (["--strength", "9"], "--strength must be between 0 and 1.5"),  # an old spelling, as typed
    (["--motion-strength", "9"], "--motion-strength must be between 0 and 1.5"),
    (["--max-faces", "two"], "--max-faces must be a whole number"),
    (["--size", "big"], "--size must look like 1280x720"),
    (["--swapper", "nope"], "--swapper must be one of mesh, inswapper"),
    (["--set", "shading=2"], "--set shading must be between 0 and 1"),
    (["--set", "colour=1"], "unknown setting 'colour'"),
    (["--set", "shading"], "--set takes NAME=VALUE"),
])
def test_errors_name_the_flag_typed(argv, words):
    args = build_parser().parse_args(["run", *argv])
    with pytest.raises(SettingsError) as raised:
        settings_from_args(args)
    assert words in str(raised.value)


def test_flags_old_spellings_and_set_reach_the_settings(tmp_path):
    config = tmp_path / "c.toml"
    Settings().replace(opacity=0.3, shading=0.1).save(config)
    args = build_parser().parse_args([
        "run", "--config", str(config), "--parts", "eyes", "--enhance", "gfpgan", "-o", "null",
        "--output", "x.mp4", "--no-label", "--live", "--face-position", "0.2,0.3", "--size", "320x240",
        "--set", "color_smoothing=0", "--set", "animate.portrait_size=300x400", "--set", "live=no"])
    settings = settings_from_args(args)
    assert settings.animate.moving_parts == "eyes" and settings.inference.enhancer == "gfpgan"
    assert settings.output.outputs == ("null", "x.mp4") and settings.output.label is False
    assert settings.swap.face_position == (0.2, 0.3) and settings.capture.size == (320, 240)
    assert settings.blend.opacity == 0.3 and settings.blend.shading == 0.1  # from the file
    assert settings.blend.color_smoothing == 0 and settings.animate.portrait_size == (300, 400)
    assert settings.capture.live is False  # --set is applied after the flags
    assert parse_assignment("outputs=window,a.mp4") == ("outputs", ("window", "a.mp4"))
    assert parse_assignment("fps=none") == ("fps", None)


def test_every_value_prints_and_parses_back():
    for declared in specs():
        value = Settings().replace()
        holder = value if declared.group is None else getattr(value, declared.group)
        default = getattr(holder, declared.name)
        assert declared.parse(declared.format(default)) == default, declared.key
    assert flags_of(specs()[0])[0] == "--mode"


def test_the_latency_benchmark_runs_the_engines_stages_provenance_included():
    from benchmarks.latency import build_stages as bench_stages
    from realtime.capture import open_source
    from realtime.engine import Engine
    from realtime.frame import Frame
    from realtime.provenance import Provenance

    settings = Settings().replace(input="demo", outputs=("null",), max_frames=2)
    engine = Engine(settings).start()
    try:
        engine_kinds = [type(stage) for stage in engine._stages]
    finally:
        engine.stop()
    stages, close = bench_stages(settings)
    try:
        assert [type(stage) for stage in stages] == engine_kinds
        assert isinstance(stages[-1].finishers[-1], Provenance)
        source = open_source(settings.capture)
        captured = source.read()
        source.close()
        frame = Frame(index=0, image=captured.image, capture_ns=0)
        for stage in stages:
            stage.configure(settings)
            before = frame.result.copy()
            frame = stage.process(frame)
        # What the benchmark's output writes is the engine's: labelled (bottom-right corner).
        height, width = frame.output.shape[:2]
        corner = (slice(height - 60, height), slice(width - 300, width))
        assert np.abs(frame.output[corner].astype(int) - before[corner].astype(int)).max() > 60
    finally:
        close()


# -- done when: a new setting in a new group surfaces everywhere with no other edit ------------
ADDED_GROUP = '''

@dataclass(frozen=True)
class ExperimentSettings:
    experiment_knob: float = field(default=0.3, metadata=_range(0, 2, "a knob only this test has"))
    experiment_mode: str = field(default="calm", metadata=_choice("calm", "wild", help="test choice"))
    experiment_on: bool = field(default=True, metadata={"help": "a test switch"})
    experiment_frame: tuple[int, int] | None = field(default=None, metadata={"help": "a test size"})

'''

CHECKS = textwrap.dedent('''
    import os, sys, tempfile
    from pathlib import Path
    import realtime
    assert Path(realtime.__file__).is_relative_to(Path.cwd()), realtime.__file__
    from realtime.cli import build_parser
    from realtime.settings import Settings
    from realtime.settings_cli import settings_from_args
    from realtime.errors import SettingsError

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for command in ("run", "bench"):
        text = " ".join(sub.choices[command].format_help().split())
        assert "--experiment-knob X a knob only this test has [0..2; default 0.3]" in text, command
        assert "--experiment-mode {calm,wild}" in text, command
        assert "--experiment-on, --no-experiment-on a test switch [default true]" in text, command
        assert "--experiment-frame WxH a test size [default none]" in text, command
    args = parser.parse_args(["run", "--experiment-knob", "1.5", "--experiment-mode", "wild",
                              "--no-experiment-on", "--set", "experiment_frame=64x48"])
    settings = settings_from_args(args)
    assert settings.experiment.experiment_knob == 1.5 and settings.experiment.experiment_mode == "wild"
    assert settings.experiment.experiment_on is False and settings.experiment.experiment_frame == (64, 48)
    try:
        settings_from_args(parser.parse_args(["bench", "--experiment-knob", "3"]))
        raise AssertionError("out of range accepted")
    except SettingsError as error:
        assert "--experiment-knob must be between 0 and 2" in str(error), error
    path = Path(tempfile.mkdtemp()) / "s.toml"
    settings.save(path)
    assert "[experiment]" in path.read_text() and "experiment_knob = 1.5" in path.read_text()
    assert Settings.load(path) == settings

    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from gui.qt import application
    app = application()
    from gui.controls import SettingsForm, form_groups
    assert "experiment" in [group for group, _, _ in form_groups()]
    form = SettingsForm("experiment")
    assert set(form.controls) == {"experiment_knob", "experiment_mode", "experiment_on", "experiment_frame"}
    form.show_settings(settings)
    assert form.values["experiment_knob"].text() == "1.50"
    assert form.controls["experiment_on"].isChecked() is False
    assert form.controls["experiment_frame"].text() == "64x48"
    with_changes = []
    form.changed.connect(with_changes.append)
    form.controls["experiment_frame"].setText("80x60")
    form.controls["experiment_frame"].editingFinished.emit()
    form.controls["experiment_mode"].setCurrentText("calm")
    form.controls["experiment_mode"].activated.emit(0)
    assert with_changes == [{"experiment_frame": (80, 60)}, {"experiment_mode": "calm"}], with_changes
    form.controls["experiment_frame"].setText("big")  # refused where it was typed; nothing sent
    form.controls["experiment_frame"].editingFinished.emit()
    assert len(with_changes) == 2 and "must look like 1280x720" in form.controls["experiment_frame"].toolTip()
    assert "0..2" in form.controls["experiment_knob"].toolTip()
    print("surfaced everywhere")
''')


def test_a_setting_added_in_a_new_group_surfaces_everywhere_with_no_other_edit(tmp_path):
    ignore = shutil.ignore_patterns("__pycache__", "results")
    for package in ("realtime", "gui", "benchmarks"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=ignore)
    settings_py = tmp_path / "realtime" / "settings.py"
    text = settings_py.read_text()
    # The only edit: the group's dataclass and its field in Settings (as a helper would add it).
    text = text.replace("\nMODES = ", ADDED_GROUP + "\nMODES = ", 1)
    anchor = "    provenance: ProvenanceSettings = field(default_factory=ProvenanceSettings)\n"
    assert anchor in text
    text = text.replace(anchor, anchor + "    experiment: ExperimentSettings = field("
                        "default_factory=ExperimentSettings)\n", 1)
    settings_py.write_text(text)
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", CHECKS], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "surfaced everywhere" in result.stdout


def test_a_real_setting_declared_once_works_from_its_generated_flag():
    # min_face_size: declared in realtime/settings.py, read by realtime/faces/stage.py; nothing else.
    from realtime.capture.demo import DemoSource
    from realtime.faces.stage import DetectStage
    from realtime.frame import Frame

    assert "--min-face-size X" in " ".join(_help("run").split())
    found = []
    for value in ("0", "0.9"):
        settings = settings_from_args(build_parser().parse_args(
            ["run", "--input", "demo", "--size", "640x360", "--min-face-size", value]))
        source, stage = DemoSource(settings.capture), DetectStage(settings)
        try:
            stage.configure(settings)
            frame = stage.process(Frame(index=0, image=source.read().image, capture_ns=0))
            found.append(len(frame.faces))
        finally:
            stage.close()
            source.close()
    assert found == [1, 0]  # the demo face is found, and ignored when asked for huge faces only
