"""Feed a chosen layout into the network, storage, power and cost sizing (``simulator.sizing``).

The planner computes what the sizing functions need (bytes per GPU per step
on each network tier, step and compute times, parameters, tokens, run time);
the sizing functions own their formulas and defaults (docs/sizing.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.catalog.specs import HardwareSpec, ModelSpec, NetworkSpec
from simulator.result import Candidate
from simulator.sizing import (
    CostAssumptions,
    CostInputs,
    CostSizing,
    NetworkAssumptions,
    NetworkInputs,
    NetworkSizing,
    PowerAssumptions,
    PowerInputs,
    PowerSizing,
    StorageAssumptions,
    StorageInputs,
    StorageSizing,
    size_cost,
    size_network,
    size_power,
    size_storage,
)

DEFAULT_SWITCH_RADIX = NetworkAssumptions().switch_radix


def network_assumptions(hardware: HardwareSpec, fabric: NetworkSpec) -> NetworkAssumptions:
    """Network assumptions implied by the GPU and network catalogs (NIC rate, NICs per GPU,
    node-link rate per direction, achievable fraction, switch radix)."""
    return NetworkAssumptions(
        nic_bits_per_s=fabric.port_bits_per_s,
        nics_per_gpu=hardware.nics_per_gpu,
        scale_up_bytes_per_s=hardware.link_bytes_per_s_per_direction,
        link_efficiency=hardware.efficiency.inter_node_collective_fraction,
        switch_radix=fabric.switch_radix or DEFAULT_SWITCH_RADIX,
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class Sizing:
    network: NetworkSizing
    storage: StorageSizing
    power: PowerSizing
    cost: CostSizing


@dataclass(frozen=True, kw_only=True, slots=True)
class SizingAssumptions:
    network: NetworkAssumptions
    storage: StorageAssumptions
    power: PowerAssumptions
    cost: CostAssumptions


def size_everything(
    *,
    model: ModelSpec,
    hardware: HardwareSpec,
    chosen: Candidate,
    tokens: float,
    training_flops: float,
    assumptions: SizingAssumptions,
    bytes_per_sample: float | None = None,
) -> Sizing:
    """Network, storage, power and cost for running ``chosen`` until ``tokens`` are trained."""
    gpn = hardware.gpus_per_node
    nodes = -(-chosen.gpus // gpn)
    b = chosen.breakdown
    compute_time = b.compute_s + b.bubble_s + b.optimizer_s
    traffic = chosen.traffic
    network = size_network(
        NetworkInputs(
            gpus=chosen.gpus,
            gpus_per_node=gpn,
            compute_time_s=compute_time,
            scale_up_bytes_per_gpu=traffic.scale_up_bytes,
            scale_out_bytes_per_gpu=traffic.scale_out_bytes,
            dp_bytes_per_gpu=traffic.scale_out_dp_bytes,
            step_time_s=chosen.throughput.step_time_s,
        ),
        assumptions.network,
    )
    storage = size_storage(
        StorageInputs(
            params=float(model.params),
            dataset_tokens=tokens,
            vocab_size=model.vocab,
            tokens_per_s=chosen.throughput.tokens_per_s,
            nodes=nodes,
            bytes_per_sample=bytes_per_sample,
            tokens_per_sample=model.seq_len if bytes_per_sample is not None else None,
        ),
        assumptions.storage,
    )
    power = size_power(
        PowerInputs(
            gpus=chosen.gpus,
            gpus_per_node=gpn,
            gpu_tdp_w=hardware.tdp_w,
            run_time_s=chosen.time_to_train_s,
            measured_gpu_power_w=hardware.measured_power_w,
            switches=network.switches,
            storage_bytes=storage.capacity_bytes,
        ),
        assumptions.power,
    )
    cost = size_cost(
        CostInputs(
            gpus=chosen.gpus,
            gpus_per_node=gpn,
            run_time_s=chosen.time_to_train_s,
            switches=network.switches,
            transceivers=network.transceivers,
            storage_bytes=storage.capacity_bytes,
            it_w=power.it_w,
            electricity_cost_usd=power.electricity_cost_usd,
            tokens=tokens,
            training_flops=training_flops,
        ),
        assumptions.cost,
    )
    return Sizing(network=network, storage=storage, power=power, cost=cost)
