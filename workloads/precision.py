"""Mixed precision: the autocast context and the fp16 gradient scaler.

- ``fp32``: no autocast.
- ``bf16``: ``torch.autocast`` with bfloat16; bfloat16 has fp32's exponent range,
  so no loss scaling is needed (Kalamkar et al. 2019, arXiv:1905.12322).
- ``fp16``: ``torch.autocast`` with float16 plus a ``torch.amp.GradScaler``
  (dynamic loss scaling, Micikevicius et al. 2018, arXiv:1710.03740, §3.2).
  On CPU, torch >= 2.3 supports fp16 autocast and a CPU GradScaler; fp16
  matmuls on CPU are slow and meant for checking the code path, not for speed.

Parameters and optimizer state stay fp32 in every mode (autocast casts the
inputs of each op, not the weights).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def device_type(device: str) -> str:
    """The autocast device type of a device string: 'cuda:1' -> 'cuda'."""
    return device.split(":", 1)[0]


def torch_dtype(dtype: str) -> torch.dtype | None:
    """The autocast dtype for a dcbench dtype name, or None for fp32 (no autocast)."""
    import torch

    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[dtype]


def autocast(dtype: str, device: str) -> contextlib.AbstractContextManager[object]:
    """The context to run a forward pass in: autocast for bf16/fp16, nothing for fp32."""
    import torch

    low = torch_dtype(dtype)
    if low is None or device_type(device) == "meta":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device_type(device), dtype=low)


def grad_scaler(dtype: str, device: str) -> torch.amp.GradScaler | None:
    """A GradScaler for fp16 (dynamic loss scaling), None for fp32 and bf16."""
    import torch

    if dtype != "fp16" or device_type(device) == "meta":
        return None
    return torch.amp.GradScaler(device_type(device))
