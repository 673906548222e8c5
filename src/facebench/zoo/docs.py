"""Render the model catalogue (licences, sources, hashes, contracts) as Markdown from the cards."""

from __future__ import annotations

from facebench.zoo.cards import WeightCard
from facebench.zoo.registry import list_cards

__all__ = ["catalog_markdown"]


def _contract(card: WeightCard) -> str:
    pre = card.preprocess
    parts = []
    if pre.input_size:
        parts.append(f"{pre.input_size[0]}×{pre.input_size[1]} ({pre.size_policy})")
    else:
        parts.append(pre.size_policy)
    parts.append(pre.color.value.upper())
    if pre.mean != (0.0, 0.0, 0.0) or pre.std != (1.0, 1.0, 1.0):
        parts.append(f"(x−{pre.mean[0]:g})/{pre.std[0]:g}" if len(set(pre.mean)) == 1 else f"x−{pre.mean}")
    if pre.template:
        parts.append(f"template {pre.template}")
    if pre.embedding_dim:
        parts.append(f"{pre.embedding_dim}-d")
    contract = ", ".join(parts)
    if card.detector_defaults is not None:
        contract += f". {card.detector_defaults.describe()}"
    return contract


def catalog_markdown() -> str:
    """The text of docs/MODELS.md (a test keeps the committed copy in sync with the cards)."""
    lines = [
        "# Models",
        "",
        "Generated from the weight cards (each beside its model class, plus `src/facebench/zoo/catalog.py`) by",
        "`facebench models list --markdown > docs/MODELS.md`. Do not edit by hand.",
        "",
        "facebench never ships weights. Each file is resolved by the model store (explicit path →",
        "`$FACEBENCH_HOME/models/<dir>/<file>` → user cache → a PyPI package that ships it → download",
        "from the URL below) and its sha256 is checked before it is loaded.",
        "",
        "## Tested here",
        "",
        "| name | task | licence | source | input contract |",
        "|---|---|---|---|---|",
    ]
    cards = list_cards()
    for card in (c for c in cards if c.tested_offline):
        lines.append(
            f"| `{card.name}` | {card.task.value} | {card.license} | {card.source} | {_contract(card)} |"
        )
    lines += [
        "",
        "## Not available offline here (untested)",
        "",
        "Listed with their canonical URLs and published hashes; their loading path has not been run.",
        "",
        "| name | task | licence | input contract |",
        "|---|---|---|---|",
    ]
    for card in (c for c in cards if not c.tested_offline):
        lines.append(f"| `{card.name}` | {card.task.value} | {card.license} | {_contract(card)} |")
    lines += ["", "## Files", "", "| model | file (dir/) | size B | sha256 | URL |", "|---|---|---|---|---|"]
    for card in cards:
        for f in card.files:
            size = f"{f.size:,}" if f.size else "?"
            archive = f" (from `{f.archive}`)" if f.archive else ""
            lines.append(
                f"| `{card.name}` | {card.directory}/{f.filename}{archive} | {size} | `{f.sha256}` | {f.url} |"
            )
        if card.package is not None:
            lines.append(f"| `{card.name}` | shipped by PyPI `{card.package.distribution}` | | | |")
    return "\n".join(lines) + "\n"
