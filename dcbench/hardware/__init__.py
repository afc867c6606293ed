"""Hardware detection: what machine a run happened on (CPU, memory, GPUs, software versions)."""
