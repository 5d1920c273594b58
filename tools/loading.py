"""The ToolBox a server offers, built once per process from ToolSettings."""

from __future__ import annotations

import importlib

from config import ConfigProblem
from tools.registry import Tool, ToolBox
from tools.settings import ToolSettings

BUILTIN_MODULES = ("tools.builtin.clock", "tools.builtin.notepad", "tools.builtin.weather")


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def available_tools(settings: ToolSettings) -> dict[str, Tool]:
    """Every tool the built-in modules and TOOL_MODULES make, by name."""
    tools: dict[str, Tool] = {}
    for module_name in (*BUILTIN_MODULES, *_split(settings.tool_modules)):
        for tool in importlib.import_module(module_name).build(settings):
            tools[tool.name] = tool
    return tools


def tool_problems(settings: ToolSettings) -> list[ConfigProblem]:
    try:
        known = available_tools(settings)
    except Exception as error:
        return [ConfigProblem("TOOL_MODULES", f"={settings.tool_modules!r}: {error}")]
    if unknown := [name for name in _split(settings.tools) if name not in known]:
        return [ConfigProblem("TOOLS", f"names unknown tool(s) {', '.join(unknown)} (known: {', '.join(known)})")]
    return []


def load_toolbox(settings: ToolSettings) -> ToolBox:
    known = available_tools(settings)
    return ToolBox([known[name] for name in _split(settings.tools)], settings.tool_timeout_s)
