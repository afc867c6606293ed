"""Time of one optimizer step for each layout (vectorised), with its breakdown and traffic.

Composition (each term in seconds per step, for the slowest pipeline stage):

* Compute: ``m`` microbatches x ``L/p`` layers x (forward + backward + recompute),
  timed by :mod:`simulator.roofline`; the last stage also runs the logits.
* Tensor-parallel collectives on the node link, not overlapped (Megatron-LM):
  two all-reduces per layer in the forward pass and two in the backward, two
  more when the forward is recomputed; with sequence parallelism each becomes
  an all-gather plus a reduce-scatter of the same total time (Korthikanti et al.
  2022 §4.2.2). Buffer: ``b (s/cp) h`` 16-bit values.
* Context-parallel ring attention: ``cp - 1`` exchanges of the local keys and
  values per layer (twice that backward), hidden behind core attention when
  it is faster (Liu et al. 2023, "Ring Attention", arXiv:2310.01889 §3).
* Pipeline: 1F1B with bubble ``(p - 1) / v`` stage-times (Narayanan et al. 2021
  §2.2, eq. for the interleaved schedule), plus one activation send forward and
  one gradient send backward per microbatch and model chunk, ``b s h / t`` bytes
  each with Megatron's scatter/gather optimisation (§4.1).
* Data parallelism over ``dp * cp`` ranks (ZeRO paper §7 volumes): ZeRO 0-1
  all-reduce (or reduce-scatter + all-gather) the 16-bit gradients once per step,
  hidden behind the last microbatch's backward; ZeRO-2 reduce-scatters every
  microbatch (its gradients are sharded) and all-gathers the weights once;
  ZeRO-3 also all-gathers the weights in every forward and backward. Each is
  hidden behind the pass it serves (forward gathers behind the forward;
  backward gathers and gradient reduce-scatters behind the backward and any
  recomputation) where that pass is longer.
* Optimizer: Adam streams 28 bytes per locally owned parameter (reads fp32
  weight, momentum, variance and the 16-bit gradient; writes them back plus the
  16-bit weight) through HBM.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from simulator.catalog.specs import HardwareSpec, ModelSpec
from simulator.collectives import (
    all_gather_s,
    all_reduce_s,
    reduce_scatter_s,
    send_recv_s,
    spans_nodes,
)
from simulator.layouts import LayoutGrid
from simulator.memory import stage_params
from simulator.roofline import Attention, layer_times, memory_bound_s

Array = NDArray[np.float64]

ACTIVATION_BYTES = 2.0  # 16-bit activations and gradients on the wire
GRADIENT_BYTES = 2.0  # 16-bit gradients reduced across data parallelism (ZeRO §7)
ADAM_BYTES_PER_PARAM = 28.0  # see module docstring


@dataclass(frozen=True, kw_only=True, slots=True)
class Fabric:
    """Bandwidths and latencies the collectives see (bytes/s are NCCL bus bandwidths per GPU)."""

    gpus_per_node: int
    intra_busbw_bytes_per_s: float
    inter_busbw_bytes_per_s: float
    intra_latency_s: float
    inter_latency_s: float

    @classmethod
    def from_specs(
        cls, hardware: HardwareSpec, *, nic_bytes_per_s: float, inter_node_fraction: float | None = None
    ) -> Fabric:
        """``nic_bytes_per_s``: scale-out line rate per GPU (ports x port rate / 8);
        ``inter_node_fraction``: achievable share of it (default: the hardware's)."""
        eff = hardware.efficiency
        inter = eff.inter_node_collective_fraction if inter_node_fraction is None else inter_node_fraction
        return cls(
            gpus_per_node=hardware.gpus_per_node,
            intra_busbw_bytes_per_s=hardware.link_bytes_per_s_per_direction * eff.intra_node_collective_fraction,
            inter_busbw_bytes_per_s=nic_bytes_per_s * inter,
            intra_latency_s=eff.intra_node_latency_s,
            inter_latency_s=eff.inter_node_latency_s,
        )

    def link(self, crosses_nodes: NDArray[np.bool_]) -> tuple[Array, Array]:
        """Bus bandwidth and per-step latency for groups that do or do not cross nodes."""
        bw = np.where(crosses_nodes, self.inter_busbw_bytes_per_s, self.intra_busbw_bytes_per_s)
        alpha = np.where(crosses_nodes, self.inter_latency_s, self.intra_latency_s)
        return bw, alpha


@dataclass(frozen=True, kw_only=True, slots=True)
class StepTimes:
    """Seconds per step and bytes per GPU per step, one element per layout."""

    step_time_s: Array
    compute_s: Array  # forward, backward, recompute and logits of the slowest stage
    bubble_s: Array  # pipeline fill and drain
    tp_comm_s: Array  # exposed tensor-parallel collectives
    cp_comm_s: Array  # exposed context-parallel exchanges
    pp_comm_s: Array  # pipeline sends
    dp_comm_s: Array  # exposed data-parallel (and ZeRO) collectives
    optimizer_s: Array
    dp_comm_total_s: Array  # data-parallel collective time before overlap
    tp_bytes: Array  # bytes each GPU sends per step, per parallel group
    cp_bytes: Array
    pp_bytes: Array
    dp_bytes: Array
    cp_crosses_nodes: NDArray[np.bool_]
    pp_crosses_nodes: NDArray[np.bool_]
    dp_crosses_nodes: NDArray[np.bool_]


def step_times(
    model: ModelSpec, hardware: HardwareSpec, grid: LayoutGrid, fabric: Fabric, attention: Attention = "unfused"
) -> StepTimes:
    """Roofline step time of every layout in ``grid`` (see module docstring)."""
    f64 = np.float64
    t, p, d, c = (grid.tp.astype(f64), grid.pp.astype(f64), grid.dp.astype(f64), grid.cp.astype(f64))
    b, v = grid.microbatch.astype(f64), grid.virtual_stages.astype(f64)
    m = grid.microbatches.astype(f64)
    rc = grid.recompute
    s_local = model.seq_len / c
    times = layer_times(
        model, hardware, microbatch=b, seq_len=s_local, kv_seq_len=model.seq_len, tp=t,
        sequence_parallel=grid.sequence_parallel, attention=attention,
    )
    layers_per_stage = model.layers / p
    layer_compute = times.forward_s + times.backward_s + times.recompute_s(rc)

    # Tensor parallelism: all-reduce-equivalents of b * s_local * h activations per layer.
    tp_buffer = ACTIVATION_BYTES * b * s_local * model.hidden
    tp_bw, tp_alpha = fabric.link(spans_nodes(1, grid.tp, fabric.gpus_per_node))
    collectives_per_layer = 4.0 + np.where(rc == 2, 2.0, 0.0)
    tp_one = all_reduce_s(tp_buffer, t, tp_bw, tp_alpha)
    tp_layer = collectives_per_layer * tp_one
    tp_layer_bytes = collectives_per_layer * 2 * (t - 1) / t * tp_buffer

    # Context parallelism: ring exchange of local K and V (forward), K, V, dK, dV (backward).
    cp_cross = spans_nodes(grid.tp, grid.cp, fabric.gpus_per_node)
    cp_bw, cp_alpha = fabric.link(cp_cross)
    kv_chunk = ACTIVATION_BYTES * 2 * b * s_local * model.kv_hidden / t
    cp_forward = np.where(c > 1, (c - 1) * send_recv_s(kv_chunk, cp_bw, cp_alpha), 0.0)
    core = times.core_attention_forward_s
    cp_layer = np.maximum(cp_forward - core, 0.0) + np.maximum(2 * cp_forward - 2 * core, 0.0)
    cp_layer_bytes = np.where(c > 1, 3 * (c - 1) * kv_chunk, 0.0)

    # Pipeline sends: activation forward, gradient backward, per microbatch and model chunk.
    pp_cross = spans_nodes(grid.tp * grid.cp * grid.dp, 2, fabric.gpus_per_node)
    pp_bw, pp_alpha = fabric.link(pp_cross)
    pp_message = ACTIVATION_BYTES * b * s_local * model.hidden / t
    sends_per_microbatch = np.where(p > 1, 2 * v, 0.0)
    pp_microbatch = sends_per_microbatch * send_recv_s(pp_message, pp_bw, pp_alpha)

    # Data parallelism (ZeRO) over dp * cp ranks of this stage's 16-bit gradients/weights.
    dp_ranks = d * c
    dp_cross = spans_nodes(grid.tp, grid.cp * grid.dp, fabric.gpus_per_node)
    dp_bw, dp_alpha = fabric.link(dp_cross)
    params_gpu = stage_params(model, p) / t
    shard_bytes = GRADIENT_BYTES * params_gpu
    z = grid.zero_stage
    gather = all_gather_s(shard_bytes, dp_ranks, dp_bw, dp_alpha)
    scatter = reduce_scatter_s(shard_bytes, dp_ranks, dp_bw, dp_alpha)
    per_step_dp = np.select([z <= 1, z == 2], [all_reduce_s(shard_bytes, dp_ranks, dp_bw, dp_alpha), gather], 0.0)
    per_microbatch_dp = np.select([z == 2, z == 3], [scatter, 2 * gather + scatter], 0.0)
    # What each pass can hide: ZeRO-3's forward gather behind the forward; the backward
    # gather and the gradient reduce-scatter (ZeRO-2 and 3) behind the backward.
    forward_dp = np.where(z == 3, gather, 0.0)
    backward_dp = per_microbatch_dp - forward_dp
    dp_volume = 2 * (dp_ranks - 1) / dp_ranks * shard_bytes
    dp_step_bytes = np.select([z <= 1, z == 2], [dp_volume, dp_volume / 2 * (1 + m)], dp_volume / 2 * 3 * m)

    stage_compute = layers_per_stage * layer_compute
    stage_forward = layers_per_stage * times.forward_s
    zero_exposed = np.maximum(forward_dp - stage_forward, 0.0) + np.maximum(
        backward_dp - (stage_compute - stage_forward), 0.0
    )
    tp_stage = layers_per_stage * tp_layer
    cp_stage = layers_per_stage * cp_layer
    microbatch_stage = stage_compute + tp_stage + cp_stage + pp_microbatch + zero_exposed
    logits = times.logits_forward_s + times.logits_backward_s
    slowest = microbatch_stage + logits
    average = microbatch_stage + logits / p
    pipeline = m * slowest + (p - 1) / v * average

    last_backward = layers_per_stage * times.backward_s
    dp_exposed_step = np.maximum(per_step_dp - last_backward, 0.0)
    owned = params_gpu / np.where(z >= 1, dp_ranks, 1.0)
    optimizer = memory_bound_s(hardware, ADAM_BYTES_PER_PARAM * owned)

    compute = m * (stage_compute + logits)
    tp_comm = m * tp_stage
    cp_comm = m * cp_stage
    pp_comm = m * pp_microbatch
    dp_comm = m * zero_exposed + dp_exposed_step
    # Without pipelining there is no bubble; the subtraction would leave rounding noise (even -0.0).
    bubble = np.where(p > 1, np.maximum(pipeline - compute - tp_comm - cp_comm - pp_comm - m * zero_exposed, 0.0), 0.0)
    return StepTimes(
        step_time_s=pipeline + dp_exposed_step + optimizer,
        compute_s=compute,
        bubble_s=bubble,
        tp_comm_s=tp_comm,
        cp_comm_s=cp_comm,
        pp_comm_s=pp_comm,
        dp_comm_s=dp_comm,
        optimizer_s=optimizer,
        dp_comm_total_s=m * per_microbatch_dp + per_step_dp,
        tp_bytes=m * layers_per_stage * tp_layer_bytes,
        cp_bytes=m * layers_per_stage * cp_layer_bytes,
        pp_bytes=m * sends_per_microbatch * pp_message,
        dp_bytes=dp_step_bytes,
        cp_crosses_nodes=cp_cross,
        pp_crosses_nodes=pp_cross,
        dp_crosses_nodes=dp_cross,
    )
