"""Fat-tree counts against published topologies and counting properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dcbench.errors import InfeasibleError, UsageError
from simulator.sizing.fattree import size_fat_tree, split_ports


@pytest.mark.parametrize(
    ("k", "hosts", "switches", "cores"),
    [
        # Al-Fares et al. 2008 §3: k-port switches, k^3/4 hosts, 5k^2/4 switches, (k/2)^2 core.
        (4, 16, 20, 4),
        (48, 27_648, 2_880, 576),  # the paper's k=48 example: 27,648 hosts
        (64, 65_536, 5_120, 1_024),
    ],
)
def test_full_three_tier_fat_tree_matches_al_fares(
    k: int, hosts: int, switches: int, cores: int
) -> None:
    tree = size_fat_tree(endpoints=hosts, switch_radix=k)
    assert tree.tiers == 3
    assert tree.max_endpoints == hosts
    assert tree.switches == switches
    assert tree.core_switches == cores
    assert tree.pods == k
    assert tree.leaf_switches == tree.spine_switches == k * k // 2
    # Every link of a non-blocking fat tree: one per host at each of three levels.
    assert tree.links == 3 * hosts
    assert tree.bisection_links == hosts / 2


def test_al_fares_k4_by_hand() -> None:
    # 4 pods x (2 edge + 2 aggregation) + 4 core; each edge switch: 2 hosts down, 2 up.
    tree = size_fat_tree(endpoints=16, switch_radix=4)
    assert (tree.leaf_switches, tree.spine_switches, tree.core_switches) == (8, 8, 4)
    assert (tree.leaf_down_ports, tree.leaf_up_ports) == (2, 2)
    assert (tree.host_links, tree.leaf_spine_links, tree.spine_core_links) == (16, 16, 16)


# NVIDIA DGX SuperPOD reference architecture (DGX B200), "DGX SuperPOD Architecture"
# table: scalable units of 32 nodes x 8 GPUs, one 400G NIC per GPU, 64-port
# QM9700 switches, rail-optimised, non-blocking.
# (GPUs, leaf, spine, core, node-leaf cables, leaf-spine cables, spine-core cables)
SUPERPOD_TABLE = [
    (512, 16, 8, 0, 512, 512, 0),
    (1024, 32, 16, 0, 1024, 1024, 0),
    (2048, 64, 32, 0, 2048, 2048, 0),
    (4096, 128, 128, 64, 4096, 4096, 4096),
    (8192, 256, 256, 128, 8192, 8192, 8192),
    (16384, 512, 512, 256, 16384, 16384, 16384),
]


@pytest.mark.parametrize(("gpus", "leaf", "spine", "core", "c1", "c2", "c3"), SUPERPOD_TABLE)
def test_dgx_superpod_switch_and_cable_counts(
    gpus: int, leaf: int, spine: int, core: int, c1: int, c2: int, c3: int
) -> None:
    tree = size_fat_tree(endpoints=gpus, switch_radix=64, rails=8, rail_optimized=True)
    assert (tree.leaf_switches, tree.spine_switches, tree.core_switches) == (leaf, spine, core)
    assert (tree.host_links, tree.leaf_spine_links, tree.spine_core_links) == (c1, c2, c3)


def test_two_tier_limit_is_radix_squared_over_two() -> None:
    assert size_fat_tree(endpoints=64, switch_radix=64).tiers == 1
    assert size_fat_tree(endpoints=65, switch_radix=64).tiers == 2
    assert size_fat_tree(endpoints=2048, switch_radix=64).tiers == 2  # 64^2 / 2
    assert size_fat_tree(endpoints=2049, switch_radix=64).tiers == 3


def test_split_ports_follows_ratio() -> None:
    assert split_ports(64, 1.0) == (32, 32)
    assert split_ports(64, 3.0) == (48, 16)
    assert split_ports(64, 7.0) == (56, 8)  # Llama 3's 1:7 aggregation layer
    down, up = split_ports(64, 2.0)  # 42.67 down is not whole: round down
    assert (down, up) == (42, 22)
    assert down / up <= 2.0


def test_rail_optimised_gives_each_rail_its_own_leaves() -> None:
    # 40 nodes x 8 rails, 32 down-ports per leaf: 2 leaves per rail = 16, versus
    # ceil(320 / 32) = 10 when any port may use any leaf.
    rail = size_fat_tree(endpoints=320, switch_radix=64, rails=8, rail_optimized=True)
    plain = size_fat_tree(endpoints=320, switch_radix=64, rails=8, rail_optimized=False)
    assert rail.leaf_switches == 16
    assert plain.leaf_switches == 10


def test_spine_oversubscription_cuts_core_switches() -> None:
    # 16,384 ports: 512 leaves, 16 pods of 32 spines = 512 spines. With 1:7 spines
    # (56 down, 8 up), pods hold 56 leaves: ceil(512/56) = 10 pods, 320 spines,
    # 2,560 spine-core links and 40 cores; non-blocking needs 256 cores.
    tree = size_fat_tree(endpoints=16_384, switch_radix=64, spine_oversubscription=7.0)
    assert tree.pods == 10
    assert tree.spine_switches == 320
    assert tree.spine_core_links == 2_560
    assert tree.core_switches == 40
    assert tree.spine_oversubscription == 7.0
    assert tree.bisection_links == 1_280


def test_forced_tiers_and_infeasible_sizes() -> None:
    grown = size_fat_tree(endpoints=1024, switch_radix=64, tiers=3)
    assert grown.tiers == 3 and grown.core_switches > 0
    with pytest.raises(InfeasibleError, match="at most 2048"):
        size_fat_tree(endpoints=2049, switch_radix=64, tiers=2)
    with pytest.raises(InfeasibleError, match="larger switch_radix"):
        size_fat_tree(endpoints=65_537, switch_radix=64)
    with pytest.raises(UsageError, match="switch_radix"):
        size_fat_tree(endpoints=8, switch_radix=1)
    with pytest.raises(UsageError, match="leaf_oversubscription"):
        size_fat_tree(endpoints=8, switch_radix=64, leaf_oversubscription=0.5)
    with pytest.raises(UsageError, match="tiers"):
        size_fat_tree(endpoints=8, switch_radix=64, tiers=4)


@settings(max_examples=60, deadline=None)
@given(
    endpoints=st.integers(min_value=1, max_value=60_000),
    radix=st.sampled_from([8, 16, 32, 48, 64, 128]),
    leaf_o=st.sampled_from([1.0, 1.5, 2.0, 3.0, 7.0]),
    spine_o=st.sampled_from([1.0, 2.0, 7.0]),
    rail=st.booleans(),
)
def test_every_link_has_a_port_at_both_ends(
    endpoints: int, radix: int, leaf_o: float, spine_o: float, rail: bool
) -> None:
    try:
        tree = size_fat_tree(
            endpoints=endpoints,
            switch_radix=radix,
            leaf_oversubscription=leaf_o,
            spine_oversubscription=spine_o,
            rails=8,
            rail_optimized=rail,
        )
    except InfeasibleError:
        return
    assert tree.leaf_switches * tree.leaf_down_ports >= endpoints
    if tree.tiers >= 2:
        assert tree.leaf_down_ports / tree.leaf_up_ports <= leaf_o
        assert tree.spine_switches * radix >= tree.leaf_spine_links
    if tree.tiers == 2:
        assert tree.leaf_switches <= radix  # every spine reaches every leaf
    if tree.tiers == 3:
        assert tree.leaf_switches <= tree.pods * tree.spine_down_ports  # leaves fit in pods
        assert tree.core_switches * radix >= tree.spine_core_links
        assert tree.pods <= radix
    assert tree.links == tree.host_links + tree.leaf_spine_links + tree.spine_core_links
    assert tree.bisection_links <= endpoints / 2


@settings(max_examples=40, deadline=None)
@given(endpoints=st.integers(min_value=65, max_value=2048))
def test_leaf_oversubscription_never_adds_switches(endpoints: int) -> None:
    counts = [
        size_fat_tree(endpoints=endpoints, switch_radix=64, leaf_oversubscription=o, tiers=2)
        for o in (1.0, 2.0, 3.0, 7.0)
    ]
    for looser, tighter in zip(counts[1:], counts[:-1], strict=True):
        assert looser.spine_switches <= tighter.spine_switches
        assert looser.switches <= tighter.switches


@settings(max_examples=40, deadline=None)
@given(endpoints=st.integers(min_value=1, max_value=65_000))
def test_more_endpoints_never_need_fewer_switches(endpoints: int) -> None:
    smaller = size_fat_tree(endpoints=endpoints, switch_radix=64)
    larger = (
        size_fat_tree(endpoints=endpoints + 64, switch_radix=64)
        if endpoints + 64 <= 65_536
        else smaller
    )
    assert larger.switches >= smaller.switches
    assert larger.links >= smaller.links
