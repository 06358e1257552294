"""realtime.cli with the invisible mark's session id fixed (0x2323): the id is random per run, so two
runs' written files differ on every frame unless it is fixed (main against main: up to 41 levels).

    PYTHONPATH=<checkout> python benchmarks/results/s23-budget/run_fixed_mark.py run --input ... -o X.mp4 --no-label
"""

import sys

import realtime.provenance as provenance
from realtime.cli import main

provenance.new_session_id = lambda: 0x2323
raise SystemExit(main(sys.argv[1:]))
