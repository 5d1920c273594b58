"""The access rules of this process, from its settings: which tokens open /ws, which origins and
host names are served (SECURITY.md describes them)."""

from __future__ import annotations

from server.settings import LimitSettings, SecuritySettings, is_loopback, split_list
from utils.tokens import Tokens
from websocket.admission import LOOPBACK_NAMES, AdmissionPolicy


def tokens(security: SecuritySettings, host: str) -> Tokens | None:
    """The token check, where one is required."""
    secret = security.auth_token.get_secret_value()
    return Tokens(secret, security.token_ttl_s) if secret and security.token_required(host) else None


def allowed_hosts(security: SecuritySettings, host: str) -> frozenset[str] | None:
    listed = split_list(security.allowed_hosts)
    if "*" in listed:
        return None
    if listed:
        return frozenset(name.lower().strip("[]") for name in listed)
    return LOOPBACK_NAMES if is_loopback(host) else None


def allowed_origins(security: SecuritySettings) -> frozenset[str] | None:
    listed = split_list(security.allowed_origins)
    return frozenset(origin.rstrip("/") for origin in listed) if listed else None


def admission_policy(security: SecuritySettings, limits: LimitSettings, host: str) -> AdmissionPolicy:
    return AdmissionPolicy(
        tokens(security, host), allowed_origins(security), allowed_hosts(security, host),
        limits.max_connections_per_address,
    )  # fmt: skip
