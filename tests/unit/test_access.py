"""Access rules: tokens (the secret, and signed ones that expire), origins, host names, and the
settings that refuse to put an unprotected server on the network."""

from __future__ import annotations

import pytest

from server.access import allowed_hosts, allowed_origins
from server.settings import SecuritySettings, is_loopback
from utils.tokens import Tokens
from websocket.admission import Handshake, host_name, origin_allowed

SECRET = "0123456789abcdef-secret"


class Clock:
    now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_signed_tokens_are_valid_until_they_expire_and_cannot_be_forged() -> None:
    clock = Clock()
    tokens = Tokens(SECRET, ttl_s=60, clock=clock)
    token, expires = tokens.mint()
    assert tokens.valid(token) and tokens.valid(SECRET) and expires == clock.now + 60
    body, _, signature = token.rpartition(".")
    later = body.replace(str(int(expires)), str(int(expires) + 3600))
    assert not tokens.valid(f"{later}.{signature}"), "a longer life needs a new signature"
    assert not Tokens("another-secret-0123", 60, clock).valid(token)
    assert not tokens.valid("") and not tokens.valid(None) and not tokens.valid("pt1.1.2")
    clock.now += 61
    assert not tokens.valid(token) and tokens.valid(SECRET)
    assert not tokens.is_secret(token) and tokens.is_secret(SECRET)


def handshake(origin: str | None, host: str = "127.0.0.1:8000", scheme: str = "ws") -> Handshake:
    return Handshake("127.0.0.1", scheme, host, origin, None, ())


@pytest.mark.parametrize(
    ("origin", "allowed", "admitted"),
    [
        (None, None, True),
        ("http://127.0.0.1:8000", None, True),
        ("http://127.0.0.1:8000/", None, True),
        ("http://127.0.0.1:8001", None, False),
        ("https://127.0.0.1:8000", None, False),
        ("http://localhost:8000", None, False),
        ("null", None, False),
        ("null", frozenset({"*"}), True),
        ("https://app.example", frozenset({"https://app.example"}), True),
        ("http://127.0.0.1:8000", frozenset({"https://app.example"}), False),
    ],
)
def test_origins(origin: str | None, allowed: frozenset[str] | None, admitted: bool) -> None:
    assert origin_allowed(handshake(origin), allowed) is admitted


def test_a_page_behind_tls_is_same_origin_with_its_wss_socket() -> None:
    assert origin_allowed(handshake("https://talk.example", host="talk.example", scheme="wss"), None)


@pytest.mark.parametrize(
    ("header", "name"), [("127.0.0.1:8000", "127.0.0.1"), ("LOCALHOST", "localhost"), ("[::1]:80", "::1"), (None, "")]
)
def test_host_names(header: str | None, name: str) -> None:
    assert host_name(header) == name


def test_served_host_names_follow_the_bind_address_unless_listed() -> None:
    default = SecuritySettings(_env_file=None)
    assert allowed_hosts(default, "127.0.0.1") == frozenset({"localhost", "127.0.0.1", "::1"})
    assert allowed_hosts(default, "0.0.0.0") is None
    listed = SecuritySettings(_env_file=None, allowed_hosts="Talk.Example, [::1]")
    assert allowed_hosts(listed, "0.0.0.0") == frozenset({"talk.example", "::1"})
    assert allowed_origins(SecuritySettings(_env_file=None, allowed_origins="https://a.example/")) == frozenset(
        {"https://a.example"}
    )


@pytest.mark.parametrize(
    ("host", "settings", "problems"),
    [
        ("127.0.0.1", {}, []),
        ("0.0.0.0", {}, ["AUTH_TOKEN is required: HOST=0.0.0.0 is not a loopback address (or set AUTH=off to serve "
                         "without one)"]),
        ("0.0.0.0", {"auth": "off"}, []),
        ("0.0.0.0", {"auth_token": SECRET}, []),
        ("127.0.0.1", {"auth": "required"}, ["AUTH_TOKEN is required: AUTH=required (or set AUTH=off to serve "
                                             "without one)"]),
    ],
)  # fmt: skip
def test_a_server_on_the_network_needs_a_token_or_an_explicit_off(
    host: str, settings: dict[str, str], problems: list[str]
) -> None:
    assert [str(p) for p in SecuritySettings(_env_file=None, **settings).problems(host)] == problems  # type: ignore[arg-type]


def test_a_token_set_on_loopback_is_required_too_and_must_be_usable_anywhere() -> None:
    assert SecuritySettings(_env_file=None, auth_token=SECRET).token_required("127.0.0.1")
    for unusable in ("short", "has spaces in it, sixteen+"):
        with pytest.raises(ValueError, match="at least 16"):
            SecuritySettings(_env_file=None, auth_token=unusable)
    assert is_loopback("::1") and is_loopback("localhost") and not is_loopback("0.0.0.0") and not is_loopback("")
