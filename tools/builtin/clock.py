"""current_time: the date and time now, in a time zone the user names."""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tools.registry import Tool, ToolContext, ToolError
from tools.settings import ToolSettings


async def current_time(arguments: dict[str, Any], context: ToolContext) -> str:
    zone_name = arguments.get("timezone") or "UTC"
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ToolError(f"unknown time zone {zone_name!r}; use an IANA name such as Europe/Paris") from None
    now = datetime.datetime.now(zone)
    return f"{now:%A %d %B %Y, %H:%M} in {zone_name} (UTC offset {now:%z})"


def build(settings: ToolSettings) -> list[Tool]:
    schema = {
        "type": "object",
        "properties": {"timezone": {"type": "string", "description": "IANA time zone, e.g. Europe/Paris; default UTC"}},
    }
    return [Tool("current_time", "The current date and time in a time zone.", schema, current_time, timeout_s=1.0)]
