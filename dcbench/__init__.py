"""dcbench: measure, calibrate, plan and simulate large-model training data centers.

This package holds the CLI, the benchmark harness, the telemetry sampler, the
results store and hardware detection. It imports nothing heavy at import time.
"""

__version__ = "0.1.0"
