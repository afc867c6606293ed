"""The peak FLOP/s that MFU is measured against: from the catalog, or measured.

STYLE habit 10: peak rates come from the hardware catalog when the device is
recognised by its *exact* reported name, else from a measured dense
matrix-multiply rate. We never guess a catalog entry from a substring.
MFU = achieved model FLOP/s / peak FLOP/s (Chowdhery et al. 2022, PaLM, App. B).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

# Exact names torch.cuda.get_device_name() reports, mapped to catalog entries.
# Source: the names NVIDIA/AMD drivers report for these boards (nvidia-smi -L,
# rocm-smi), as seen in MLPerf Training system descriptions.
KNOWN_DEVICE_NAMES: dict[str, str] = {
    "NVIDIA A100-SXM4-80GB": "a100-sxm4-80gb",
    "NVIDIA H100 80GB HBM3": "h100-sxm5-80gb",
    "NVIDIA H200": "h200-sxm-141gb",
    "NVIDIA B200": "b200-sxm-180gb",
    "AMD Instinct MI300X": "mi300x-192gb",
}

# Matrix sizes for the measured peak: large enough to reach the compute roof.
_MATMUL_N_CPU = 1024
_MATMUL_N_CUDA = 8192


@dataclass(frozen=True, kw_only=True, slots=True)
class PeakFlops:
    """A peak rate in FLOP/s and where it came from."""

    flops_per_s: float
    source: str  # "catalog:<entry>" or "measured:matmul <n>x<n> <dtype>"


def catalog_peak(device_name: str, dtype: str) -> PeakFlops | None:
    """Peak FLOP/s for ``dtype`` from the hardware catalog, if the device name is known exactly."""
    entry = KNOWN_DEVICE_NAMES.get(device_name)
    if entry is None:
        return None
    from simulator.catalog import load_hardware

    spec = load_hardware(entry)
    rate = spec.peak_flops_per_s(dtype)
    if rate is None:
        return None
    return PeakFlops(flops_per_s=float(rate), source=f"catalog:{entry}")


def measured_matmul_peak(device: str, dtype: str, repeats: int = 5) -> PeakFlops:
    """Measure dense matmul FLOP/s (2*n^3 per n x n product) on ``device``; best of ``repeats``."""
    import torch

    from dcbench.harness.device import is_cuda, synchronize

    torch_dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[dtype]
    n = _MATMUL_N_CUDA if is_cuda(device) else _MATMUL_N_CPU
    gen = torch.Generator(device="cpu").manual_seed(0)
    a = torch.randn(n, n, generator=gen).to(device=device, dtype=torch_dtype)
    b = torch.randn(n, n, generator=gen).to(device=device, dtype=torch_dtype)
    with torch.no_grad():
        torch.matmul(a, b)  # warm-up (kernel selection, allocation)
        synchronize(device)
        best_s = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            torch.matmul(a, b)
            synchronize(device)
            best_s = min(best_s, time.perf_counter() - start)
    return PeakFlops(flops_per_s=2.0 * n**3 / best_s, source=f"measured:matmul {n}x{n} {dtype}")


def device_peak(device: str, device_name: str, dtype: str) -> PeakFlops:
    """The catalog peak when the device is recognised, else a measured matmul peak."""
    found = catalog_peak(device_name, dtype) if device.startswith("cuda") else None
    return found if found is not None else measured_matmul_peak(device, dtype)
