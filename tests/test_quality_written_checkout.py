"""The written-file benchmark measures the checkout it lives in, wherever it is run from."""
from __future__ import annotations

import subprocess
from pathlib import Path

from benchmarks import quality_written

ROOT = Path(__file__).resolve().parent.parent


def test_written_files_are_made_by_this_checkouts_code(tmp_path):
    # The engine the benchmark starts must import realtime/ from this checkout, also from another
    # working directory and when the environment's editable install points at another checkout
    # (before, the environment's `facecam` script was used: it imported the install's checkout).
    command = quality_written.facecam_command()
    assert command[-2:] == ["-m", "realtime.cli"]
    probe = [command[0], "-c", "import realtime, sys; sys.stdout.write(realtime.__file__)"]
    found = subprocess.run(probe, capture_output=True, text=True, cwd=tmp_path, env=quality_written.facecam_env(),
                           check=True).stdout
    assert Path(found).resolve().parent.parent == ROOT


def test_a_leak_frame_count_of_zero_is_refused_before_anything_is_written(tmp_path, capsys):
    # It reached `facecam run --max-frames 0` after every pair had been written: a traceback.
    import pytest

    from benchmarks import quality_swap

    with pytest.raises(SystemExit) as stop:
        quality_swap.main(["--written", "--leak-frames", "0", "--work", str(tmp_path / "w"),
                           "--out", str(tmp_path / "o")])
    assert stop.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert error[-1].endswith("--leak-frames: 0 frames: 1 or more (--no-realism leaves the leak sources out)"), error
    assert not (tmp_path / "w").exists()
