"""Shared numeric building blocks used by several models (sessions, resizing, NMS)."""
