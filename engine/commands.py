"""The refusal of a command: what a protocol turns into an error for its client."""

from __future__ import annotations


class CommandRefused(Exception):
    """A command the conversation cannot take in its present state; `code` is for the client."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
