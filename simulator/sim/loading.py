"""Reading scenarios: YAML files, built-in presets, sweep overrides, one-line errors.

Loading never executes code: files go through ``yaml.safe_load`` and the result is
validated by pydantic models that forbid unknown keys. Validation errors become
one :class:`~dcbench.errors.ConfigError` line naming the key, the problem and the
fix (for an unknown key, the closest valid one).
"""

from __future__ import annotations

import copy
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

import yaml
from pydantic import BaseModel, ValidationError

from dcbench.errors import ConfigError, NotFoundError, closest, unknown
from simulator.sim.scenario import TrainingScenario
from simulator.sim.scenario_cluster import ClusterScenario
from simulator.sim.scenario_pipeline import PipelineScenario

Scenario = TrainingScenario | ClusterScenario | PipelineScenario

KINDS: dict[str, type[BaseModel]] = {
    "training": TrainingScenario,
    "cluster": ClusterScenario,
    "pipeline": PipelineScenario,
}
PRESET_DIR = Path(__file__).parent / "presets"


@dataclass(frozen=True, slots=True, kw_only=True)
class PresetInfo:
    """A built-in scenario: its name, kind and one-line description."""

    name: str
    kind: str
    description: str


def read_yaml(path: Path) -> dict[str, Any]:
    """Read a scenario file as a mapping with ``yaml.safe_load`` (never executes code)."""
    if not path.is_file():
        raise NotFoundError(f"scenario file {str(path)!r} not found; give a YAML file or --preset NAME")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.constructor.ConstructorError:
        raise ConfigError(
            f"{path}: uses a YAML tag dcbench does not load (such as !!python/...); "
            "a scenario is plain data: mappings, lists, numbers and strings"
        ) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}: not valid YAML{where}; check indentation and quoting") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read the file ({err.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a scenario must be a YAML mapping with a 'kind' key")
    return data


def validate(raw: dict[str, Any], origin: str = "scenario") -> Scenario:
    """Validate a raw mapping into a scenario model, or raise one ConfigError line."""
    kind = raw.get("kind")
    if kind is None:
        raise ConfigError(f"{origin}: missing 'kind'; use one of: {', '.join(KINDS)}")
    if not isinstance(kind, str) or kind not in KINDS:
        raise ConfigError(f"{origin}: {unknown('scenario kind', str(kind), tuple(KINDS))}")
    model = KINDS[kind]
    try:
        return typing.cast(Scenario, model.model_validate(raw))
    except ValidationError as err:
        raise ConfigError(f"{origin}: {describe_error(err, model)}") from None


# Scenario keys that may name a model or hardware file instead of a catalog entry.
FILE_KEYS = ("model", "gpu")


def _looks_like_file(text: str) -> bool:
    return text.endswith((".yaml", ".yml", ".json")) or "/" in text


def resolve_relative_files(raw: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Make ``model``/``gpu`` file names relative to the scenario's folder, as a user expects.

    A name that is not a file there (a catalog name, or a path relative to the
    current folder) is left as it is.
    """
    result = dict(raw)
    for key in FILE_KEYS:
        value = result.get(key)
        if isinstance(value, str) and _looks_like_file(value) and not Path(value).is_absolute():
            candidate = folder / value
            if candidate.is_file():
                result[key] = str(candidate)
    return result


def load_scenario(path: str | Path) -> tuple[dict[str, Any], Scenario]:
    """Load and validate a scenario file; returns the raw mapping and the model.

    Model and hardware files named in the scenario are looked up next to it first.
    """
    path = Path(path)
    raw = resolve_relative_files(read_yaml(path), path.expanduser().absolute().parent)
    return raw, validate(raw, origin=str(path))


def list_presets() -> list[PresetInfo]:
    """The built-in scenarios, sorted by name."""
    infos = []
    for path in sorted(PRESET_DIR.glob("*.yaml")):
        raw = read_yaml(path)
        infos.append(
            PresetInfo(
                name=path.stem, kind=str(raw.get("kind")), description=str(raw.get("description", ""))
            )
        )
    return infos


def load_preset(name: str) -> tuple[dict[str, Any], Scenario]:
    """Load a built-in scenario by name (``dcbench simulate presets`` lists them)."""
    names = [info.name for info in list_presets()]
    if name not in names:
        raise unknown("preset", name, names)
    raw = read_yaml(PRESET_DIR / f"{name}.yaml")
    raw.setdefault("name", name)
    return raw, validate(raw, origin=f"preset {name}")


# --- sweeps ------------------------------------------------------------------


def parse_sweep(text: str) -> tuple[str, list[Any]]:
    """Parse ``key.path=v1,v2,...`` into the key path and YAML-typed values."""
    key, sep, values_text = text.partition("=")
    key = key.strip()
    if not sep or not key or not values_text.strip():
        raise ConfigError(f"--sweep {text!r}: write KEY=V1,V2,... e.g. gpus=4096,8192")
    values = []
    for item in values_text.split(","):
        item = item.strip()
        if not item:
            raise ConfigError(f"--sweep {text!r}: empty value in the list")
        try:
            values.append(yaml.safe_load(item))
        except yaml.YAMLError:
            raise ConfigError(f"--sweep {text!r}: cannot read value {item!r}") from None
    return key, values


def with_override(raw: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``raw`` with the dotted ``key`` set to ``value``."""
    result = copy.deepcopy(raw)
    parts = key.split(".")
    node: Any = result
    for depth, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if child is False or (isinstance(child, str) and child.lower() == "off"):
            where = ".".join(parts[: depth + 1])
            raise ConfigError(f"cannot sweep {key!r}: '{where}' is off in the scenario; turn it on")
        if not isinstance(child, dict):
            raise ConfigError(f"cannot sweep {key!r}: '{'.'.join(parts[: depth + 1])}' is not a mapping")
        node = child
    node[parts[-1]] = value
    return result


# --- pydantic errors -> one line -----------------------------------------------


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The BaseModel class inside an annotation (Optional, Annotated, dict/list values)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType, typing.Annotated, list, dict):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model reached by following ``loc`` (the parent of an error)."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None:
            return []
        if isinstance(part, int) or part not in current.model_fields:
            # a list index or dict key: stay on the item model found at the field
            continue
        current = _model_in(current.model_fields[part].annotation)
    return list(current.model_fields) if current is not None else []


def _dotted(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if not str(p).startswith(("function-", "literal[", "union["))]
    text = ""
    for part in parts:
        if part.isdigit():
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def _pick(errors: list[Any]) -> Any:
    """The most useful of several errors (skip union alternatives like "should be 'auto'")."""
    for error in errors:
        if error["type"] == "extra_forbidden":
            return error
    for error in errors:
        if error["type"] not in {"literal_error", "model_type", "none_required", "bool_type"}:
            return error
    return errors[0]


def describe_error(err: ValidationError, model: type[BaseModel]) -> str:
    """One line for a pydantic ValidationError: where, what, and how to fix it."""
    error = _pick(err.errors())
    loc = tuple(p for p in error["loc"] if not str(p).startswith(("function-", "literal[")))
    loc = tuple(p for p in loc if p not in {"float", "int", "str", "list[float]", "bool"})
    where = _dotted(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else "?"
        valid = _fields_at(model, loc[:-1])
        hint = closest(name, valid)
        suggestion = f"; did you mean {hint!r}?" if hint else ""
        return f"unknown key {where!r}{suggestion} (valid keys here: {', '.join(valid)})"
    if kind == "missing":
        return f"missing required key {where!r}"
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    given = error.get("input")
    says_what_it_got = "got " in message  # our own validators already quote the input
    shown = "" if isinstance(given, dict | list) or given is None or says_what_it_got else f" (got {given!r})"
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        negative = isinstance(given, int | float) and given < 0
        fix = "; negative rates, times and sizes are not allowed" if negative else ""
        return f"{where}: {message[:1].lower()}{message[1:]}{shown}{fix}"
    if not where:
        return message
    return f"{where}: {message}{shown}"
