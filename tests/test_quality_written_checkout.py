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


def test_the_same_code_writes_the_same_file_on_every_run(tmp_path):
    # The invisible mark took a new random session id on every run, and the encoder's choices
    # changed with it: two runs of the same code wrote files up to 25 levels apart, and a pair's
    # identity distance moved by 0.004 between runs, as much as the changes a before/after run
    # measures. The benchmark now fixes each file's id (FACECAM_MARK_SESSION, from the file's
    # name); the mark is still there.
    import av
    import numpy as np

    from tests.conftest import media

    target, source = media("d6.mp4"), media("s42.jpg")
    pictures = []
    for run in ("first", "second"):
        path = tmp_path / run / "pair.mp4"
        quality_written.write(source, target, path, 4, None, reuse=False)
        with av.open(str(path)) as container:
            pictures.append([frame.to_ndarray(format="bgr24") for frame in container.decode(video=0)])
    assert len(pictures[0]) == len(pictures[1]) == 4
    for first, second in zip(*pictures, strict=True):
        assert np.array_equal(first, second)
    assert quality_written.mark_session(tmp_path / "a.mp4") != quality_written.mark_session(tmp_path / "b.mp4")


def test_a_mark_session_that_is_not_an_id_is_refused_in_one_line(tmp_path):
    from tests.conftest import media, run_cli

    output = tmp_path / "out.mp4"
    result = run_cli("run", "--input", str(media("d6.mp4")), "-o", str(output), "--max-frames", "2", "--quiet",
                     env={"FACECAM_MARK_SESSION": "zz"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "facecam: error: FACECAM_MARK_SESSION='zz': a mark session id is 1 to 4 hexadecimal digits (0 to ffff)"]
    assert not output.exists()
