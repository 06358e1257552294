"""What a start costs besides the work itself (issue 19, item 14)."""

from __future__ import annotations

import os
import stat

from tests.conftest import run_cli


def test_start_runs_no_compiler_or_linker_and_leaves_no_temp_files(tmp_path):
    # sounddevice (pulled in by `import mediapipe`) looks for PortAudio with ctypes.util.find_library,
    # which runs gcc and ld (found on PATH) and writes temporary files: spy on both.
    spies, log, temp = tmp_path / "bin", tmp_path / "spawned.log", tmp_path / "tmp"
    spies.mkdir()
    temp.mkdir()
    for tool in ("gcc", "cc", "ld"):
        script = spies / tool
        script.write_text(f'#!/bin/sh\necho "{tool} $*" >> "{log}"\nexit 1\n')
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
    result = run_cli("run", "--input", "demo", "--max-frames", "2", "-o", "null", timeout=180,
                     env={"PATH": f"{spies}{os.pathsep}{os.environ['PATH']}", "TMPDIR": str(temp)})
    assert result.returncode == 0, result.stderr
    assert not log.exists(), log.read_text()
    assert list(temp.iterdir()) == []
