"""TOML -> validated config, with errors a person can act on in one line."""

from __future__ import annotations

import difflib
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from vfl.config.job_spec import JOB_SPEC, JobSpec, spec_class
from vfl.config.phase_plan import PLANS, Mode
from vfl.errors import ConfigError

_M = TypeVar("_M", bound=BaseModel)

MAX_TOML_BYTES = 64 * 1024
"""Largest job spec or config read: real ones are a few KB; a peer's 600 KB spec once
kept a coordinator core busy for a minute before anything checked who sent it."""
MAX_TOML_DEPTH = 8
"""Deepest nesting of tables and arrays (a job spec needs 3)."""


def load_job(path: str | Path, overrides: Mapping[str, Any] | None = None) -> JobSpec:
    """Read and validate a job spec; relative data paths resolve against its folder.
    `overrides` ({"train.epochs": 3}) change it, validated as the file is (one-line
    ConfigError naming `FILE (overrides)`); see `JobSpec.with_overrides`."""
    file = Path(path)
    spec = parse_job(read_toml(file), source=str(file)).with_base_dir(file.resolve().parent)
    if not overrides:
        return spec
    from vfl.config.overrides import override  # noqa: PLC0415 (it imports this module)

    return override(spec, overrides, source=f"{file} (overrides)")


def parse_job(data: dict[str, Any], source: str) -> JobSpec:
    """Validate a job spec of any mode (`job.mode` picks its class), errors in one line."""
    try:
        return JOB_SPEC.validate_python(data)
    except ValidationError as exc:
        errors = exc.errors()
        # the union puts the mode's tag first in every location: the spec's own fields follow
        tag = str(errors[0]["loc"][0]) if errors[0]["loc"] else ""
        err = {**errors[0], "loc": errors[0]["loc"][1:]}
        first = _for_mode(tag, err) or describe_error(spec_class(tag), err)
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(f"{source}: {first}{more}") from None


def _for_mode(mode: str, err: Any) -> str | None:
    """What is wrong *for this mode*, when a role or field belongs to another mode: a spec
    that forgot `job.mode` (or set the wrong one) is told which mode has it."""
    loc = tuple(p for p in err["loc"] if not isinstance(p, int))
    where = _format_loc(err["loc"])
    if loc[-1:] == ("role",) and err["type"] == "literal_error":
        found = err.get("input")
        owners = [str(m) for m, plan in PLANS.items() if found in plan.roles]
        if owners:
            roles = ", ".join(PLANS[Mode(mode)].roles)
            return (
                f"{where}: {found!r} is a role of {owners[0]} jobs, but job.mode is {mode!r} "
                f"(its roles: {roles}); set job.mode = {owners[0]!r} or change the role"
            )
    if err["type"] == "extra_forbidden":
        owners = [
            str(m) for m in Mode if m != mode and loc[-1] in allowed_fields(spec_class(m), loc[:-1])
        ]
        if owners:
            return (
                f"{where}: only {' and '.join(owners)} jobs have this field, but job.mode is "
                f"{mode!r}; set job.mode or remove it"
            )
    return None


def parse_job_json(text: str, source: str) -> JobSpec:
    """A job spec from its JSON (as the coordinator stores and sends it)."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{source}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: not a JSON object")
    return parse_job(data, source)


def read_toml(file: Path) -> dict[str, Any]:
    try:
        with file.open("rb") as fh:
            data = fh.read(MAX_TOML_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"{file}: file not found") from None
    try:
        text = data.decode()
    except UnicodeDecodeError:
        raise ConfigError(f"{file}: not valid TOML (not UTF-8 text)") from None
    return parse_toml(text, str(file))


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """TOML text → a dict, bounded before it costs anything: size, then nesting depth."""
    size = len(text.encode())
    if size > MAX_TOML_BYTES:
        raise ConfigError(
            f"{source}: {size} bytes, more than the {MAX_TOML_BYTES} a spec may have; "
            "list features in the party's data instead of the spec"
        )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc})") from None
    except RecursionError:
        data = None
    if data is None or _depth(data) > MAX_TOML_DEPTH:
        raise ConfigError(
            f"{source}: tables or arrays nested deeper than {MAX_TOML_DEPTH} levels; "
            "a job spec needs 3"
        )
    return data


def _depth(value: object, limit: int = MAX_TOML_DEPTH + 1) -> int:
    """Nesting depth of dicts and lists, counted no further than `limit`."""
    if limit == 0 or not isinstance(value, dict | list):
        return 0
    items = value.values() if isinstance(value, dict) else value
    return 1 + max((_depth(v, limit - 1) for v in items), default=0)


def parse_model(model: type[_M], data: dict[str, Any], source: str) -> _M:
    """Validate `data` as `model`, turning the first pydantic error into one line."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = describe_error(model, errors[0])
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(f"{source}: {first}{more}") from None


def describe_error(model: type[BaseModel], err: Any) -> str:
    loc = _format_loc(err["loc"])
    where = f"{loc}: " if loc else ""
    if err["type"] == "extra_forbidden":
        field = str(err["loc"][-1])
        allowed = allowed_fields(model, err["loc"][:-1])
        hint = difflib.get_close_matches(field, allowed, n=1)
        fix = f"did you mean {hint[0]!r}?" if hint else f"allowed: {', '.join(allowed)}"
        return f"{where}unknown field ({fix})"
    if err["type"] == "missing":
        return f"{where}required field is missing"
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "value_error" or isinstance(err.get("input"), dict | list):
        return f"{where}{msg}"
    return f"{where}{msg} (found {err.get('input')!r})"


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def allowed_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = (
            current.model_fields.get(part)
            if isinstance(current, type) and issubclass(current, BaseModel)
            else None
        )
        if field is None:
            return []
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        current = next(
            (a for a in (annotation, *args) if isinstance(a, type) and issubclass(a, BaseModel)),
            None,
        )
        if current is None:
            return []
    return sorted(current.model_fields) if current is not None else []
