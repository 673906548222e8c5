"""Restoration stage: super-resolution of degraded aligned faces before they are embedded."""

from facebench.restore.base import RESTORERS, Restorer, create_restorer, list_restorers, register_restorer

__all__ = ["RESTORERS", "Restorer", "create_restorer", "list_restorers", "register_restorer"]
