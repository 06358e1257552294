# ruff: noqa  (measurement scripts of benchmarks/results/s24-budget, kept as they were run)
import os
import sys

import realtime.provenance as provenance

provenance.new_session_id = lambda: 0x2323
if os.environ.get("TRIVIAL"):
    import realtime.blend.stage as stage
    real = stage.BlendStage.process
    def process(self, frame):
        frame = real(self, frame)
        if frame.layers and frame.output is not None:
            x0, y0, x1, y1 = frame.layers[0].box
            y, x = (y0 + y1) // 2, (x0 + x1) // 2
            frame.output[y, x, 1] = min(255, int(frame.output[y, x, 1]) + 1)
        return frame
    stage.BlendStage.process = process
from realtime.cli import main

raise SystemExit(main(sys.argv[1:]))
