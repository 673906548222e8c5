"""The weight-card registry: one card per model name."""

from __future__ import annotations

import difflib
import fnmatch
import warnings

from facebench import plugins
from facebench.errors import UnknownNameError
from facebench.zoo.cards import Task, WeightCard

__all__ = ["get_card", "list_cards", "register_card", "suggest", "unregister_card"]

_CARDS: dict[str, WeightCard] = {}


def register_card(card: WeightCard) -> WeightCard:
    """Add ``card`` to the registry (a second card with the same name replaces it, with a warning)."""
    if _CARDS.get(card.name) is card:  # one card shared by several classes (engines of one model)
        return card
    if card.name in _CARDS:
        warnings.warn(f"weight card {card.name!r} registered twice; the later one wins", stacklevel=2)
    _CARDS[card.name] = card
    return card


def suggest(name: str, known: list[str]) -> str:
    """A ' Did you mean ...?' hint for a mistyped registry name (empty when nothing is close)."""
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    return f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def get_card(name: str) -> WeightCard:
    """The card registered as ``name``; an `UnknownNameError` suggests close names."""
    if name not in _CARDS:
        plugins.discover()
    try:
        return _CARDS[name]
    except KeyError:
        known = sorted(_CARDS)
        raise UnknownNameError(
            f"no model named {name!r}.{suggest(name, known)} Known models: {', '.join(known)}"
        ) from None


def list_cards(pattern: str = "*", task: Task | str | None = None) -> list[WeightCard]:
    """Cards whose name matches the glob ``pattern`` (and ``task``), sorted by name."""
    plugins.discover()
    wanted = Task(task) if task is not None else None
    return [
        card
        for name, card in sorted(_CARDS.items())
        if fnmatch.fnmatch(name, pattern) and (wanted is None or card.task == wanted)
    ]


def unregister_card(name: str) -> None:
    """Remove a card (for tests and plugins that register temporary models)."""
    _CARDS.pop(name, None)
