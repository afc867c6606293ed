"""Load models, accelerators and networks from the shipped catalogs or from user files.

Files are read with ``yaml.safe_load`` or ``json.load`` only (no code runs).
Catalog figures may be written as ``{value, source, verified}``; the loader
keeps the value and records the source (and the unverified flag) on the spec.
Every problem becomes a one-line :class:`~dcbench.errors.ConfigError` or
:class:`~dcbench.errors.NotFoundError` naming the fix.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from dcbench.errors import ConfigError, NotFoundError, closest, unknown
from simulator.catalog.specs import HardwareSpec, ModelSpec, NetworkSpec

_HERE = Path(__file__).resolve().parent
_FIGURE_KEYS = {"value", "source", "verified"}


def _read_mapping(path: Path, what: str) -> dict[str, Any]:
    """Read a YAML or JSON file that must hold one mapping."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"cannot read {what} file {str(path)!r}: {err.strerror}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ConfigError(f"{what} file {str(path)!r} is not valid YAML/JSON: {first}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{what} file {str(path)!r} must hold a mapping of fields")
    return data


@functools.cache
def _catalog(file_name: str) -> dict[str, dict[str, Any]]:
    """One shipped catalog file: name -> raw entry (YAML anchors starting with '_' dropped)."""
    data = _read_mapping(_HERE / file_name, "catalog")
    return {name: entry for name, entry in data.items() if not name.startswith("_")}


def _unwrap(data: Any, prefix: str, sources: dict[str, str], unverified: list[str]) -> Any:
    """Replace ``{value, source, verified}`` figures by their value, recording the metadata."""
    if isinstance(data, dict):
        if "value" in data and set(data) <= _FIGURE_KEYS:
            if data.get("source"):
                sources[prefix] = str(data["source"])
            if data.get("verified") is False:
                unverified.append(prefix)
            return data["value"]
        return {
            key: _unwrap(val, f"{prefix}.{key}" if prefix else str(key), sources, unverified)
            for key, val in data.items()
        }
    return data


def _validation_message(err: ValidationError, model: type[BaseModel]) -> str:
    """One pydantic error as 'field X: problem' (with a did-you-mean for unknown keys)."""
    errors = err.errors()
    # A mistyped key shows up as both "unknown" and "missing": report the typo.
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    field = ".".join(str(part) for part in first["loc"]) or "(file)"
    if first["type"] == "extra_forbidden":
        hint = closest(str(first["loc"][-1]), list(model.model_fields))
        fix = f"; did you mean {hint!r}?" if hint else ""
        return f"unknown field {field!r}{fix}"
    if first["type"] == "missing":
        return f"missing field {field!r}"
    return f"field {field!r}: {first['msg']} (got {first.get('input')!r})"


def _build(model: type[BaseModel], data: dict[str, Any], where: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise ConfigError(f"{where}: {_validation_message(err, model)}") from None


def _looks_like_path(text: str) -> bool:
    return text.endswith((".yaml", ".yml", ".json")) or "/" in text or Path(text).is_file()


def model_names() -> list[str]:
    """Names of the shipped model architectures."""
    return sorted(_catalog("models.yaml"))


def hardware_names() -> list[str]:
    """Canonical names of the shipped accelerators (aliases not included)."""
    return sorted(_catalog("hardware.yaml"))


def network_names() -> list[str]:
    """Names of the shipped scale-out networks."""
    return sorted(_catalog("networks.yaml"))


def _hardware_aliases() -> dict[str, str]:
    aliases: dict[str, str] = {}
    for name, entry in _catalog("hardware.yaml").items():
        aliases[name] = name
        for alias in entry.get("aliases", ()):
            aliases[str(alias).lower()] = name
    return aliases


def load_model(name_or_path: str) -> ModelSpec:
    """A catalog model by name, or a model from a YAML/JSON file of ModelSpec fields."""
    catalog = _catalog("models.yaml")
    key = name_or_path.strip().lower()
    if key in catalog:
        return _build(ModelSpec, {"name": key, **catalog[key]}, f"catalog model {key!r}")
    if not _looks_like_path(name_or_path):
        raise unknown("model", name_or_path, model_names())
    path = Path(name_or_path)
    if not path.is_file():
        raise NotFoundError(f"model file {name_or_path!r} not found; pass a catalog name or a file")
    data = _read_mapping(path, "model")
    data.setdefault("name", path.stem)
    data.setdefault("source", f"user file {path.name}")
    return _build(ModelSpec, data, f"model file {str(path)!r}")


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``override`` into ``base`` (mappings merge, anything else replaces)."""
    merged = dict(base)
    for key, val in override.items():
        if isinstance(val, dict) and isinstance(merged.get(key), dict) and "value" not in val:
            merged[key] = _merge(merged[key], val)
        else:
            merged[key] = val
    return merged


def _hardware_from_raw(raw: dict[str, Any], name: str, where: str, default_source: str) -> HardwareSpec:
    sources: dict[str, str] = {}
    unverified: list[str] = []
    data = _unwrap(raw, "", sources, unverified)
    for key in ("sources", "unverified"):
        if key in data:
            raise ConfigError(f"{where}: field {key!r} is derived; give figures as {{value, source}}")
    data["name"] = name
    spec: HardwareSpec = _build(HardwareSpec, data, where)
    figures = [f for f in HardwareSpec.model_fields if f not in {"name", "aliases", "vendor", "efficiency"}]
    for field in figures:
        if getattr(spec, field) is not None and field not in sources and not any(
            key.startswith(f"{field}.") for key in sources
        ):
            sources[field] = default_source
    return spec.model_copy(update={"sources": sources, "unverified": tuple(unverified)})


def load_hardware(name_or_path: str) -> HardwareSpec:
    """A catalog accelerator by name or alias, or a YAML/JSON file with the same fields.

    A file may say ``base: NAME`` to start from that catalog entry and override
    only some of its fields (nested mappings such as ``efficiency`` merge).
    """
    catalog = _catalog("hardware.yaml")
    aliases = _hardware_aliases()
    key = name_or_path.strip().lower()
    if key in aliases:
        name = aliases[key]
        return _hardware_from_raw(catalog[name], name, f"catalog hardware {name!r}", "catalog")
    if not _looks_like_path(name_or_path):
        raise unknown("GPU", name_or_path, sorted(aliases))
    path = Path(name_or_path)
    if not path.is_file():
        raise NotFoundError(f"hardware file {name_or_path!r} not found; pass a catalog name or a file")
    data = _read_mapping(path, "hardware")
    where = f"hardware file {str(path)!r}"
    efficiency = data.get("efficiency")
    if isinstance(efficiency, dict):
        # Fractions the user gives replace a catalog calibration: unless the file says otherwise,
        # they are not calibrated and come from the file.
        efficiency.setdefault("calibrated", False)
        efficiency.setdefault("source", f"user file {path.name}")
    base_name = data.pop("base", None)
    if base_name is not None:
        base_key = str(base_name).strip().lower()
        if base_key not in aliases:
            err = unknown("base GPU", str(base_name), sorted(aliases))
            raise ConfigError(f"{where}: {err}") from None
        data = _merge(catalog[aliases[base_key]], data)
        data.pop("aliases", None)
    name = str(data.pop("name", path.stem))
    return _hardware_from_raw(data, name, where, f"user file {path.name}")


def load_network(name: str) -> NetworkSpec:
    """A catalog network: infiniband-hdr, infiniband-ndr, infiniband-xdr or roce-400g."""
    catalog = _catalog("networks.yaml")
    key = name.strip().lower()
    if key not in catalog:
        raise unknown("network", name, network_names())
    return _build(NetworkSpec, {"name": key, **catalog[key]}, f"catalog network {key!r}")
