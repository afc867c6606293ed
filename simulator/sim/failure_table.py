"""The default failure table: Llama 3 Table 5 turned into per-component rates.

Source: Dubey et al., "The Llama 3 Herd of Models", arXiv:2407.21783, §3.3.4 and
Table 5: 419 unexpected interruptions (and 47 planned ones) in a 54-day window of
Llama 3 405B pre-training on 16,384 H100 GPUs. The paper's printed percentages do
not all equal count/419, so the table keeps the counts.

Each count becomes a rate per component-day by dividing by (54 days x the number
of that component in the Llama 3 job). The component ("scope") of each cause is a
dcbench choice, documented in docs/simulate.md:

* ``gpu`` - faults inside a GPU (the GPU, its HBM3 and SRAM, its system
  processor, its thermal interface, silent data corruption): 16,384 GPUs.
* ``node`` - faults of the host around the GPUs (unplanned host maintenance, NIC,
  SSD, power supply, chassis, IO expansion board, CPU, system memory): 2,048 nodes
  of 8 GPUs (Llama 3 §3.3.1: 8 GPUs per server).
* ``switch`` - network switch or cable: 1,024 top-of-rack switches, one per rack
  of 16 GPUs (Llama 3 §3.3.1: each rack holds two 8-GPU servers under one ToR
  switch).
* ``gpu`` also for software bugs and NCCL watchdog timeouts: any rank can hit them,
  so their rate grows with the job's size.
* ``job`` - a dependency failure (an external service the job needs): a rate per
  job-day that does not grow with the job's size.

At 16,384 GPUs the rates add back to exactly 419 expected interruptions in 54 days.
``replace_node`` marks causes whose recovery swaps the failed server for a spare.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Scope = Literal["gpu", "node", "switch", "job"]

#: Size of the Llama 3 405B job the counts come from (arXiv:2407.21783 §3.3.4).
LLAMA3_GPUS = 16_384
#: Length of the observation window, days (arXiv:2407.21783 §3.3.4).
LLAMA3_WINDOW_DAYS = 54.0
#: GPUs per server in the Llama 3 cluster (arXiv:2407.21783 §3.3.1, Grand Teton, 8 GPUs).
LLAMA3_GPUS_PER_NODE = 8
#: GPUs under one top-of-rack switch (arXiv:2407.21783 §3.3.1: 16 GPUs per rack, one ToR).
LLAMA3_GPUS_PER_SWITCH = 16
#: Unexpected and planned interruption counts in the window (Table 5 and §3.3.4).
LLAMA3_UNEXPECTED = 419
LLAMA3_PLANNED = 47


@dataclass(frozen=True, slots=True, kw_only=True)
class TableCause:
    """One row of Llama 3 Table 5 with the scope dcbench assigns it."""

    name: str  # dcbench's snake_case name of the cause
    count: int  # interruptions in the 54-day window (Table 5)
    scope: Scope  # which component the rate is per
    replace_node: bool  # recovery swaps the server for a spare


# Counts copied from arXiv:2407.21783 Table 5 (via ../shared/reference/published.yaml).
LLAMA3_TABLE5: tuple[TableCause, ...] = (
    TableCause(name="faulty_gpu", count=148, scope="gpu", replace_node=True),
    TableCause(name="gpu_hbm3_memory", count=72, scope="gpu", replace_node=True),
    TableCause(name="software_bug", count=54, scope="gpu", replace_node=False),
    TableCause(name="network_switch_or_cable", count=35, scope="switch", replace_node=False),
    TableCause(name="host_maintenance", count=32, scope="node", replace_node=True),
    TableCause(name="gpu_sram_memory", count=19, scope="gpu", replace_node=True),
    TableCause(name="gpu_system_processor", count=17, scope="gpu", replace_node=True),
    TableCause(name="nic", count=7, scope="node", replace_node=True),
    TableCause(name="nccl_watchdog_timeout", count=7, scope="gpu", replace_node=False),
    TableCause(name="silent_data_corruption", count=6, scope="gpu", replace_node=True),
    TableCause(name="gpu_thermal_interface_or_sensor", count=6, scope="gpu", replace_node=True),
    TableCause(name="ssd", count=3, scope="node", replace_node=True),
    TableCause(name="power_supply", count=3, scope="node", replace_node=True),
    TableCause(name="server_chassis", count=2, scope="node", replace_node=True),
    TableCause(name="io_expansion_board", count=2, scope="node", replace_node=True),
    TableCause(name="dependency", count=2, scope="job", replace_node=False),
    TableCause(name="cpu", count=2, scope="node", replace_node=True),
    TableCause(name="system_memory", count=2, scope="node", replace_node=True),
)


def llama3_components(scope: Scope) -> float:
    """How many components of ``scope`` the Llama 3 job had (GPUs, nodes, switches, 1 job)."""
    return {
        "gpu": float(LLAMA3_GPUS),
        "node": float(LLAMA3_GPUS / LLAMA3_GPUS_PER_NODE),
        "switch": float(LLAMA3_GPUS / LLAMA3_GPUS_PER_SWITCH),
        "job": 1.0,
    }[scope]


def table_rate_per_day(cause: TableCause) -> float:
    """Rate of ``cause`` per component-day: count / (54 days x components in the Llama 3 job)."""
    return cause.count / (LLAMA3_WINDOW_DAYS * llama3_components(cause.scope))


def planned_rate_per_day() -> float:
    """Planned interruptions per day for the whole job: 47 / 54 (arXiv:2407.21783 §3.3.4)."""
    return LLAMA3_PLANNED / LLAMA3_WINDOW_DAYS
