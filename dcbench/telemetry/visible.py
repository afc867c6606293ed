"""Which NVML devices a process may use, following ``CUDA_VISIBLE_DEVICES``.

The rules follow the CUDA C Programming Guide, "CUDA Environment Variables":
the variable is a comma-separated list of device indices or UUIDs (``GPU-...``,
a unique prefix is enough); an empty value hides every device; the list ends at
the first entry that is not a valid device, and only the devices before it are
visible. MIG instances (``MIG-...``) are not sampled per instance here: NVML
reports their parent GPU's board power and energy, so they are skipped with a note.

Integer entries are taken as NVML indices. NVML numbers devices in PCI bus order,
which CUDA also uses with ``CUDA_DEVICE_ORDER=PCI_BUS_ID`` and, on nodes of
identical GPUs, by default (ties in its "fastest first" order break by PCI bus id).
This module is pure: it takes the UUID list and never calls NVML.
"""

from __future__ import annotations


def resolve_visible(env_value: str | None, uuids: list[str]) -> tuple[list[int], str | None]:
    """NVML indices visible to CUDA, in CUDA's order, and a note when entries were dropped.

    ``env_value`` is ``os.environ.get("CUDA_VISIBLE_DEVICES")``; ``uuids`` are the
    NVML UUIDs of all devices in NVML index order.
    """
    if env_value is None:
        return list(range(len(uuids))), None
    visible: list[int] = []
    for raw in env_value.split(","):
        entry = raw.strip()
        if not entry:
            if visible or raw != env_value:
                return visible, f"CUDA_VISIBLE_DEVICES={env_value!r}: empty entry ends the list"
            return [], None  # the empty string: no device visible
        if entry.upper().startswith("MIG-"):
            return visible, (
                f"CUDA_VISIBLE_DEVICES={env_value!r}: MIG instance {entry!r} is not sampled "
                "(NVML power and energy are per physical GPU)"
            )
        index = _index_of(entry, uuids)
        if index is None or index in visible:
            why = "repeats a device" if index is not None else "is not a device on this machine"
            return visible, (
                f"CUDA_VISIBLE_DEVICES={env_value!r}: entry {entry!r} {why}; "
                "CUDA ignores it and every entry after it"
            )
        visible.append(index)
    return visible, None


def _index_of(entry: str, uuids: list[str]) -> int | None:
    if entry.lstrip("-").isdigit():
        number = int(entry)
        return number if 0 <= number < len(uuids) else None
    wanted = entry if entry.upper().startswith("GPU-") else f"GPU-{entry}"
    matches = [i for i, uuid in enumerate(uuids) if uuid.lower().startswith(wanted.lower())]
    return matches[0] if len(matches) == 1 else None
