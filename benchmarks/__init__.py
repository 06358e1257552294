"""facecam's latency and quality benchmarks; results land in benchmarks/results/."""
