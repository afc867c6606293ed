"""Typed plan results and their stable JSON form (documented in docs/planner.md).

``PlanResult.to_dict()`` is a public contract: keys are only ever added.
Every quantity carries its unit in its name (``_s``, ``_bytes``, ``_w``, ``_j``,
``_flops``); plain counts (GPUs, tokens, parameters) have none.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from simulator.catalog.specs import HardwareSpec, ModelSpec, NetworkSpec
from simulator.flops import RECOMPUTE_MODES
from simulator.search import Evaluation
from simulator.sizing import CostSizing, NetworkSizing, PowerSizing, StorageSizing
from simulator.units import format_bytes

SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True, kw_only=True, slots=True)
class Parallelism:
    """One layout: ``gpus = tp * pp * dp * cp``."""

    tp: int
    pp: int
    dp: int
    cp: int
    microbatch: int  # sequences per microbatch
    global_batch: int  # sequences per optimizer step
    microbatches: int  # per pipeline flush: global_batch / (dp * microbatch)
    zero_stage: int
    recompute: str  # none | selective | full
    sequence_parallel: bool
    virtual_stages: int  # model chunks per GPU (interleaved 1F1B when > 1)

    def label(self) -> str:
        """Short human form: 'tp8 pp8 dp16 cp1 mb1 zero1 selective+sp'."""
        rc = self.recompute + ("+sp" if self.sequence_parallel else "")
        vs = f" v{self.virtual_stages}" if self.virtual_stages > 1 else ""
        return (
            f"tp{self.tp} pp{self.pp} dp{self.dp} cp{self.cp} mb{self.microbatch}{vs} "
            f"zero{self.zero_stage} {rc}"
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class Throughput:
    step_time_s: float
    tokens_per_step: float
    tokens_per_s: float
    steps: float  # optimizer steps to train on all tokens
    achieved_flops_per_gpu: float  # hardware FLOP/s per GPU (recompute included)
    mfu: float  # model FLOPs utilisation
    hfu: float  # hardware FLOPs utilisation


@dataclass(frozen=True, kw_only=True, slots=True)
class MemoryBreakdown:
    """Bytes per GPU on the fullest pipeline stage."""

    weights: float
    gradients: float
    optimizer: float
    activations: float
    overhead: float  # framework overhead + ZeRO-3 gather buffers
    total: float
    hbm: float  # HBM capacity
    usable: float  # HBM minus headroom


@dataclass(frozen=True, kw_only=True, slots=True)
class StepBreakdown:
    """Seconds per step; they add up to the step time (exposed communication only)."""

    compute_s: float
    bubble_s: float
    tp_comm_s: float
    cp_comm_s: float
    pp_comm_s: float
    dp_comm_s: float
    optimizer_s: float
    source: str  # "roofline" or the efficiency override used

    def shares(self, step_time_s: float) -> dict[str, float]:
        """Each part as a fraction of the step."""
        parts = asdict(self)
        parts.pop("source")
        return {key.removesuffix("_s"): value / step_time_s for key, value in parts.items()}


@dataclass(frozen=True, kw_only=True, slots=True)
class Traffic:
    """Bytes each GPU sends per step, by parallel group, and by network tier."""

    tp_bytes: float
    cp_bytes: float
    pp_bytes: float
    dp_bytes: float
    scale_up_bytes: float  # over the node link (NVLink)
    scale_out_bytes: float  # over the NICs
    scale_out_dp_bytes: float  # the data-parallel part of scale_out_bytes (spreads cluster-wide)


@dataclass(frozen=True, kw_only=True, slots=True)
class Candidate:
    """One ranked layout with its numbers and a one-line explanation."""

    rank: int
    gpus: int
    parallelism: Parallelism
    throughput: Throughput
    time_to_train_s: float
    memory_per_gpu_bytes: MemoryBreakdown
    fits: bool
    breakdown: StepBreakdown
    traffic: Traffic
    explanation: str

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["time_to_train_days"] = self.time_to_train_s / SECONDS_PER_DAY
        return out


@dataclass(frozen=True, kw_only=True, slots=True)
class Flops:
    model_flops_per_token: float  # forward + backward, no recompute
    hardware_flops_per_token: float  # with the chosen recompute
    training_flops: float  # model FLOPs for all tokens
    hardware_flops: float  # hardware FLOPs for all tokens
    six_nd_flops: float  # 6 * params * tokens (Kaplan et al. 2020)


@dataclass(frozen=True, kw_only=True, slots=True)
class PlanResult:
    """The chosen plan (the best candidate) with its sizing, plus the ranked candidates."""

    model: ModelSpec
    hardware: HardwareSpec
    fabric: NetworkSpec
    tokens: float
    gpus: int
    nodes: int
    objective: str
    parallelism: Parallelism
    flops: Flops
    throughput: Throughput
    time_to_train_s: float
    memory_per_gpu_bytes: MemoryBreakdown
    fits: bool
    breakdown: StepBreakdown
    traffic: Traffic
    network: NetworkSizing
    storage: StorageSizing
    power: PowerSizing
    cost: CostSizing
    candidates: tuple[Candidate, ...]
    layouts_evaluated: int
    deadline_s: float | None
    notes: tuple[str, ...]
    attention: str  # "flash" or "unfused"
    assumptions: dict[str, dict[str, Any]]  # the memory and sizing assumptions used, by section

    @property
    def time_to_train_days(self) -> float:
        return self.time_to_train_s / SECONDS_PER_DAY

    @property
    def gpu_hours(self) -> float:
        return self.gpus * self.time_to_train_s / 3600.0

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON object of ``dcbench plan --json``."""
        return {
            "model": {
                "name": self.model.name,
                "params": self.model.params,
                "layers": self.model.layers,
                "hidden": self.model.hidden,
                "heads": self.model.heads,
                "kv_heads": self.model.kv_heads,
                "ffn_hidden": self.model.ffn_hidden,
                "vocab": self.model.vocab,
                "seq_len": self.model.seq_len,
                "mlp": self.model.mlp,
            },
            "gpu": {
                "name": self.hardware.name,
                "peak_bf16_flops_per_s": self.hardware.peak(),
                "hbm_bytes": self.hardware.hbm_bytes,
                "gpus_per_node": self.hardware.gpus_per_node,
            },
            "fabric": {"name": self.fabric.name, "port_bits_per_s": self.fabric.port_bits_per_s},
            "tokens": self.tokens,
            "gpus": self.gpus,
            "nodes": self.nodes,
            "objective": self.objective,
            "deadline_s": self.deadline_s,
            "parallelism": asdict(self.parallelism),
            "flops": asdict(self.flops),
            "throughput": asdict(self.throughput),
            "time_to_train_s": self.time_to_train_s,
            "time_to_train_days": self.time_to_train_days,
            "gpu_hours": self.gpu_hours,
            "memory_per_gpu_bytes": asdict(self.memory_per_gpu_bytes),
            "fits": self.fits,
            "breakdown": asdict(self.breakdown),
            "traffic_per_gpu_bytes": asdict(self.traffic),
            "network": self.network.to_dict(),
            "storage": self.storage.to_dict(),
            "power": self.power.to_dict(),
            "cost": self.cost.to_dict(),
            "candidates": [c.to_dict() for c in self.candidates],
            "layouts_evaluated": self.layouts_evaluated,
            "notes": list(self.notes),
            "attention": self.attention,
            "assumptions": self.assumptions,
        }


def _explain(breakdown: StepBreakdown, step_time_s: float, memory: MemoryBreakdown) -> str:
    """'compute 78%, bubble 10%, tp comm 9% | 61.2 GB of 76 GB' (largest parts first)."""
    shares = breakdown.shares(step_time_s)
    parts = sorted(((v, k.replace("_", " ")) for k, v in shares.items() if v >= 0.005), reverse=True)
    time_text = ", ".join(f"{name} {value:.0%}" for value, name in parts)
    if breakdown.source != "roofline":
        time_text = f"step time from {breakdown.source}"
    return f"{time_text} | {format_bytes(memory.total)} of {format_bytes(memory.usable)} usable"


def candidate(evaluation: Evaluation, index: int, *, rank: int, tokens: float, source: str) -> Candidate:
    """Pull layout ``index`` out of ``evaluation`` as a typed :class:`Candidate`."""
    g, t, i = evaluation.grid, evaluation.times, index
    parallelism = Parallelism(
        tp=int(g.tp[i]),
        pp=int(g.pp[i]),
        dp=int(g.dp[i]),
        cp=int(g.cp[i]),
        microbatch=int(g.microbatch[i]),
        global_batch=int(g.global_batch[i]),
        microbatches=int(g.microbatches[i]),
        zero_stage=int(g.zero_stage[i]),
        recompute=RECOMPUTE_MODES[int(g.recompute[i])],
        sequence_parallel=bool(g.sequence_parallel[i]),
        virtual_stages=int(g.virtual_stages[i]),
    )
    step = float(evaluation.step_time_s[i])
    tokens_per_s = float(evaluation.tokens_per_s[i])
    throughput = Throughput(
        step_time_s=step,
        tokens_per_step=float(evaluation.tokens_per_step[i]),
        tokens_per_s=tokens_per_s,
        steps=tokens / float(evaluation.tokens_per_step[i]),
        achieved_flops_per_gpu=float(evaluation.achieved_flops_per_gpu[i]),
        mfu=float(evaluation.mfu[i]),
        hfu=float(evaluation.achieved_flops_per_gpu[i]) / evaluation.peak_flops_per_s,
    )
    memory = MemoryBreakdown(
        weights=float(evaluation.weights_bytes[i]),
        gradients=float(evaluation.gradients_bytes[i]),
        optimizer=float(evaluation.optimizer_bytes[i]),
        activations=float(evaluation.activations_bytes[i]),
        overhead=float(evaluation.overhead_bytes[i]),
        total=float(evaluation.total_bytes[i]),
        hbm=evaluation.hbm_bytes,
        usable=evaluation.usable_bytes,
    )
    if source == "roofline":
        breakdown = StepBreakdown(
            compute_s=float(t.compute_s[i]),
            bubble_s=float(t.bubble_s[i]),
            tp_comm_s=float(t.tp_comm_s[i]),
            cp_comm_s=float(t.cp_comm_s[i]),
            pp_comm_s=float(t.pp_comm_s[i]),
            dp_comm_s=float(t.dp_comm_s[i]),
            optimizer_s=float(t.optimizer_s[i]),
            source=source,
        )
    else:
        breakdown = StepBreakdown(
            compute_s=step, bubble_s=0.0, tp_comm_s=0.0, cp_comm_s=0.0, pp_comm_s=0.0,
            dp_comm_s=0.0, optimizer_s=0.0, source=source,
        )
    crossing = {
        "cp": bool(t.cp_crosses_nodes[i]),
        "pp": bool(t.pp_crosses_nodes[i]),
        "dp": bool(t.dp_crosses_nodes[i]),
    }
    group_bytes = {"cp": float(t.cp_bytes[i]), "pp": float(t.pp_bytes[i]), "dp": float(t.dp_bytes[i])}
    scale_out = sum(v for k, v in group_bytes.items() if crossing[k])
    traffic = Traffic(
        tp_bytes=float(t.tp_bytes[i]),
        cp_bytes=group_bytes["cp"],
        pp_bytes=group_bytes["pp"],
        dp_bytes=group_bytes["dp"],
        scale_up_bytes=float(t.tp_bytes[i]) + sum(v for k, v in group_bytes.items() if not crossing[k]),
        scale_out_bytes=scale_out,
        scale_out_dp_bytes=group_bytes["dp"] if crossing["dp"] else 0.0,
    )
    return Candidate(
        rank=rank,
        gpus=int(g.gpus[i]),
        parallelism=parallelism,
        throughput=throughput,
        time_to_train_s=tokens / tokens_per_s,
        memory_per_gpu_bytes=memory,
        fits=bool(evaluation.fits[i]),
        breakdown=breakdown,
        traffic=traffic,
        explanation=_explain(breakdown, step, memory),
    )
