"""Building workloads by name: the error cases and the lazy construction of big presets."""

from __future__ import annotations

import psutil
import pytest

from dcbench.errors import NotFoundError, UsageError
from workloads.base import SIZES, WorkloadConfig
from workloads.registry import WORKLOAD_NAMES, create, default_batch_size


def test_the_five_workloads_are_registered() -> None:
    assert WORKLOAD_NAMES == ("cnn", "mlp", "gpt", "bert", "resnet")
    for name in WORKLOAD_NAMES:
        workload = create(name, WorkloadConfig())
        assert workload.name == name


def test_unknown_workload_suggests_the_closest_name() -> None:
    with pytest.raises(NotFoundError) as err:
        create("gtp", WorkloadConfig())
    message = str(err.value)
    assert "unknown workload 'gtp'" in message
    assert "did you mean 'gpt'" in message
    assert "\n" not in message
    assert err.value.exit_code == 2


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (WorkloadConfig(size="huge"), "unknown size 'huge'"),
        (WorkloadConfig(dtype="fp8"), "unknown dtype 'fp8'"),
        (WorkloadConfig(batch_size=0), "batch size must be a positive integer, got 0"),
        (WorkloadConfig(batch_size=-4), "batch size must be a positive integer, got -4"),
        (WorkloadConfig(channels_last=True), "channels_last applies to the image workloads"),
        (WorkloadConfig(data_dir="/tmp"), "read only by the cnn workload"),
        (WorkloadConfig(num_workers=-1), "num_workers must be >= 0"),
    ],
)
def test_bad_configs_are_usage_errors_with_one_line(config: WorkloadConfig, expected: str) -> None:
    with pytest.raises(UsageError) as err:
        create("gpt", config)
    assert expected in str(err.value)
    assert "\n" not in str(err.value)
    assert err.value.exit_code == 2


def test_unknown_size_suggests_a_preset() -> None:
    with pytest.raises(UsageError, match="did you mean 'small'"):
        create("mlp", WorkloadConfig(size="smal"))


@pytest.mark.parametrize("name", ["cnn", "resnet"])
def test_channels_last_is_accepted_by_image_workloads(name: str) -> None:
    assert create(name, WorkloadConfig(channels_last=True)).config.channels_last


def test_default_batch_size_is_the_preset_batch_and_overridable() -> None:
    # Preset batches as documented in docs/workloads.md.
    assert default_batch_size("resnet", "large") == 256
    assert default_batch_size("cnn", "small") == 32
    assert create("gpt", WorkloadConfig(batch_size=3)).batch_size == 3
    for name in WORKLOAD_NAMES:
        for size in SIZES:
            assert default_batch_size(name, size) > 0
    with pytest.raises(NotFoundError):
        default_batch_size("gpt", "xl")


def test_large_presets_allocate_nothing_until_they_run() -> None:
    """Sizing a 355M-parameter model (1.4 GB of fp32 weights) must not allocate its weights."""
    process = psutil.Process()
    before = process.memory_info().rss
    workload = create("gpt", WorkloadConfig(size="large"))
    assert workload.param_count > 350_000_000
    assert workload.analytic_flops_per_step() > 0
    grown = process.memory_info().rss - before
    assert grown < 200e6
