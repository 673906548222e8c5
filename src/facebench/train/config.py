"""Training configurations: nested dataclasses read from YAML and validated whole (types, ranges,
enumerations, unknown keys) by pydantic before any work starts."""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import Field, TypeAdapter, ValidationError

from facebench.errors import FacebenchError

__all__ = [
    "HeadType",
    "NonNegativeFloat",
    "NonNegativeInt",
    "PositiveFloat",
    "PositiveInt",
    "Probability",
    "config_from_dict",
    "config_to_dict",
    "load_config",
]

T = TypeVar("T")


PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]
PositiveFloat = Annotated[float, Field(gt=0.0)]
NonNegativeFloat = Annotated[float, Field(ge=0.0)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
#: the margin presets of facebench.train.heads.MARGIN_PRESETS, and ``adaface`` (a test keeps them equal)
HeadType = Literal["arcface", "cosface", "sphereface", "combined", "softmax", "adaface"]


def config_from_dict(cls: type[T], data: dict[str, Any] | None, where: str = "config") -> T:
    """Build and validate dataclass ``cls`` from ``data`` before any work is done.

    Every problem is collected, not just the first: unknown keys (with the known ones), wrong
    types, values out of range and values outside an enumeration (with the allowed values), one
    line each naming the key's dotted path.

    Raises:
        FacebenchError: listing every bad key.
    """
    data = data or {}
    if not isinstance(data, dict):
        raise FacebenchError(f"{where}: expected a mapping, got {type(data).__name__}")
    problems = _unknown_keys(cls, data, "")
    try:
        config = TypeAdapter(cls).validate_python(data)
    except ValidationError as error:
        known = {line.split(":")[0] for line in problems}
        for item in error.errors():
            path = ".".join(str(part) for part in item["loc"])
            if path in known or item["type"] == "unexpected_keyword_argument":
                continue  # already reported as unknown, with the known keys
            problems.append(f"{path}: {item['msg']} (got {item.get('input')!r})")
        config = None
    if problems:
        raise FacebenchError(
            f"{where}: {len(problems)} invalid setting(s); nothing was run:\n  " + "\n  ".join(problems)
        )
    return config  # type: ignore[return-value]


def _unknown_keys(cls: type, data: dict[str, Any], prefix: str) -> list[str]:
    hints = typing.get_type_hints(cls, include_extras=False)
    fields = [f.name for f in dataclasses.fields(cls)]
    problems = [
        f"{prefix}{key}: unknown key; known: {', '.join(fields)}" for key in data if key not in fields
    ]
    for key, value in data.items():
        nested = _dataclass_in(hints.get(key)) if key in fields else None
        if nested is not None and isinstance(value, dict):
            problems += _unknown_keys(nested, value, f"{prefix}{key}.")
    return problems


def _dataclass_in(hint: Any) -> type | None:
    if dataclasses.is_dataclass(hint):
        return hint  # type: ignore[return-value]
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        for arg in typing.get_args(hint):
            if dataclasses.is_dataclass(arg):
                return arg  # type: ignore[return-value]
    return None


def config_to_dict(config: Any) -> dict[str, Any]:
    """A plain dict (YAML/JSON-ready) of a config dataclass."""
    return dataclasses.asdict(config)


def _expand_variables(node: Any) -> Any:
    """``$VAR``/``${VAR}`` in every string value (``${FACEBENCH_HOME}/data/...``)."""
    if isinstance(node, dict):
        return {key: _expand_variables(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_expand_variables(value) for value in node]
    return os.path.expandvars(node) if isinstance(node, str) else node


def load_config(cls: type[T], path: str | os.PathLike[str], overrides: dict[str, Any] | None = None) -> T:
    """Read ``cls`` from the YAML file ``path``; ``overrides`` maps dotted keys to values."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except OSError as error:
        raise FacebenchError(f"cannot read config {path}: {error.strerror or error}") from None
    except yaml.YAMLError as error:
        raise FacebenchError(f"config {path} is not valid YAML: {error}") from None
    data = _expand_variables(data)
    for dotted, value in (overrides or {}).items():
        node = data
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return config_from_dict(cls, data, str(path))
