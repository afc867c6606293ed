"""Aggregation on recorded sample streams (data/*.json), against hand arithmetic.

Each expected value is worked out in the comment above it from the stream's
description in data/make_fixtures.py, not by running the code under test.
"""

from __future__ import annotations

import json

import pytest

from dcbench.telemetry import PhaseMark, Sample, Timeline, summarize

RAPL_MODULUS_J = 262143.328851


# -- one H100 SXM near 650 W (measure window 1.0 s .. 4.0 s, 10 Hz) -------------------------
def test_h100_energy_from_counter_and_power_agree(recorded) -> None:
    s = summarize(recorded("h100_sxm_650w"), "measure", samples_processed=1920, tokens_processed=1920 * 2048)
    assert s.window_s == pytest.approx(3.0)
    assert s.sample_count == 31  # samples at 1.0, 1.1, ..., 4.0
    # Power alternates 640 / 660 W every 0.1 s: each interval's trapezoid is 650 W x 0.1 s = 65 J;
    # 30 intervals = 1950 J. The counter advanced by the same 65 J per interval.
    assert s.gpu_energy_integrated_j == pytest.approx(1950.0)
    assert s.gpu_energy_counter_j == pytest.approx(1950.0)
    assert s.energy_disagreement == pytest.approx(0.0, abs=1e-9)
    assert s.energy_disagreement_flag is False
    assert s.window_shorter_than_counter_update is False
    # RAPL: package-0 at 15 J per 0.1 s (150 W) and package-1 at 14 J per 0.1 s (140 W), 3 s: 450 + 420.
    assert s.cpu_energy_j == pytest.approx(870.0)
    # Total 1950 + 870 = 2820 J; 2820 / 1920 samples = 1.46875 J; 2820 / 3,932,160 tokens.
    assert s.energy_j == pytest.approx(2820.0)
    assert s.energy_null_reason is None
    assert s.energy_domains == ["gpu0", "rapl.package-0", "rapl.package-1"]
    assert s.energy_per_sample_j == pytest.approx(1.46875)
    assert s.energy_per_token_j == pytest.approx(2820.0 / 3_932_160)
    # Time-weighted mean power = 1950 J / 3 s = 650 W; the highest sample is 660 W.
    assert s.gpu_power_avg_w == pytest.approx(650.0)
    assert s.gpu_power_peak_w == pytest.approx(660.0)
    assert s.warnings == []


def test_h100_gpu_fields(recorded) -> None:
    (gpu,) = summarize(recorded("h100_sxm_650w"), "measure").gpus
    assert gpu.energy_method == "counter"
    assert gpu.util_mean_percent == pytest.approx(100.0)
    assert gpu.memory_used_peak_bytes == pytest.approx(62.5e9)  # the 62.5 GB spike at t = 2.0 s
    assert gpu.temperature_peak_c == pytest.approx(67.0)  # 55 + 3 x floor(4.0)
    assert gpu.sm_clock_mean_hz == pytest.approx(1.98e9)
    # PCIe counters: +250 MB and +100 MB per 0.1 s for 3 s.
    assert gpu.pcie_tx_bytes == pytest.approx(7.5e9)
    assert gpu.pcie_rx_bytes == pytest.approx(3.0e9)
    assert gpu.nvlink_tx_bytes == pytest.approx(0.0)  # one GPU: the counter did not move
    # sw_power_cap (0x4) was set from 2.0 to 2.5 s; gpu_idle (0x1) only at 0.0 s, outside the window.
    assert gpu.throttle_reasons == ["sw_power_cap"]
    assert "NVIDIA H100" in (gpu.device or "")


def test_h100_host_fields(recorded) -> None:
    s = summarize(recorded("h100_sxm_650w"), "measure")
    # CPU utilisation is 12.5 % on even ticks (16 of them from tick 10 to 40) and 17.5 % on odd ones (15):
    # (16 x 12.5 + 15 x 17.5) / 31 = 462.5 / 31.
    assert s.cpu_util_mean_percent == pytest.approx(462.5 / 31)
    # Core 0 reads 5 % on even ticks and 10 % on odd ones: (16 x 5 + 15 x 10) / 31 = 230 / 31.
    assert s.cpu_core_util_mean_percent is not None
    assert s.cpu_core_util_mean_percent[0] == pytest.approx(230 / 31)
    assert len(s.cpu_core_util_mean_percent) == 4
    assert s.process_rss_peak_bytes == pytest.approx(8.0e9 + 40 * 1.0e7)  # grows 10 MB a tick; tick 40
    assert s.memory_used_peak_bytes == pytest.approx(3.0e10)
    assert s.disk_read_bytes == pytest.approx(30 * 4_194_304)  # 4 MiB a tick
    assert s.disk_read_ops == pytest.approx(30 * 32)
    assert s.disk_write_bytes == pytest.approx(1.0e9)  # the checkpoint written at t = 2.5 s
    assert s.disk_write_ops == pytest.approx(30)
    assert set(s.net) == {"eth0", "eth0.100", "ib0"}  # a VLAN name with a dot stays whole
    assert s.net["eth0"].bytes_sent == pytest.approx(30 * 1000)
    assert s.net["eth0"].bytes_recv == pytest.approx(30 * 5000)
    assert s.net["eth0"].packets_recv == pytest.approx(30 * 20)
    assert s.net["eth0.100"].bytes_recv == pytest.approx(30 * 100)


def test_warmup_phase_is_summarised_separately(recorded) -> None:
    s = summarize(recorded("h100_sxm_650w"), "warmup")
    # Warm-up ramp 90 + 56 i W at ticks 0..9, then 640 W at tick 10 (t = 1.0 s, where warm-up ends).
    # Sum of the 11 values = 10 x 90 + 56 x (0 + 1 + ... + 9) + 640 = 900 + 2520 + 640 = 4060.
    # Trapezoid: 0.1 x (sum - (first + last) / 2) = 0.1 x (4060 - (90 + 640) / 2) = 369.5 J.
    assert s.gpu_energy_integrated_j == pytest.approx(369.5)
    assert s.window_s == pytest.approx(1.0)


# -- a CPU-only host whose RAPL counter wraps (measure window 1.0 s .. 3.0 s) ----------------
def test_rapl_wrap_is_unwrapped(recorded) -> None:
    timeline = recorded("rapl_wrap_cpu_only")
    key = "rapl.package-0.energy_counter_j"
    first = next(s.values[key] for s in timeline.samples if s.t_s == 1.0)
    last = next(s.values[key] for s in timeline.samples if s.t_s == 3.0)
    assert last < first  # the raw counter wrapped inside the window
    s = summarize(timeline, "measure", samples_processed=640)
    # 120 W for 2 s = 240 J; by hand from the raw readings: last - first + modulus.
    assert s.cpu_energy_j == pytest.approx(last - first + RAPL_MODULUS_J)
    assert s.cpu_energy_j == pytest.approx(240.0)
    assert s.energy_j == pytest.approx(240.0)
    assert s.energy_domains == ["rapl.package-0"]
    assert s.energy_per_sample_j == pytest.approx(240.0 / 640)


def test_cpu_only_gpu_fields_are_null_with_the_driver_reason(recorded) -> None:
    s = summarize(recorded("rapl_wrap_cpu_only"), "measure", samples_processed=640)
    assert s.gpus == []
    for name in ("gpu_energy_j", "gpu_energy_counter_j", "gpu_power_avg_w", "gpu_power_peak_w"):
        assert getattr(s, name) is None
        assert s.null_reasons[name] == "no NVIDIA driver (libnvidia-ml.so.1 not found)"
    assert s.energy_per_token_j is None
    assert s.null_reasons["energy_per_token_j"] == "no tokens counted for this phase"


def test_a_counter_that_resets_is_counted_from_the_reset(recorded) -> None:
    s = summarize(recorded("rapl_wrap_cpu_only"), "measure")
    # Reads grow 10 a tick from 1.0 s to 1.9 s (9 steps = 90), the counter restarts at 2.0 s
    # showing 3, then grows 10 a tick to 3.0 s (10 steps = 100): 90 + 3 + 100 = 193.
    assert s.disk_read_ops == pytest.approx(193.0)
    assert any("host.disk_read_ops went down" in w for w in s.warnings)


# -- two H100 PCIe, older driver, GPU 0's counter 10 % above its power -----------------------
def test_disagreement_above_5_percent_is_flagged(recorded) -> None:
    s = summarize(recorded("h100_pcie_disagree"), "measure", samples_processed=1600)
    gpu0, gpu1 = s.gpus
    # gpu0: power 300 W for 2 s = 600 J; counter +33 J per 0.1 s = 660 J; |600 - 660| / 660 = 1/11.
    assert gpu0.energy_integrated_j == pytest.approx(600.0)
    assert gpu0.energy_counter_j == pytest.approx(660.0)
    assert gpu0.energy_disagreement == pytest.approx(1 / 11)
    # gpu1: 290 W and +29 J per 0.1 s: 580 J both ways.
    assert gpu1.energy_disagreement == pytest.approx(0.0, abs=1e-9)
    # All GPUs: 1240 J counter vs 1180 J power = 60 / 1240 = 4.8 %, under 5 %, yet gpu0 alone is over.
    assert s.energy_disagreement == pytest.approx(60 / 1240)
    assert s.energy_disagreement_flag is True
    assert any("disagree" in w and "gpu0" in w and "gpu1" not in w for w in s.warnings)
    # The counter is used: 1240 J; RAPL was not readable so the total is the GPUs'.
    assert s.energy_j == pytest.approx(1240.0)
    assert s.energy_domains == ["gpu0", "gpu1"]
    assert s.energy_per_sample_j == pytest.approx(1240.0 / 1600)
    assert s.cpu_energy_j is None
    assert s.null_reasons["cpu_energy_j"].startswith("RAPL not readable: permission denied")
    assert s.gpu_power_avg_w == pytest.approx(590.0)  # 300 + 290


def test_old_driver_fallbacks(recorded) -> None:
    gpu0 = summarize(recorded("h100_pcie_disagree"), "measure").gpus[0]
    # No PCIe byte counters: 1.2 GB/s mean rate x 2 s window = 2.4 GB.
    assert gpu0.pcie_tx_bytes == pytest.approx(2.4e9)
    assert gpu0.pcie_rx_bytes == pytest.approx(0.6e9)
    assert gpu0.nvlink_tx_bytes is None
    assert gpu0.null_reasons["nvlink_tx_bytes"] == "not supported by this GPU/driver"
    assert gpu0.power_peak_w == pytest.approx(300.0)  # from power_w: no instantaneous field


# -- a 50 ms window, shorter than the NVML counter's ~100 ms update --------------------------
def test_window_shorter_than_counter_update_uses_integrated_power(recorded) -> None:
    s = summarize(recorded("short_window"), "measure", samples_processed=8)
    assert s.window_shorter_than_counter_update is True
    assert s.gpu_energy_counter_j == pytest.approx(0.0)  # the counter did not tick in 50 ms
    # 650 W x 0.05 s = 32.5 J from power, not the counter's 0.
    assert s.energy_j == pytest.approx(32.5)
    assert s.gpus[0].energy_method == "integrated_power"
    assert s.energy_disagreement is None and s.energy_disagreement_flag is False
    assert s.null_reasons["energy_disagreement"] == "window shorter than the energy counter's update period"
    assert s.energy_per_sample_j == pytest.approx(32.5 / 8)
    assert any("shorter than the energy counter" in w for w in s.warnings)


# -- phases and the JSON contract ----------------------------------------------------------
def test_missing_phase_gives_nulls_with_a_reason(recorded) -> None:
    s = summarize(recorded("h100_sxm_650w"), "evaluate")
    assert s.energy_j is None
    assert s.energy_null_reason == "no 'evaluate' mark in the timeline (marks: warmup, measure, end)"
    assert s.null_reasons["gpu_power_avg_w"] == s.energy_null_reason
    assert s.sample_count == 0


def test_an_interrupted_phase_ends_at_the_last_sample() -> None:
    # 100 W flat, sampled at 0, 1, 2 s; "measure" starts at 0.5 s and never ends: 1.5 s = 150 J.
    samples = [Sample(t_s=float(t), values={"gpu0.power_w": 100.0, "gpu0.energy_counter_j": 100.0 * t}) for t in range(3)]
    timeline = Timeline(hz=1.0, started_unix_s=0.0, samples=samples, marks=[PhaseMark(name="measure", t_s=0.5)])
    s = summarize(timeline, "measure")
    assert s.window_s == pytest.approx(1.5)
    assert s.gpu_energy_counter_j == pytest.approx(150.0)
    assert s.gpu_energy_integrated_j == pytest.approx(150.0)


@pytest.mark.parametrize("name", ["h100_sxm_650w", "rapl_wrap_cpu_only", "h100_pcie_disagree", "short_window"])
def test_timeline_round_trips_through_json(recorded, name: str) -> None:
    timeline = recorded(name)
    text = json.dumps(timeline.to_dict(), allow_nan=False)
    again = Timeline.from_dict(json.loads(text))
    assert again.to_dict() == timeline.to_dict()
    assert summarize(again, "measure").to_dict() == summarize(timeline, "measure").to_dict()


@pytest.mark.parametrize("name", ["h100_sxm_650w", "rapl_wrap_cpu_only", "h100_pcie_disagree", "short_window"])
def test_summary_dict_is_strict_json(recorded, name: str) -> None:
    data = summarize(recorded(name), "measure", samples_processed=10).to_dict()
    json.dumps(data, allow_nan=False)
    # Every null top-level figure says why.
    for key, value in data.items():
        if value is None and key != "energy_null_reason":
            assert key in data["null_reasons"], key


def _two_sample_timeline(values: dict, end_s: float, periods: dict | None = None) -> Timeline:
    samples = [Sample(t_s=0.0, values=dict(values)), Sample(t_s=end_s, values=dict(values))]
    return Timeline(
        hz=10.0,
        started_unix_s=0.0,
        samples=samples,
        marks=[PhaseMark(name="measure", t_s=0.0), PhaseMark(name="end", t_s=end_s)],
        counter_update_periods_s=periods or {},
        null_reasons={"gpu0.power_w": "not supported by this GPU/driver"},
    )


def test_a_short_window_without_power_is_null_not_the_stuck_counter() -> None:
    # The counter did not move in 50 ms and there is no power reading: unknown, not 0 J.
    timeline = _two_sample_timeline(
        {"gpu0.energy_counter_j": 5000.0, "gpu0.power_w": None}, 0.05, {"gpu0.energy_counter_j": 0.1}
    )
    s = summarize(timeline, "measure")
    assert s.gpus[0].energy_counter_j == pytest.approx(0.0)
    assert s.energy_j is None
    assert s.gpus[0].null_reasons["energy_j"].startswith("window shorter than the energy counter's update period")
    assert s.energy_null_reason is not None and s.energy_null_reason.startswith("GPU energy not measured")


def test_a_gpu_that_cannot_be_measured_voids_the_total() -> None:
    # RAPL measured 10 J, but the GPU has neither counter nor power: no partial 10 J total.
    timeline = _two_sample_timeline(
        {"gpu0.util_percent": 90.0, "gpu0.power_w": None, "rapl.package-0.energy_counter_j": 100.0}, 1.0
    )
    timeline.samples[1].values["rapl.package-0.energy_counter_j"] = 110.0
    s = summarize(timeline, "measure")
    assert s.cpu_energy_j == pytest.approx(10.0)
    assert s.energy_j is None
    assert s.energy_null_reason == "GPU energy not measured (gpu0: fewer than two counter readings in the window)"


def test_malformed_or_newer_timelines_raise_one_line_store_errors(recorded) -> None:
    from dcbench.errors import StoreError

    good = recorded("short_window").to_dict()
    with pytest.raises(StoreError, match=r"format 2 is not supported .* upgrade dcbench"):
        Timeline.from_dict({**good, "format_version": 2})
    broken = {**good, "samples": [{"t_s": 0.0, "values": {"gpu0.power_w": "hot"}}]}
    with pytest.raises(StoreError, match=r"^stored telemetry timeline is malformed") as err:
        Timeline.from_dict(broken)
    assert "\n" not in str(err.value)
    with pytest.raises(StoreError):
        Timeline.from_dict({"samples": []})  # no hz


# -- whose energy is it: a run on one GPU of a node ------------------------------------------
def test_only_the_runs_gpus_count_toward_its_energy(recorded) -> None:
    timeline = recorded("h100_pcie_disagree")
    s = summarize(timeline, "measure", samples_processed=1600, energy_gpus=["gpu1"])
    # gpu1 alone: +29 J per 0.1 s over the 2 s window = 580 J; 290 W; no disagreement (gpu0's is not ours).
    assert s.energy_j == pytest.approx(580.0)
    assert s.energy_domains == ["gpu1"]
    assert s.energy_per_sample_j == pytest.approx(580.0 / 1600)
    assert s.gpu_power_avg_w == pytest.approx(290.0)
    assert s.energy_disagreement == pytest.approx(0.0, abs=1e-9)
    assert s.energy_disagreement_flag is False
    assert [g.gpu for g in s.gpus] == ["gpu0", "gpu1"]  # both are still described


def test_a_cpu_run_is_not_charged_for_idle_gpus(recorded) -> None:
    s = summarize(recorded("h100_pcie_disagree"), "measure", samples_processed=1600, energy_gpus=[])
    # No GPU of the run, and RAPL unreadable in this recording: no energy, and both reasons.
    assert s.energy_j is None and s.gpu_energy_j is None
    assert s.energy_null_reason is not None
    assert s.energy_null_reason.startswith("the run used none of the sampled GPUs")
    assert "RAPL not readable" in s.energy_null_reason
    assert len(s.gpus) == 2
    # With RAPL readable, a CPU run's energy is the CPU packages' alone.
    cpu = summarize(recorded("h100_sxm_650w"), "measure", energy_gpus=[])
    assert cpu.energy_j is not None and cpu.energy_j == pytest.approx(cpu.cpu_energy_j)
    assert cpu.energy_domains and all(d.startswith("rapl.") for d in cpu.energy_domains)
