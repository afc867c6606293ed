"""Describe the machine a run happens on, for the run's metadata.

GPU details come from the telemetry package's NVML inventory (the only place
pynvml is imported); everything else from the standard library and psutil.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import psutil


@lru_cache(maxsize=1)
def cpu_model() -> str:
    """The CPU model string from /proc/cpuinfo (Linux), else platform.processor()."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


@dataclass(kw_only=True, slots=True)
class GitState:
    """The dcbench source checkout's commit and whether it has uncommitted changes."""

    commit: str | None
    dirty: bool | None


def git_state(repo: Path | None = None) -> GitState:
    """Commit and dirty flag of the checkout holding dcbench (None when not a git checkout)."""
    root = repo or Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return GitState(commit=None, dirty=None)
    return GitState(commit=commit or None, dirty=bool(status.strip()))


@dataclass(kw_only=True, slots=True)
class HostInfo:
    """What the machine is and what software ran; memory in bytes."""

    hostname: str
    os: str
    python_version: str
    torch_version: str | None
    torch_cuda_version: str | None
    cpu_model: str
    cpu_logical_cores: int
    cpu_physical_cores: int | None
    memory_total_bytes: int
    gpus: list[dict[str, Any]] = field(default_factory=list)
    gpus_null_reason: str | None = None
    git_commit: str | None = None
    git_dirty: bool | None = None
    command_line: list[str] = field(default_factory=list)  # what the user ran
    child_command_line: list[str] | None = None  # this process's argv when a suite started it
    cuda_visible_devices: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _gpu_inventory() -> tuple[list[dict[str, Any]], str | None]:
    try:
        from dcbench.telemetry import gpu_inventory
    except ImportError as err:  # telemetry package missing pieces
        return [], f"telemetry unavailable: {err}"
    gpus, reason = gpu_inventory()
    return [g if isinstance(g, dict) else asdict(g) for g in gpus], reason


# ``dcbench bench all`` runs each workload in a child process and passes its own
# command line here (a JSON list), so every run records what the user typed.
SUITE_COMMAND_ENV = "DCBENCH_SUITE_COMMAND"


def _command_lines() -> tuple[list[str], list[str] | None]:
    """(the user's command line, this child's argv or None when the user started this process)."""
    own = list(sys.argv)
    raw = os.environ.get(SUITE_COMMAND_ENV)
    if not raw:
        return own, None
    try:
        parent = json.loads(raw)
    except ValueError:
        return own, None
    if not isinstance(parent, list) or not all(isinstance(a, str) for a in parent):
        return own, None
    return parent, own


def host_info(with_torch: bool = True) -> HostInfo:
    """Collect the host description; ``with_torch`` adds torch's version and CUDA build."""
    torch_version = torch_cuda = None
    if with_torch:
        import torch

        torch_version = str(torch.__version__)
        torch_cuda = torch.version.cuda
    gpus, gpus_reason = _gpu_inventory()
    git = git_state()
    command_line, child_command_line = _command_lines()
    return HostInfo(
        hostname=socket.gethostname(),
        os=platform.platform(),
        python_version=sys.version.split()[0],
        torch_version=torch_version,
        torch_cuda_version=torch_cuda,
        cpu_model=cpu_model(),
        cpu_logical_cores=os.cpu_count() or 1,
        cpu_physical_cores=psutil.cpu_count(logical=False),
        memory_total_bytes=int(psutil.virtual_memory().total),
        gpus=gpus,
        gpus_null_reason=gpus_reason,
        git_commit=git.commit,
        git_dirty=git.dirty,
        command_line=command_line,
        child_command_line=child_command_line,
        cuda_visible_devices=os.environ.get("CUDA_VISIBLE_DEVICES"),
    )
