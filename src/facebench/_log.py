"""The package logger: library code logs, it never prints."""

from __future__ import annotations

import logging

__all__ = ["logger"]

logger = logging.getLogger("facebench")
logger.addHandler(logging.NullHandler())
