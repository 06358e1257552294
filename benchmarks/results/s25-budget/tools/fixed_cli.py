# ruff: noqa  (measurement scripts of benchmarks/results/s25-budget, kept as they were run; scratch paths /tmp/s25-budget)
"""The CLI with the invisible mark's session id fixed (0x2323), so that two runs differ only by what
is changed: X264_THREADS=n adds x264's threads option; SD/FLOOR set mesh.SOURCE_DETAIL / WORK_FLOOR_PX."""
import os, sys
import realtime.provenance as provenance
provenance.new_session_id = lambda: 0x2323
if os.environ.get("SD"):
    import realtime.swap.mesh as mesh
    mesh.SOURCE_DETAIL, mesh.WORK_FLOOR_PX = float(os.environ["SD"]), float(os.environ["FLOOR"])
if os.environ.get("X264_THREADS"):
    import realtime.output.recorder as recorder
    real = recorder.VideoRecorder._open_stream
    def _open_stream(self, width, height):
        real(self, width, height)
        if self._stream is not None:
            self._stream.options = {**self._stream.options, "threads": os.environ["X264_THREADS"]}
    recorder.VideoRecorder._open_stream = _open_stream
from realtime.cli import main
raise SystemExit(main(sys.argv[1:]))
