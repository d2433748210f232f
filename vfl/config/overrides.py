"""Change a job spec from Python, validated exactly as its TOML is.

    spec = vfl.load_job("job.toml", overrides={"train.epochs": 3})
    spec = spec.with_overrides({"train.learning_rate": 0.05, "model.top_hidden": [8]})

Each key is a dotted path into the spec's tables (`parties.1.missing` indexes an array of
tables), each value what the TOML would hold there; a table value is merged into the
table. The spec is validated again as a whole, so an unknown key, a bad value or a wrong
type is the same one-line ConfigError a TOML file gets, naming the field, what was found
and the fix. pydantic's `model_copy(update=...)` validates nothing: use this instead.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from vfl.config.job_spec import JobSpec
from vfl.config.loading import allowed_fields, parse_job
from vfl.errors import ConfigError

SOURCE = "overrides"
"""What a ConfigError from `with_overrides` names as its source."""


def override(spec: JobSpec, overrides: Mapping[str, Any], source: str = SOURCE) -> JobSpec:
    """`spec` with `overrides` applied, validated again; same mode and base directory."""
    data = spec.model_dump(mode="json", exclude_unset=True)
    for key, value in overrides.items():
        _check_top_level(type(spec), key, source)
        _apply(data, key, value, source)
    changed = parse_job(data, source)
    if changed.job.mode != spec.job.mode:
        raise ConfigError(
            f"{source}: job.mode: overrides cannot change a spec's mode (found "
            f"{str(changed.job.mode)!r}, the spec is {str(spec.job.mode)!r}); "
            "load a spec of that mode instead"
        )
    return changed.with_base_dir(spec.base_dir)


def _check_top_level(model: type[BaseModel], key: object, source: str) -> None:
    """`{"epoch": 3}` names no table: suggest the field of a table it most likely meant."""
    if not isinstance(key, str) or "." in key or key in model.model_fields:
        return
    fields = [f"{t}.{f}" for t in model.model_fields for f in allowed_fields(model, (t,))]
    hint = difflib.get_close_matches(key, [f.split(".")[1] for f in fields], n=1)
    if hint:
        meant = next(f for f in fields if f.split(".")[1] == hint[0])
        raise ConfigError(f"{source}: {key}: unknown field (did you mean {meant!r}?)")


def _apply(data: dict[str, Any], key: object, value: object, source: str) -> None:
    parts = key.split(".") if isinstance(key, str) else []
    if not isinstance(key, str) or not all(parts):
        raise ConfigError(
            f"{source}: {key!r} is not a field path; write dotted names such as 'train.epochs'"
        )
    if isinstance(value, BaseModel):
        raise ConfigError(
            f"{source}: {key}: found a {type(value).__name__}; give the value as the TOML "
            "would (a number, string, list or table)"
        )
    current: Any = data
    for depth, part in enumerate(parts[:-1]):
        current = _step(current, part, ".".join(parts[: depth + 1]), source)
    _set(current, parts[-1], copy.deepcopy(value), key, source)


def _step(current: Any, part: str, where: str, source: str) -> Any:
    if isinstance(current, dict):
        return current.setdefault(part, {})
    if isinstance(current, list) and part.isdigit() and int(part) < len(current):
        return current[int(part)]
    raise ConfigError(f"{source}: {where}: {_no_such_place(current, part)}")


def _set(current: Any, last: str, value: Any, key: str, source: str) -> None:
    if isinstance(current, dict):
        old = current.get(last)
        current[last] = _merged(old, value) if isinstance(old, dict) else value
    elif isinstance(current, list) and last.isdigit() and int(last) < len(current):
        current[int(last)] = value
    else:
        raise ConfigError(f"{source}: {key}: {_no_such_place(current, last)}")


def _no_such_place(current: Any, part: str) -> str:
    if isinstance(current, list):
        return f"{part!r} is not an index of this array of {len(current)} tables (0-based)"
    return f"the value before {part!r} is {current!r}, not a table"


def _merged(old: dict[str, Any], value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    out = dict(old)
    for k, v in value.items():
        out[k] = _merged(out[k], v) if isinstance(out.get(k), dict) else v
    return out
