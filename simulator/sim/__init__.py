"""Discrete-event simulation of training campaigns, shared clusters and pipeline iterations.

Built on SimPy; never imports torch. The front door is :mod:`simulator.sim.campaign`
(``prepare`` + ``run_campaign``); docs/simulate.md documents scenarios, the JSON
contract and the Young/Daly derivation the tests check against.
"""

from __future__ import annotations

from simulator.sim.campaign import Campaign, prepare, run_campaign, timeline
from simulator.sim.job_model import JobModel, job_from_plan
from simulator.sim.loading import list_presets, load_preset, load_scenario, parse_sweep, validate
from simulator.sim.runners import DaskRunner, InlineRunner, LocalRunner
from simulator.sim.young_daly import (
    daly_interval_s,
    expected_efficiency,
    expected_job_wall_s,
    expected_segment_s,
    young_interval_s,
)

__all__ = [
    "Campaign",
    "DaskRunner",
    "InlineRunner",
    "JobModel",
    "LocalRunner",
    "daly_interval_s",
    "expected_efficiency",
    "expected_job_wall_s",
    "expected_segment_s",
    "job_from_plan",
    "list_presets",
    "load_preset",
    "load_scenario",
    "parse_sweep",
    "prepare",
    "run_campaign",
    "timeline",
    "validate",
    "young_interval_s",
]
