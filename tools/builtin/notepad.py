"""A notepad kept with the session (it survives restarts): notepad_add and notepad_read."""

from __future__ import annotations

from typing import Any

from tools.registry import Tool, ToolContext, ToolError
from tools.settings import ToolSettings

MAX_NOTE_CHARS = 500
MAX_NOTES = 100


async def notepad_add(arguments: dict[str, Any], context: ToolContext) -> str:
    text = str(arguments["text"]).strip()
    if not text:
        raise ToolError("the note is empty")
    if len(context.notes()) >= MAX_NOTES:
        raise ToolError(f"the notepad is full ({MAX_NOTES} notes)")
    context.add_note(text[:MAX_NOTE_CHARS])
    return f"noted ({len(context.notes())} note(s) on the notepad)"


async def notepad_read(arguments: dict[str, Any], context: ToolContext) -> str:
    notes = context.notes()
    if not notes:
        return "the notepad is empty"
    return "\n".join(f"{number}. {note}" for number, note in enumerate(notes, 1))


def build(settings: ToolSettings) -> list[Tool]:
    add_schema = {
        "type": "object", "required": ["text"],
        "properties": {"text": {"type": "string", "description": "what to remember"}},
    }  # fmt: skip
    return [
        # a note the user asked for is kept even if they talk over the confirmation
        Tool("notepad_add", "Write a note on the user's notepad.", add_schema, notepad_add, 1.0, survives_cut=True),
        Tool("notepad_read", "Read the user's notepad.", {"type": "object", "properties": {}}, notepad_read, 1.0),
    ]
