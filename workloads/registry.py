"""Build a workload by name, rejecting bad input with one line that names the fix.

Workload modules are imported only when used, so ``import workloads.registry``
does not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from dcbench.errors import UsageError, unknown
from workloads.base import DTYPES, SIZES, WorkloadConfig

if TYPE_CHECKING:
    from workloads.base import Workload

WORKLOAD_NAMES: tuple[str, ...] = ("cnn", "mlp", "gpt", "bert", "resnet")

# name -> (module, class); the modules import torch, so they load on first use.
_CLASSES: dict[str, tuple[str, str]] = {
    "cnn": ("workloads.cnn", "CnnWorkload"),
    "mlp": ("workloads.mlp", "MlpWorkload"),
    "gpt": ("workloads.gpt", "GptWorkload"),
    "bert": ("workloads.bert", "BertWorkload"),
    "resnet": ("workloads.resnet", "ResnetWorkload"),
}


def _workload_class(name: str) -> type[Workload]:
    if name not in WORKLOAD_NAMES:
        raise unknown("workload", name, WORKLOAD_NAMES)
    module, cls = _CLASSES[name]
    workload_class: type[Workload] = getattr(importlib.import_module(module), cls)
    return workload_class


def validate(name: str, config: WorkloadConfig) -> None:
    """Raise NotFoundError/UsageError for anything ``create`` would reject (image folder aside)."""
    workload_class = _workload_class(name)
    if config.size not in SIZES:
        raise unknown("size", config.size, SIZES)
    if config.dtype not in DTYPES:
        raise unknown("dtype", config.dtype, DTYPES)
    if config.batch_size is not None and (isinstance(config.batch_size, bool) or config.batch_size <= 0):
        raise UsageError(f"batch size must be a positive integer, got {config.batch_size}; pass e.g. --batch-size 32")
    if config.channels_last and not getattr(workload_class, "channels_last_supported", False):
        raise UsageError(f"channels_last applies to the image workloads (cnn, resnet), not {name!r}; drop --channels-last")
    if config.data_dir is not None and name != "cnn":
        raise UsageError(f"an image folder (--data-dir) is read only by the cnn workload, not {name!r}; drop --data-dir")
    if config.num_workers < 0:
        raise UsageError(f"num_workers must be >= 0, got {config.num_workers}; pass e.g. --num-workers 2")


def create(name: str, config: WorkloadConfig) -> Workload:
    """Build workload ``name`` at ``config`` (lazily: nothing is allocated until it runs)."""
    validate(name, config)
    return _workload_class(name)(config)


def default_batch_size(name: str, size: str) -> int:
    """The preset's batch size for workload ``name`` at ``size``."""
    if size not in SIZES:
        raise unknown("size", size, SIZES)
    return create(name, WorkloadConfig(size=size)).batch_size
