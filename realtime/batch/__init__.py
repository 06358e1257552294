"""Batch processing: `facecam batch` (cli.py) plans one job per input video (jobs.py), runs each
exactly as `facecam run` processes a file (worker.py), on local processes or Ray (runners.py)."""
