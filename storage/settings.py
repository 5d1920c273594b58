"""Settings of the session store: where conversations are kept, and for how long (README: Memory)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from config import EnvSettings


class StorageSettings(EnvSettings):
    """Sessions on disk: the store, its directory, retention, and what `reset` keeps."""

    session_store: Literal["sqlite", "memory"] = Field(
        "sqlite", description="sqlite: sessions survive restarts (one file in DATA_DIR); memory: forgotten at exit."
    )
    data_dir: str = Field("data", description="Directory of the SQLite file (created on first run).")
    session_retention_days: float = Field(
        30.0, ge=0, description="A stored session not updated for this long is deleted; 0: kept for ever."
    )
    reset_keeps_archive: bool = Field(
        False, description="false: `reset` deletes the conversation; true: it is kept as an archived session "
        "(listed and exported by /v1/sessions, deleted by retention)."
    )  # fmt: skip
    sqlite_synchronous: Literal["NORMAL", "FULL"] = Field(
        "NORMAL", description="NORMAL: safe against a crashed process; FULL: also against a power cut (slower)."
    )
