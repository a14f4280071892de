"""Integration tests: real databases, real graphs, real processes."""

from __future__ import annotations
