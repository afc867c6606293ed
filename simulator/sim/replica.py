"""What every replica of every engine starts from: seeded generators and a counting SimPy environment."""

from __future__ import annotations

import numpy as np
import simpy


def replica_rngs(seed: int, replica: int, streams: int = 4) -> list[np.random.Generator]:
    """Independent generators for one replica, from (seed, replica) via SeedSequence.

    The same (seed, replica) always gives the same streams, so replicas are
    reproducible, and sweep points share failure draws (common random numbers).
    """
    root = np.random.SeedSequence(entropy=seed, spawn_key=(replica,))
    return [np.random.Generator(np.random.PCG64(s)) for s in root.spawn(streams)]


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that counts the events it processes (``events``).

    The count is how the tests check that the engines' cost does not grow with
    the number of GPUs or training steps.
    """

    def __init__(self, initial_time: float = 0) -> None:
        super().__init__(initial_time)
        self.events = 0

    def step(self) -> None:
        self.events += 1
        super().step()
