"""What a plan is asked for (``PlanRequest``) and its validated, resolved form (``PlanSetup``).

``prepare`` loads the model and hardware, checks every field (one-line errors
naming the fix), fixes the layout dimensions the request gives and builds the
fabric the step-time model sees; ``evaluate_counts`` runs the vectorised search
at some GPU counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from dcbench.errors import InfeasibleError, UsageError
from simulator import feasibility
from simulator.catalog import load_hardware, load_model, load_network
from simulator.catalog.specs import HardwareSpec, ModelSpec, NetworkSpec
from simulator.layouts import SearchSpace, build_grid, default_space
from simulator.memory import RECOMPUTE_CODES
from simulator.provision import SizingAssumptions, network_assumptions
from simulator.roofline import ATTENTION_KINDS, Attention
from simulator.search import EfficiencyOverride, Evaluation, MemoryAssumptions, evaluate
from simulator.sizing import (
    CostAssumptions,
    NetworkAssumptions,
    PowerAssumptions,
    StorageAssumptions,
)
from simulator.step_time import Fabric
from simulator.units import parse_count

OBJECTIVES: tuple[str, ...] = ("time", "cost", "energy")
MAX_GPUS = 1 << 20  # the search's ceiling, about a million GPUs
DEFAULT_BATCH_TOKENS = 1 << 22  # ~4M tokens per step when a model publishes none (Llama 2 §2.2)


@dataclass(slots=True)
class PlanRequest:
    """What to plan. ``None`` means "search it" (or "use the default")."""

    model: ModelSpec | str
    tokens: float | str  # training tokens; "300B", "15.6T" and 3e11 all work
    gpu: HardwareSpec | str
    gpus: int | None = None  # exactly one of gpus / days
    days: float | None = None
    seq_len: int | None = None  # overrides the model's sequence length
    global_batch: int | None = None  # sequences per step; fixed when given
    tp: int | None = None
    pp: int | None = None
    dp: int | None = None
    cp: int | None = None
    microbatch: int | None = None
    zero: int | None = None
    recompute: str | None = None  # none | selective | full
    sequence_parallel: bool | None = None
    virtual_stages: int | None = None  # interleaved 1F1B model chunks per GPU
    achieved_flops_per_gpu: float | None = None  # hardware FLOP/s per GPU, recompute included
    mfu: float | None = None  # model FLOPs utilisation in (0, 1]
    attention: str = "flash"  # flash (fused FlashAttention-2) or unfused (Megatron-LM 2022)
    objective: str = "time"
    top: int = 5
    network_name: str | None = None  # catalog network; default: the GPU's
    network: NetworkAssumptions | None = None  # default: from the GPU and network catalogs
    storage: StorageAssumptions | None = None
    power: PowerAssumptions | None = None
    cost: CostAssumptions | None = None
    memory: MemoryAssumptions = field(default_factory=MemoryAssumptions)
    bytes_per_sample: float | None = None  # measured bytes read per training sample
    allow_no_fit: bool = False  # return the leanest layout even when nothing fits


@dataclass(frozen=True, kw_only=True, slots=True)
class PlanSetup:
    """A validated request: loaded specs, search space, batch, fabric, override and assumptions."""

    model: ModelSpec
    hardware: HardwareSpec
    fabric_spec: NetworkSpec
    fabric: Fabric
    space: SearchSpace
    batch: int
    batch_fixed: bool
    memory: MemoryAssumptions
    override: EfficiencyOverride | None
    source: str
    attention: Attention
    sizing: SizingAssumptions
    tokens: float


def positive_float(name: str, value: float | None) -> float | None:
    """``value`` as a float when given; a one-line UsageError naming ``--name`` unless finite and > 0."""
    if value is None:
        return None
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"--{name} must be a number > 0 (got {value!r})")
    return float(value)


def _fixed_space(req: PlanRequest, model: ModelSpec, hardware: HardwareSpec) -> SearchSpace:
    for name in ("tp", "pp", "dp", "cp", "microbatch", "virtual_stages", "global_batch", "seq_len"):
        feasibility.check_positive(name, getattr(req, name))
    if req.zero is not None and req.zero not in (0, 1, 2, 3):
        raise UsageError(f"--zero must be 0, 1, 2 or 3 (got {req.zero!r})")
    if req.recompute is not None and req.recompute not in RECOMPUTE_CODES:
        raise UsageError(f"--recompute must be none, selective or full (got {req.recompute!r})")
    if req.tp is not None:
        feasibility.check_tp(model, hardware, req.tp)
    if req.pp is not None:
        feasibility.check_pp(model, req.pp)
    if req.cp is not None:
        feasibility.check_cp(model, req.cp)
    if req.virtual_stages is not None:
        feasibility.check_virtual_stages(model, req.pp, req.virtual_stages)
    feasibility.check_zero_with_pp(req.zero, req.pp)
    if req.sequence_parallel and req.tp == 1:
        raise InfeasibleError("sequence parallelism needs tensor parallelism; drop --sequence-parallel or set --tp > 1")
    space = default_space(model, hardware.gpus_per_node, req.gpus or MAX_GPUS)
    return replace(
        space,
        tp=[req.tp] if req.tp else space.tp,
        pp=[req.pp] if req.pp else space.pp,
        cp=[req.cp] if req.cp else space.cp,
        dp=[req.dp] if req.dp else None,
        microbatch=[req.microbatch] if req.microbatch else space.microbatch,
        zero_stage=[req.zero] if req.zero is not None else space.zero_stage,
        recompute=[RECOMPUTE_CODES[req.recompute]] if req.recompute else space.recompute,
        sequence_parallel=[req.sequence_parallel] if req.sequence_parallel is not None else space.sequence_parallel,
        virtual_stages=[req.virtual_stages] if req.virtual_stages else space.virtual_stages,
    )


def prepare(req: PlanRequest) -> PlanSetup:
    """Validate ``req`` and resolve it (raises one-line DcbenchErrors)."""
    model = load_model(req.model) if isinstance(req.model, str) else req.model
    hardware = load_hardware(req.gpu) if isinstance(req.gpu, str) else req.gpu
    tokens = parse_count(req.tokens)
    if tokens <= 0:
        raise UsageError("--tokens must be > 0; write e.g. 300B or 15.6T")
    if req.seq_len is not None:
        feasibility.check_positive("seq_len", req.seq_len)
        model = model.model_copy(update={"seq_len": int(req.seq_len)})
    if req.objective not in OBJECTIVES:
        raise UsageError(f"--objective must be one of {', '.join(OBJECTIVES)} (got {req.objective!r})")
    if req.attention not in ATTENTION_KINDS:
        raise UsageError(f"--attention must be one of {', '.join(ATTENTION_KINDS)} (got {req.attention!r})")
    if req.top < 1:
        raise UsageError(f"--top must be >= 1 (got {req.top})")
    if req.achieved_flops_per_gpu is not None and req.mfu is not None:
        raise UsageError("give --achieved-tflops or --mfu, not both")
    achieved = positive_float("achieved-tflops", req.achieved_flops_per_gpu)
    mfu = positive_float("mfu", req.mfu)
    if mfu is not None and mfu > 1:
        raise UsageError(f"--mfu is a fraction in (0, 1] (got {mfu}); for 45% write 0.45")
    if achieved is not None and achieved > hardware.peak():
        raise UsageError(
            f"--achieved-tflops {achieved / 1e12:g} exceeds the {hardware.name} bf16 peak of "
            f"{hardware.peak() / 1e12:g} TFLOP/s"
        )
    override = EfficiencyOverride(achieved_flops_per_gpu=achieved, mfu=mfu) if achieved or mfu else None
    source = "roofline"
    if achieved is not None:
        source = f"achieved_flops_per_gpu={achieved:.4g}"
    elif mfu is not None:
        source = f"mfu={mfu:.4g}"

    fabric_spec = load_network(req.network_name or hardware.default_network)
    net = req.network or network_assumptions(hardware, fabric_spec)
    fabric = Fabric.from_specs(
        hardware, nic_bytes_per_s=net.nic_bits_per_s / 8 * net.nics_per_gpu, inter_node_fraction=net.link_efficiency
    )
    if req.global_batch is not None:
        batch, fixed = int(req.global_batch), True
    else:
        batch = model.global_batch or -(-DEFAULT_BATCH_TOKENS // model.seq_len)
        fixed = False
    return PlanSetup(
        model=model,
        hardware=hardware,
        fabric_spec=fabric_spec,
        fabric=fabric,
        space=_fixed_space(req, model, hardware),
        batch=batch,
        batch_fixed=fixed,
        memory=req.memory,
        override=override,
        source=source,
        attention=req.attention,  # type: ignore[arg-type]
        sizing=SizingAssumptions(
            network=net,
            storage=req.storage or StorageAssumptions(),
            power=req.power or PowerAssumptions(),
            cost=req.cost or CostAssumptions(),
        ),
        tokens=tokens,
    )


def evaluate_counts(setup: PlanSetup, counts: list[int]) -> Evaluation | None:
    """Every valid layout at the GPU ``counts``, evaluated; None when there is none."""
    grid = build_grid(
        setup.model,
        setup.space,
        gpus=counts,
        gpus_per_node=setup.hardware.gpus_per_node,
        global_batch=setup.batch,
        batch_is_fixed=setup.batch_fixed,
    )
    if len(grid) == 0:
        return None
    return evaluate(
        setup.model, setup.hardware, grid, setup.fabric, setup.memory, setup.override, setup.attention
    )


def train_time(setup: PlanSetup, ev: Evaluation) -> np.ndarray:
    """Seconds to train all tokens, per layout."""
    return setup.tokens / ev.tokens_per_s
