"""The benchmark harness: runs a workload with warm-up, timed steps and telemetry, and stores the run."""
