"""Keeping secrets out of everything a person or a client can read.

Provider keys are `SecretStr` settings, so printing a settings object never shows them.
`Redactor` knows every configured secret and replaces it (and anything that looks like an
API key) in text: error messages before they reach a client, and every log record through
`RedactingFilter`, since an SDK or a service may echo a key back; session ids and tokens in
query strings become a short hash or a mask.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable

from pydantic import SecretStr
from pydantic_settings import BaseSettings

MASK = "[redacted]"
MIN_SECRET_LENGTH = 6  # shorter values would redact ordinary words
# Key-shaped tokens: OpenAI-style sk-..., bearer tokens, long hex or base64 runs after "key"
_KEY_SHAPES = re.compile(r"\b(sk-[A-Za-z0-9_\-*]{8,}|Bearer\s+[A-Za-z0-9._\-]{8,})")
# Credentials in URLs (uvicorn logs the query string of every request): a session id resumes a
# conversation, so it is a bearer token too; it becomes its short hash, which still correlates.
_QUERY_SECRETS = re.compile(r"\b(session_id|token|access_token)=([^&\s\"']+)")
_SESSION_PATHS = re.compile(r"(/v1/sessions/)([^/?\s\"']+)")  # GET or DELETE /v1/sessions/{id}


def short_hash(value: str) -> str:
    """A stable 8-character stand-in for an identifier that must not be logged."""
    return "#" + hashlib.sha256(value.encode()).hexdigest()[:8]


def _mask_query(match: re.Match[str]) -> str:
    return f"{match[1]}={short_hash(match[2]) if match[1] == 'session_id' else MASK}"


class Redactor:
    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add_settings(self, settings: Iterable[BaseSettings]) -> None:
        """Learn every SecretStr value of these settings objects."""
        for item in settings:
            for name in type(item).model_fields:
                value = getattr(item, name)
                if isinstance(value, SecretStr) and len(value.get_secret_value()) >= MIN_SECRET_LENGTH:
                    self._secrets.add(value.get_secret_value())

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        text = _SESSION_PATHS.sub(lambda match: match[1] + short_hash(match[2]), text)
        return _QUERY_SECRETS.sub(_mask_query, _KEY_SHAPES.sub(MASK, text))


REDACTOR = Redactor()  # the process's; app.py teaches it the configured secrets at start


class RedactingFilter(logging.Filter):
    """Rewrites each log record's message with the secrets masked (attach to handlers)."""

    def __init__(self, redactor: Redactor = REDACTOR) -> None:
        super().__init__()
        self._redact = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self._redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            cleaned += "\n" + self._redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
            record.exc_text = None
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


def install_log_redaction(redactor: Redactor = REDACTOR) -> None:
    """Mask secrets in every record of every handler of the root logger (and uvicorn's)."""
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access"):
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter(redactor))
