"""Model, hardware and network catalogs, and user files (never executed, errors in one line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dcbench.errors import ConfigError, NotFoundError
from simulator.catalog import (
    HardwareSpec,
    hardware_names,
    load_hardware,
    load_model,
    load_network,
    model_names,
    network_names,
)

ISSUE_MODELS = ["gpt3-175b", "llama2-7b", "llama2-13b", "llama2-70b", "llama3-8b", "llama3-70b", "llama3-405b", "megatron-1t"]
ISSUE_GPUS = ["a100-sxm4-80gb", "h100-sxm5-80gb", "h200-sxm-141gb", "b200-sxm-180gb", "mi300x-192gb"]


def test_catalogs_hold_the_issue_entries() -> None:
    assert set(ISSUE_MODELS) <= set(model_names())
    assert set(ISSUE_GPUS) <= set(hardware_names())
    assert {"infiniband-ndr", "infiniband-xdr", "roce-400g"} <= set(network_names())


def test_megatron_1t_is_the_published_shape() -> None:
    # Narayanan et al. 2021 (arXiv:2104.04473) Table 1 / §5.1: 128 layers, h 25600, 160 heads, V 51200, s 2048.
    m = load_model("megatron-1t")
    assert (m.layers, m.hidden, m.heads, m.vocab, m.seq_len) == (128, 25600, 160, 51200, 2048)


def test_llama3_405b_is_the_published_shape() -> None:
    # Llama Team 2024 (arXiv:2407.21783) Table 3: 126 layers, 16384, FFN 53248, 128 heads, 8 KV heads.
    m = load_model("llama3-405b")
    assert (m.layers, m.hidden, m.ffn_hidden, m.heads, m.kv_heads) == (126, 16384, 53248, 128, 8)


@pytest.mark.parametrize("name", ["gpt3-175b", "mt-nlg-530b", "megatron-1t", "megatron-22b"])
def test_gpt_params_match_megatron_formula(name: str) -> None:
    # Narayanan et al. 2021 §5.1: P = 12 l h^2 (1 + 13/(12h) + (V+s)/(12 l h)); the formula leaves
    # out the final LayerNorm (2h), which the catalog counts.
    m = load_model(name)
    n_layers, h, v, s = m.layers, m.hidden, m.vocab, m.seq_len
    formula = 12 * n_layers * h**2 * (1 + 13 / (12 * h) + (v + s) / (12 * n_layers * h))
    assert m.params - 2 * h == pytest.approx(formula, rel=1e-12)


@pytest.mark.parametrize(
    ("name", "count"),
    [
        # Parameter counts of the released checkpoints (Hugging Face model cards / safetensors metadata).
        ("llama2-7b", 6_738_415_616),
        ("llama2-13b", 13_015_864_320),
        ("llama2-70b", 68_976_648_192),
        ("llama3-8b", 8_030_261_248),
        ("llama3-70b", 70_553_706_496),
    ],
)
def test_llama_params_match_released_checkpoints(name: str, count: int) -> None:
    assert load_model(name).params == count


@pytest.mark.parametrize("name", ISSUE_MODELS + ["mt-nlg-530b", "megatron-22b"])
def test_params_are_near_the_published_round_number(name: str) -> None:
    m = load_model(name)
    assert m.published_params is not None and m.source
    assert m.params == pytest.approx(m.published_params, rel=0.04)


def test_hardware_figures_and_sources() -> None:
    a100 = load_hardware("a100-sxm4-80gb")
    # ../shared/reference/hardware.yaml (Narayanan et al. 2021; Llama 2 paper): 312 TFLOP/s, 80 GB, 400 W.
    assert a100.peak() == 312e12 and a100.hbm_bytes == 80e9 and a100.tdp_w == 400
    h100 = load_hardware("h100")
    assert h100.name == "h100-sxm5-80gb" and h100.peak() == 989.4e12 and h100.tdp_w == 700
    assert "hbm_bytes_per_s" in a100.unverified  # secondary source only
    for name in hardware_names():
        spec = load_hardware(name)
        for figure in ("hbm_bytes", "hbm_bytes_per_s", "intra_node_bytes_per_s", "gpus_per_node", "tdp_w"):
            assert spec.sources.get(figure), f"{name}.{figure} has no source"
        assert all(spec.sources.get(f"dense_flops_per_s.{k}") for k in spec.dense_flops_per_s)
        assert spec.efficiency.source


def test_peak_flops_per_s_is_none_for_a_missing_dtype() -> None:
    assert load_hardware("a100").peak_flops_per_s("fp8") is None
    with pytest.raises(ConfigError, match="no peak rate for 'fp8'"):
        load_hardware("a100").peak("fp8")


def test_networks_carry_port_rates() -> None:
    assert load_network("infiniband-ndr").port_bits_per_s == 400e9
    assert load_network("infiniband-xdr").port_bits_per_s == 800e9
    assert load_network("roce-400g").port_bytes_per_s == 50e9
    with pytest.raises(NotFoundError, match="did you mean 'roce-400g'"):
        load_network("roce-400")


def test_hardware_file_with_base_overrides_only_given_fields(tmp_path: Path) -> None:
    path = tmp_path / "my-h100.yaml"
    path.write_text("base: h100\nhbm_bytes: 96e9\nefficiency:\n  matmul_peak_fraction: 0.7\n")
    spec = load_hardware(str(path))
    base = load_hardware("h100")
    assert isinstance(spec, HardwareSpec)
    assert spec.name == "my-h100" and spec.hbm_bytes == 96e9
    assert spec.efficiency.matmul_peak_fraction == 0.7
    assert spec.efficiency.memory_fraction == base.efficiency.memory_fraction
    assert spec.peak() == base.peak() and spec.tdp_w == base.tdp_w
    assert spec.sources["hbm_bytes"] == "user file my-h100.yaml"
    assert spec.sources["tdp_w"] == base.sources["tdp_w"]
    # Changed fractions are no longer the catalog's calibration; untouched ones keep it.
    assert not spec.efficiency.calibrated and spec.efficiency.source == "user file my-h100.yaml"
    path.write_text("base: h100\nhbm_bytes: 96e9\n")
    assert load_hardware(str(path)).efficiency == base.efficiency


def test_efficiency_calibration_is_flagged() -> None:
    # Calibrated: A100 on Korthikanti et al. 2022 Table 4, H100 on Llama 3 (arXiv:2407.21783) Table 4.
    calibrated = {"a100-sxm4-80gb": True, "h100-sxm5-80gb": True, "h200-sxm-141gb": False,
                  "b200-sxm-180gb": False, "mi300x-192gb": False}
    for name, expected in calibrated.items():
        assert load_hardware(name).efficiency.calibrated is expected, name
    assert "2205.05198" in load_hardware("a100").efficiency.source
    assert "2407.21783" in load_hardware("h100").efficiency.source
    # The H100 runs below the A100's large-GEMM fraction (the Llama 3 fit), not on the A100's values.
    assert load_hardware("h100").efficiency.matmul_peak_fraction < load_hardware("a100").efficiency.matmul_peak_fraction


def test_hardware_file_without_base_needs_every_field(tmp_path: Path) -> None:
    path = tmp_path / "gpu.yaml"
    path.write_text("dense_flops_per_s: {bf16: 1e15}\nhbm_bytes: 1e11\n")
    with pytest.raises(ConfigError, match="missing field 'hbm_bytes_per_s'"):
        load_hardware(str(path))


def test_unknown_names_suggest_the_closest() -> None:
    with pytest.raises(NotFoundError, match="did you mean 'llama3-8b'"):
        load_model("llama3-8")
    with pytest.raises(NotFoundError, match="unknown GPU 'h10'"):
        load_hardware("h10")
    with pytest.raises(NotFoundError, match="not found"):
        load_model("missing/model.yaml")


def _write(tmp_path: Path, text: str, name: str = "m.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_model_file_defaults_follow_the_family(tmp_path: Path) -> None:
    gpt = load_model(_write(tmp_path, "name: tiny\nlayers: 2\nhidden: 256\nheads: 4\nvocab: 1000\nseq_len: 128\n"))
    assert gpt.ffn_hidden == 1024 and gpt.kv_heads == 4 and gpt.bias and gpt.dropout
    # Llama reference code: SwiGLU width 256 * ceil((8h/3) / 256) -> 11008 for h = 4096 (Llama 2 7B).
    llama = load_model(
        _write(tmp_path, '{"name": "l", "layers": 32, "hidden": 4096, "heads": 32, "vocab": 32000, '
               '"seq_len": 4096, "mlp": "swiglu"}', "l.json")
    )
    assert llama.ffn_hidden == 11008 and not llama.bias and llama.norm == "rmsnorm"
    assert llama.params == load_model("llama2-7b").params


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nlayers: 2\nhidden: 100\nheads: 3\nvocab: 10\nseq_len: 8\n", "heads=3 does not divide hidden=100"),
        ("name: x\nlayers: -2\nhidden: 96\nheads: 3\nvocab: 10\nseq_len: 8\n", "field 'layers'"),
        ("name: x\nlayers: 2\nheads: 3\nvocab: 10\nseq_len: 8\n", "missing field 'hidden'"),
        ("name: x\nlayers: 2\nhidden: 96\nheds: 3\nvocab: 10\nseq_len: 8\n", "did you mean 'heads'"),
        ("name: x\nlayers: 2\nhidden: 96\nheads: 4\nkv_heads: 3\nvocab: 10\nseq_len: 8\n", "kv_heads=3"),
        ("- just\n- a list\n", "must hold a mapping"),
        ("layers: [1, 2\n", "not valid YAML"),
    ],
)
def test_bad_model_files_fail_in_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_model(_write(tmp_path, text))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_loading_never_executes_code(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = f'!!python/object/apply:os.system ["touch {marker}"]\n'
    with pytest.raises(ConfigError):
        load_model(_write(tmp_path, text))
    assert not marker.exists()
