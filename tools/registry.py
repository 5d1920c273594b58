"""Tools an LLM may call during a voice turn: what each one is, and the registry that offers them.

A tool is an async function of its JSON arguments and the session's context, returning text
for the LLM. Its parameters are a JSON schema (the LLM sees it; arguments are checked against
it before the tool runs). A tool marked `survives_cut` finishes even when the user cuts the
reply in (a booking, a note), and its result is kept for the next turn.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from services.base import ToolSpec


class ToolContext(Protocol):
    """What a tool may touch of the session it runs in (engine.memory.Memory is one)."""

    def notes(self) -> list[str]: ...

    def add_note(self, text: str) -> None: ...


class ToolError(Exception):
    """A failure the LLM is told of in words (bad arguments, a service that said no)."""


ToolFunction = Callable[[dict[str, Any], ToolContext], Awaitable[str]]


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]  # JSON schema of an object
    run: ToolFunction
    timeout_s: float | None = None  # None: TOOL_TIMEOUT_S
    survives_cut: bool = False

    def spec(self) -> ToolSpec:
        return {"type": "function", "function": {
            "name": self.name, "description": self.description, "parameters": self.parameters,
        }}  # fmt: skip


class ToolBox:
    """The tools offered to the LLM, by name."""

    def __init__(self, tools: Iterable[Tool] = (), default_timeout_s: float = 10.0) -> None:
        self._tools = {tool.name: tool for tool in tools}
        self.default_timeout_s = default_timeout_s

    def __bool__(self) -> bool:
        return bool(self._tools)

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def specs(self) -> list[ToolSpec]:
        return [tool.spec() for tool in self._tools.values()]

    def timeout_of(self, tool: Tool) -> float:
        return tool.timeout_s if tool.timeout_s is not None else self.default_timeout_s


JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "number": (int, float), "integer": (int,), "boolean": (bool,), "object": (dict,),
    "array": (list,),
}  # fmt: skip


def check_arguments(schema: dict[str, Any], arguments: Any) -> dict[str, Any]:
    """`arguments` if they fit the schema's object: required keys, property types and enums;
    otherwise ToolError saying what is wrong (the LLM reads it and may try again)."""
    if not isinstance(arguments, dict):
        raise ToolError("arguments must be a JSON object")
    missing = [key for key in schema.get("required", ()) if key not in arguments]
    if missing:
        raise ToolError(f"missing argument(s): {', '.join(missing)}")
    properties: dict[str, Any] = schema.get("properties", {})
    for key, value in arguments.items():
        rule = properties.get(key)
        if rule is None:
            if schema.get("additionalProperties") is False:
                raise ToolError(f"unknown argument {key!r}")
            continue
        expected = JSON_TYPES.get(rule.get("type", ""), (object,))
        if not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected):
            raise ToolError(f"argument {key!r} must be a {rule.get('type')}")
        if "enum" in rule and value not in rule["enum"]:
            raise ToolError(f"argument {key!r} must be one of {rule['enum']}")
    return arguments
