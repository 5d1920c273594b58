"""Logging as an operator wants it: uvicorn's format, every record redacted (secrets, session ids,
tokens in query strings), start-up chatter replaced by Parley's own ready line, and a client's
invalid UTF-8 reduced to one line instead of a traceback per frame."""

from __future__ import annotations

import copy
import logging
from typing import Any

import uvicorn

from services.secrets import RedactingFilter


class QuietStartup(logging.Filter):
    """Drops uvicorn's start-up chatter: Parley's own line says when to open which URL."""

    CHATTER = ("Started server process", "Waiting for application startup", "Application startup complete")

    def __init__(self, own_url: bool = True) -> None:
        super().__init__()
        self.chatter = (*self.CHATTER, "Uvicorn running on") if own_url else self.CHATTER

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.chatter)


class ClientNoise(logging.Filter):
    """A client's bad frame is the client's problem: one warning line, no traceback (uvicorn logs
    a traceback per invalid UTF-8 text frame, which a client could use to flood the log)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Invalid UTF-8 sequence received from client"):
            record.msg, record.args = "a client sent a text frame that is not UTF-8; closed with 1007", None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True


def log_config(level: str, own_url: bool = True) -> dict[str, Any]:
    """uvicorn's logging, with every record passed through the redactor."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["filters"] = {
        "redact": {"()": RedactingFilter},
        "quiet_startup": {"()": QuietStartup, "own_url": own_url},
        "client_noise": {"()": ClientNoise},
    }
    for handler in config["handlers"].values():
        handler["filters"] = ["redact"]
    config["loggers"]["uvicorn.error"]["filters"] = ["quiet_startup", "client_noise"]
    config["root"] = {"handlers": ["default"], "level": level.upper()}
    config["loggers"]["faster_whisper"] = {"level": "WARNING"}  # one line per decode otherwise
    config["formatters"]["default"]["fmt"] = "%(asctime)s %(levelprefix)s %(name)s: %(message)s"
    # uvicorn's access formatter rebuilds the line from the record's arguments, which the redactor
    # has already folded into the (redacted) message: print that message as every other line is
    config["formatters"]["access"] = {**config["formatters"]["default"]}
    return config
