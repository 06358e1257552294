"""`facecam doctor`: one readable report, exit 0 when the embedded default can run."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from realtime import doctor
from realtime.output.virtualcam import install_hint
from tests.conftest import run_cli


def test_doctor_reports_every_section_and_says_the_default_runs():
    result = run_cli("doctor", "--json", "--no-probe", timeout=120)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["default_can_run"] is True
    sections = {check["section"] for check in data["checks"]}
    assert {"core", "engine", "devices", "display", "inference", "models"} <= sections
    engine = next(c for c in data["checks"] if c["name"] == "embedded face mesh")
    assert engine["status"] == "ok"
    if not Path("/sys/module/v4l2loopback").exists():  # this machine: no virtual camera
        vcam = next(c for c in data["checks"] if c["name"] == "virtual camera")
        assert vcam["status"] == "warn" and install_hint() in vcam["detail"]


def test_the_human_report_is_readable():
    result = run_cli("doctor", "--no-probe", timeout=120)
    assert result.returncode == 0
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "the embedded default can run here (facecam run)"
    assert any(line.startswith("  ok    embedded face mesh") for line in lines)
    assert "Traceback" not in result.stderr


def test_missing_libgl_fails_with_the_package_to_install(monkeypatch):
    def load(name):
        if name == "libGL.so.1":
            raise OSError("libGL.so.1: cannot open shared object file")
        return object()

    if not doctor.sys.platform.startswith("linux"):
        pytest.skip("libGL check is for Linux")
    checks = doctor.check_system_libraries(load)
    failed = [c for c in checks if c.status == doctor.FAIL]
    assert [c.name for c in failed] == ["libGL.so.1"]
    assert "sudo apt install libgl1" in failed[0].detail
    assert not doctor.default_can_run(checks + [doctor.check_embedded_engine()])


def test_exit_2_when_the_default_cannot_run(monkeypatch, capsys):
    broken = doctor.Check("engine", "embedded face mesh", doctor.FAIL, "ImportError: no mediapipe",
                          essential=True)
    monkeypatch.setattr(doctor, "diagnose", lambda **kw: [broken])
    status = doctor.run(argparse.Namespace(no_probe=True, verify=False, json=False))
    out = capsys.readouterr().out
    assert status == 2
    assert "FAIL  embedded face mesh" in out and "cannot run here" in out


def test_loopback_devices_are_told_apart_from_cameras(tmp_path):
    sysfs = tmp_path / "class"
    sysfs.mkdir()
    real = tmp_path / "devices" / "pci0000:00" / "video0"
    virtual = tmp_path / "devices" / "virtual" / "video4linux" / "video10"
    for node, name in ((real, "Integrated Camera"), (virtual, "facecam")):
        node.mkdir(parents=True)
        (node / "name").write_text(name + "\n")
        (sysfs / node.name).symlink_to(node)
    assert doctor._video_nodes(sysfs) == [("/dev/video0", "Integrated Camera", False),
                                          ("/dev/video10", "facecam", True)]


def test_providers_are_reported_only_when_a_session_really_loads():
    pytest.importorskip("onnxruntime")
    checks = {c.name: c for c in doctor.check_onnxruntime()}
    assert "CPU" in checks["providers that load"].detail.split(", ")
