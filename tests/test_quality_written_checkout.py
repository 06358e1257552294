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
