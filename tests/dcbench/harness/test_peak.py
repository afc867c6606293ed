"""Where MFU's peak comes from (catalog by exact device name, else a measured matmul), and how
an allocation failure is told apart from other errors."""

from __future__ import annotations

import pytest
import torch

from dcbench.harness.device import is_out_of_memory, out_of_memory_message
from dcbench.harness.peak import catalog_peak, device_peak, measured_matmul_peak


@pytest.mark.parametrize(
    ("reported_name", "dtype", "flops_per_s", "entry"),
    [
        # NVIDIA H100 Tensor Core GPU datasheet (SXM5): BF16 1,979 TFLOPS with 2:4 sparsity = 989.4 dense.
        ("NVIDIA H100 80GB HBM3", "bf16", 989.4e12, "h100-sxm5-80gb"),
        # Same datasheet: FP32 (non-tensor) 67 TFLOPS (66.9 in the catalog).
        ("NVIDIA H100 80GB HBM3", "fp32", 66.9e12, "h100-sxm5-80gb"),
        # NVIDIA A100 datasheet: BF16 Tensor Core 312 TFLOPS dense.
        ("NVIDIA A100-SXM4-80GB", "bf16", 312e12, "a100-sxm4-80gb"),
    ],
)
def test_a_recognised_gpu_uses_its_catalog_peak(reported_name: str, dtype: str, flops_per_s: float, entry: str) -> None:
    peak = catalog_peak(reported_name, dtype)
    assert peak is not None
    assert peak.flops_per_s == pytest.approx(flops_per_s, rel=1e-3)
    assert peak.source == f"catalog:{entry}"
    # device_peak takes the catalog figure for a GPU without touching the device.
    assert device_peak("cuda:0", reported_name, dtype) == peak


@pytest.mark.parametrize("reported_name", ["NVIDIA H100 PCIe", "H100", "nvidia h100 80gb hbm3", ""])
def test_names_are_matched_exactly_never_guessed(reported_name: str) -> None:
    assert catalog_peak(reported_name, "bf16") is None


def test_a_dtype_the_catalog_lacks_is_not_invented() -> None:
    assert catalog_peak("NVIDIA B200", "fp32") is None  # the catalog lists B200 bf16/fp8 only


def test_a_cpu_peak_is_measured_and_says_so() -> None:
    peak = device_peak("cpu", "NVIDIA H100 80GB HBM3", "fp32")  # a CPU is measured whatever its name
    assert peak.source == "measured:matmul 1024x1024 fp32"
    # Any real CPU core does more than 1 GFLOP/s on a dense fp32 matmul and less than 100 TFLOP/s.
    assert 1e9 < peak.flops_per_s < 1e14
    assert measured_matmul_peak("cpu", "bf16", repeats=1).source == "measured:matmul 1024x1024 bf16"


def test_a_host_allocation_failure_is_out_of_memory() -> None:
    with pytest.raises(RuntimeError) as caught:
        torch.empty(2**60, dtype=torch.uint8)  # 1 EiB: beyond any address space
    assert is_out_of_memory(caught.value)
    message = out_of_memory_message(caught.value)
    assert message.startswith("DefaultCPUAllocator: can't allocate memory") and "\n" not in message


@pytest.mark.parametrize("err", [RuntimeError("mat1 and mat2 shapes cannot be multiplied"), ValueError("x")])
def test_other_errors_are_not_out_of_memory(err: Exception) -> None:
    assert not is_out_of_memory(err)


def test_memory_error_is_out_of_memory() -> None:
    assert is_out_of_memory(MemoryError())
    assert out_of_memory_message(MemoryError()) == "MemoryError"
