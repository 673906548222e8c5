"""Model discovery: facebench's own model modules, then third-party plugins, imported once.

A model is one module holding its class and the weight card beside it; importing the module
registers both. Discovery imports every module of the built-in model packages (`MODEL_PACKAGES`,
minus the helpers in `NOT_MODELS`) and then every entry point of the ``facebench.models`` group,
the first time any registry is asked for a name. A plugin package declares, in its
``pyproject.toml``::

    [project.entry-points."facebench.models"]
    my_detector = "my_package.my_detector"

A plugin that fails to import is reported with a warning naming it and its error, and the
built-in models stay usable. See docs/ADDING_A_MODEL.md.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
import warnings
from importlib.metadata import entry_points

__all__ = ["ENTRY_POINT_GROUP", "MODEL_PACKAGES", "discover"]

ENTRY_POINT_GROUP = "facebench.models"
#: packages whose modules are model modules (imported by name: the registries live below them)
MODEL_PACKAGES = ("facebench.detectors", "facebench.recognizers", "facebench.segment", "facebench.restore")
#: modules of those packages that hold shared code, not a model
NOT_MODELS = frozenset({"base", "registry", "refiners", "nets", "backbones", "thresholds", "masks"})

_lock = threading.RLock()  # re-entrant: a model module may look a name up while it is imported
_state = {"done": False, "running": False}


def discover() -> None:
    """Import every model module and plugin once (later calls return at once).

    A call from another thread while discovery runs waits for it to finish; a call from the
    discovering thread itself (a model module asking for a card as it is imported) returns at
    once: that module's own registrations are what it needs.
    """
    if _state["done"]:
        return
    with _lock:
        if _state["done"] or _state["running"]:
            return
        _state["running"] = True
        try:
            for package_name in MODEL_PACKAGES:
                package = importlib.import_module(package_name)
                for module in pkgutil.iter_modules(package.__path__):
                    if not module.name.startswith("_") and module.name not in NOT_MODELS:
                        importlib.import_module(f"{package_name}.{module.name}")
            for entry_point in entry_points(group=ENTRY_POINT_GROUP):
                try:
                    entry_point.load()
                except Exception as error:  # a broken plugin must not take the built-in models down
                    warnings.warn(
                        f"facebench plugin {entry_point.name!r} ({entry_point.value}) failed to load: "
                        f"{type(error).__name__}: {error}",
                        stacklevel=2,
                    )
            _state["done"] = True
        finally:
            _state["running"] = False
