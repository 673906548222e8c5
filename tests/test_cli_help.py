"""`--help` of every command fits an 80-column terminal, never truncates an option's text and
shows every default."""

import re

import pytest
import typer.main
from typer.testing import CliRunner

from facebench.cli import app


def _commands(command, path=()):
    if hasattr(command, "commands"):
        yield path, command
        for name, child in command.commands.items():
            yield from _commands(child, (*path, name))
    else:
        yield path, command


COMMANDS = list(_commands(typer.main.get_command(app)))


def test_every_command_is_covered():
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"benchmark", "verify", "index build", "train recognition", "models list"} <= names
    assert len(names) >= 20


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "facebench")
def test_help_fits_80_columns_and_shows_defaults(path):
    command = dict(COMMANDS)[path]
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=80, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80, "\n".join(line for line in lines if len(line) > 80)
    assert "…" not in result.output  # rich's truncation of a long word in a narrow column
    # a paragraph of a docstring is re-wrapped, not kept with its source line breaks
    flowing = re.sub(r"-\n\s+", "-", result.output)
    flowing = " ".join(flowing.split())
    for parameter in command.params:
        if parameter.name == "help" or not getattr(parameter, "show_default", True):
            continue
        default = parameter.default
        if default is None or isinstance(default, bool) or default == () or callable(default):
            continue
        shown = str(default.value if hasattr(default, "value") else default)
        assert f"[default: {shown}]" in flowing or f"default: {shown};" in flowing, (
            f"{' '.join(path)} {parameter.name}: default {shown!r} not shown"
        )
