"""Hostile and long-running load against a server in its own process (tests/process.py)."""

from tests.process import server_process

__all__ = ["server_process"]
