"""Device selection, synchronisation and device-memory peaks for the harness.

All torch-specific device handling for the harness lives here, so the run loop
reads the same on CPU and GPU. Memory figures are bytes.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from dcbench.errors import DeviceError

if TYPE_CHECKING:
    import torch

_DEVICE_RE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def resolve_device(spec: str) -> str:
    """Turn ``auto|cpu|cuda|cuda:N`` into a concrete torch device string, or raise DeviceError."""
    import torch

    if not _DEVICE_RE.match(spec):
        raise DeviceError(f"unknown device {spec!r}: use auto, cpu, cuda or cuda:N")
    if spec == "auto":
        return "cuda:0" if torch.cuda.is_available() else "cpu"
    if spec == "cpu":
        return "cpu"
    if not torch.cuda.is_available():
        raise DeviceError(
            f"device {spec!r} requested but no CUDA GPU is visible to torch "
            f"(torch {torch.__version__}, CUDA build: {torch.version.cuda or 'no'}); use --device cpu"
        )
    index = int(spec.split(":")[1]) if ":" in spec else 0
    count = torch.cuda.device_count()
    if index >= count:
        raise DeviceError(
            f"device {spec!r} is not present: {count} CUDA device(s) visible; use cuda:0..cuda:{count - 1}"
        )
    return f"cuda:{index}"


def is_cuda(device: str) -> bool:
    return device.startswith("cuda")


def synchronize(device: str) -> None:
    """Wait for all queued work on ``device`` (a no-op on CPU, where ops run eagerly)."""
    import torch

    if is_cuda(device):
        torch.cuda.synchronize(device)


def reset_peak_memory(device: str) -> None:
    import torch

    if is_cuda(device):
        torch.cuda.reset_peak_memory_stats(device)


def peak_device_memory(device: str) -> tuple[int | None, int | None]:
    """Return (peak allocated bytes, peak reserved bytes) on a GPU; (None, None) on CPU."""
    import torch

    if not is_cuda(device):
        return None, None
    return int(torch.cuda.max_memory_allocated(device)), int(torch.cuda.max_memory_reserved(device))


def device_name(device: str) -> str:
    """A human name for the device: the GPU's marketing name, or the CPU model."""
    import torch

    if is_cuda(device):
        return str(torch.cuda.get_device_name(device))
    from dcbench.hardware.detect import cpu_model

    return cpu_model()


# How torch words an allocation failure: the CUDA caching allocator raises
# torch.OutOfMemoryError ("CUDA out of memory"); the host allocator
# (c10/core/impl/alloc_cpu.cpp) raises a RuntimeError "DefaultCPUAllocator: can't
# allocate memory: you tried to allocate N bytes. Error code 12 (Cannot allocate memory)".
_OOM_PHRASES = ("out of memory", "can't allocate memory", "cannot allocate memory")


def is_out_of_memory(err: BaseException) -> bool:
    """True for torch's out-of-memory errors (CUDA allocator or host allocation failures)."""
    import torch

    if isinstance(err, torch.OutOfMemoryError | MemoryError):
        return True
    text = str(err).lower()
    return isinstance(err, RuntimeError) and any(phrase in text for phrase in _OOM_PHRASES)


def out_of_memory_message(err: BaseException) -> str:
    """The informative part of an out-of-memory error, one line (allocator noise removed)."""
    text = " ".join(str(err).split()) or type(err).__name__
    marker = text.find("DefaultCPUAllocator:")
    if marker >= 0:  # "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: ..."
        text = text[marker:]
    return text if len(text) <= 200 else text[:197] + "..."


def empty_cache(device: str) -> None:
    import torch

    if is_cuda(device):
        torch.cuda.empty_cache()


def tensor_to_float(value: torch.Tensor) -> float:
    return float(value.detach().float().cpu().item())
