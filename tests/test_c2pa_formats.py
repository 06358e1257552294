"""Recording to MKV or WebM (issue 19, item 16): those containers get no C2PA content
credentials (only MP4 and MOV do). facecam says so once, and the recording itself succeeds."""

from __future__ import annotations

import pytest

from tests.conftest import read_video, run_cli

LINE = "no C2PA manifest for"


@pytest.mark.parametrize("suffix", [".mkv", ".webm"])
def test_recording_to_a_container_without_c2pa_says_so_once_and_succeeds(tmp_path, suffix):
    out = tmp_path / f"clip{suffix}"
    result = run_cli("run", "--input", "demo", "--size", "160x96", "--mode", "passthrough", "--no-live",
                     "--max-frames", "8", "-o", str(out), cwd=tmp_path, timeout=180)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if LINE in line]
    assert len(lines) == 1, result.stderr
    assert f"{suffix} files" in lines[0] and ".mp4 or .mov" in lines[0]  # what to write instead
    assert len(read_video(out)) == 8  # the recording is complete and playable


def test_an_mp4_recording_does_not_say_it(tmp_path):
    out = tmp_path / "clip.mp4"
    result = run_cli("run", "--input", "demo", "--size", "160x96", "--mode", "passthrough", "--no-live",
                     "--max-frames", "4", "-o", str(out), cwd=tmp_path, timeout=180)
    assert result.returncode == 0, result.stderr
    assert LINE not in result.stderr
