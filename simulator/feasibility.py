"""Checks of user-fixed layout dimensions, each failing with one line and the nearest valid choice.

Examples of the messages: "tp=3 does not divide the 64 heads of llama2-70b; try tp=2 or
tp=4", "pp=5 does not divide the 32 layers of llama3-8b; try pp=4 or pp=8".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dcbench.errors import InfeasibleError, UsageError
from simulator.catalog.specs import HardwareSpec, ModelSpec


def nearest(value: int, valid: Sequence[int], flag: str) -> str:
    """'try tp=2 or tp=4': the closest valid values below and above ``value``."""
    below = [v for v in valid if v < value]
    above = [v for v in valid if v > value]
    options = ([f"{flag}={max(below)}"] if below else []) + ([f"{flag}={min(above)}"] if above else [])
    return f"try {' or '.join(options)}" if options else "no value works"


def _valid_upto(limit: int, ok: Callable[[int], bool]) -> list[int]:
    return [v for v in range(1, limit + 1) if ok(v)]


def check_positive(name: str, value: int | None, low: int = 1) -> None:
    """Reject a fixed dimension below ``low`` (one line, names the flag)."""
    if value is not None and (isinstance(value, bool) or int(value) != value or value < low):
        raise UsageError(f"--{name.replace('_', '-')} must be a whole number >= {low} (got {value!r})")


def check_tp(model: ModelSpec, hardware: HardwareSpec, tp: int) -> None:
    """Tensor parallelism must divide heads, key/value heads and FFN width, within one node."""
    gpn = hardware.gpus_per_node

    def divides(t: int) -> bool:
        return model.heads % t == 0 and model.kv_heads % t == 0 and model.ffn_hidden % t == 0

    valid = _valid_upto(gpn, divides)
    if tp > gpn:
        raise InfeasibleError(
            f"tp={tp} exceeds the {gpn} GPUs of one {hardware.name} node (tensor parallelism "
            f"stays on the node link); {nearest(tp, valid, 'tp')}"
        )
    for count, what in ((model.heads, "heads"), (model.kv_heads, "key/value heads"), (model.ffn_hidden, "FFN width")):
        if count % tp:
            raise InfeasibleError(
                f"tp={tp} does not divide the {count} {what} of {model.name}; {nearest(tp, valid, 'tp')}"
            )


def check_pp(model: ModelSpec, pp: int) -> None:
    """Pipeline parallelism must divide the layers."""
    if model.layers % pp:
        valid = _valid_upto(model.layers, lambda p: model.layers % p == 0)
        raise InfeasibleError(
            f"pp={pp} does not divide the {model.layers} layers of {model.name}; {nearest(pp, valid, 'pp')}"
        )


def check_cp(model: ModelSpec, cp: int) -> None:
    """Context parallelism splits the sequence into 2*cp equal chunks (load-balanced causal split)."""
    if cp > 1 and model.seq_len % (2 * cp):
        valid = _valid_upto(model.seq_len // 2, lambda c: c == 1 or model.seq_len % (2 * c) == 0)
        raise InfeasibleError(
            f"cp={cp} cannot split the {model.seq_len}-token sequence into {2 * cp} equal chunks; "
            f"{nearest(cp, valid, 'cp')}"
        )


def check_virtual_stages(model: ModelSpec, pp: int | None, virtual_stages: int) -> None:
    """Interleaving needs pipeline parallelism and must divide the layers per stage."""
    if virtual_stages == 1:
        return
    if pp is None or pp == 1:
        raise InfeasibleError(
            f"virtual_stages={virtual_stages} needs pipeline parallelism; also fix --pp > 1"
        )
    per_stage = model.layers // pp
    if per_stage % virtual_stages:
        valid = _valid_upto(per_stage, lambda v: per_stage % v == 0)
        raise InfeasibleError(
            f"virtual_stages={virtual_stages} does not divide the {per_stage} layers per stage; "
            f"{nearest(virtual_stages, valid, 'virtual_stages')}"
        )


def check_zero_with_pp(zero: int | None, pp: int | None) -> None:
    """ZeRO stages 2 and 3 shard gradients/weights per microbatch; pipelines keep stage 0-1."""
    if zero is not None and zero >= 2 and pp is not None and pp > 1:
        raise InfeasibleError(
            f"ZeRO stage {zero} cannot be combined with pipeline parallelism (pp={pp}); "
            "use --zero 1 or --pp 1"
        )


def check_product(gpus: int, tp: int | None, pp: int | None, cp: int | None, dp: int | None) -> None:
    """The fixed dimensions must multiply to (or divide) the GPU count."""
    fixed = {"tp": tp, "pp": pp, "cp": cp, "dp": dp}
    known = {k: v for k, v in fixed.items() if v is not None}
    if not known:
        return
    product = 1
    for value in known.values():
        product *= value
    text = " x ".join(f"{k}={v}" for k, v in known.items())
    if len(known) == 4 and product != gpus:
        raise InfeasibleError(
            f"{text} = {product} GPUs, but --gpus is {gpus}; set --gpus {product} or change a dimension"
        )
    if gpus % product:
        lower = gpus // product * product
        options = [f"--gpus {n}" for n in (lower, lower + product) if n > 0]
        split = f"by {text}" if len(known) == 1 else f"into {text} = {product}"
        raise InfeasibleError(f"{gpus} GPUs do not divide {split}; try {' or '.join(options)}")


def check_batch(global_batch: int, dp: int | None, microbatch: int | None) -> None:
    """A fixed global batch must split into dp x microbatch sequences."""
    unit = (dp or 1) * (microbatch or 1)
    if global_batch % unit:
        lower = global_batch // unit * unit
        options = [f"--global-batch {n}" for n in (lower, lower + unit) if n > 0]
        parts = " x ".join(p for p in (f"dp={dp}" if dp else "", f"microbatch={microbatch}" if microbatch else "") if p)
        raise InfeasibleError(
            f"global batch {global_batch} does not split into {parts} = {unit} sequences; "
            f"try {' or '.join(options)}"
        )
