"""Training configurations: nested dataclasses read from YAML, with unknown keys rejected by name."""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from facebench.errors import FacebenchError

__all__ = ["config_from_dict", "config_to_dict", "load_config"]

T = TypeVar("T")


def config_from_dict(cls: type[T], data: dict[str, Any] | None, where: str = "config") -> T:
    """Build dataclass ``cls`` from ``data``; nested dataclasses recurse; unknown keys are errors."""
    data = data or {}
    if not isinstance(data, dict):
        raise FacebenchError(f"{where}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise FacebenchError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(fields)}")
    values = {}
    for name, value in data.items():
        hint = hints[name]
        nested = _dataclass_in(hint)
        if nested is not None and isinstance(value, dict):
            value = config_from_dict(nested, value, f"{where}.{name}")
        elif typing.get_origin(hint) is tuple and isinstance(value, list):
            value = tuple(value)
        values[name] = value
    return cls(**values)


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
