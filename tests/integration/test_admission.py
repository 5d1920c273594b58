"""Admission before accept(): only the page's own origin (or an allowed one), only host names
the server serves, a valid token where one is required, and a cap per client address. A
refused handshake gets HTTP 403 and nothing else."""

from __future__ import annotations

import asyncio
import http.client
import json
from typing import Any

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.client import Client
from tests.conftest import RunningServer, StartServer

SECRET = "a-shared-secret-of-32-characters"
Answer = tuple[int, dict[str, str], bytes]


def port_of(server: RunningServer) -> int:
    return int(server.http_url.rsplit(":", 1)[1])


async def refused(url: str, **options: Any) -> int:
    """The HTTP status of a refused handshake (fails if the handshake is accepted)."""
    with pytest.raises(InvalidStatus) as raised:
        async with websockets.connect(url, **options):
            pass
    return raised.value.response.status_code


async def request(server: RunningServer, method: str, path: str, headers: dict[str, str]) -> Answer:
    """A plain HTTP request with exactly these headers (on a thread: the server runs on this loop)."""

    def blocking() -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", port_of(server), timeout=5)
        connection.request(method, path, headers={"Host": "127.0.0.1", **headers})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()

    return await asyncio.to_thread(blocking)


async def test_only_the_pages_own_origin_may_open_a_conversation(start_server: StartServer) -> None:
    server = await start_server()
    own = server.http_url
    for origin in ("http://evil.example", "null", own.replace("127.0.0.1", "localhost"), f"{own}0"):
        assert await refused(server.url, origin=origin) == 403, origin
    client = await Client.connect(server.url, connect_options={"origin": own})
    await client.close()
    client = await Client.connect(server.url)  # not a browser: no Origin at all
    await client.close()


async def test_allowed_origins_are_the_only_other_pages_admitted(start_server: StartServer) -> None:
    server = await start_server(allowed_origins="https://app.example, https://other.example/")
    for origin in ("https://app.example", "https://other.example"):
        client = await Client.connect(server.url, connect_options={"origin": origin})
        await client.close()
    assert await refused(server.url, origin=server.http_url) == 403, "the list replaces same-origin"


async def test_a_host_name_the_server_does_not_serve_is_refused(start_server: StartServer) -> None:
    server = await start_server()
    rebound = server.url.replace("127.0.0.1", "attacker.example")  # DNS rebinding: the attacker's name, our address
    assert await refused(rebound, host="127.0.0.1", port=port_of(server)) == 403
    status, _, body = await request(server, "GET", "/", {"Host": "attacker.example"})
    assert (status, body) == (400, b"Invalid host header")
    assert (await request(server, "GET", "/", {"Host": f"localhost:{port_of(server)}"}))[0] == 200


async def test_a_token_is_needed_where_one_is_set(start_server: StartServer) -> None:
    server = await start_server(auth_token=SECRET)
    assert await refused(server.url) == 403
    assert await refused(server.url, additional_headers={"Authorization": "Bearer wrong-token-wrong-token"}) == 403
    for options in (
        {"additional_headers": {"Authorization": f"Bearer {SECRET}"}},
        {"subprotocols": ["parley", f"parley.token.{SECRET}"]},
    ):
        async with websockets.connect(server.url, **options) as ws:
            assert json.loads(await ws.recv())["type"] == "session"
            if "subprotocols" in options:
                assert ws.subprotocol == "parley", "the token itself is never echoed back"
    client = await Client.connect(f"{server.url}?token={SECRET}")
    await client.close()


async def test_a_backend_mints_short_lived_tokens_with_the_secret(start_server: StartServer) -> None:
    server = await start_server(auth_token=SECRET, token_ttl_s=60)
    status, _, body = await request(server, "POST", "/v1/tokens", {"Authorization": f"Bearer {SECRET}"})
    minted = json.loads(body)
    assert status == 200 and minted["token"].startswith("pt1.") and minted["token"] != SECRET
    client = await Client.connect(server.url, token=minted["token"])
    await client.close()
    chained = await request(server, "POST", "/v1/tokens", {"Authorization": f"Bearer {minted['token']}"})
    assert chained[0] == 401, "a minted token mints nothing"
    assert (await request(server, "POST", "/v1/tokens", {}))[0] == 401


async def test_health_shows_details_only_with_a_token_where_one_is_required(start_server: StartServer) -> None:
    server = await start_server(auth_token=SECRET)
    _, _, anonymous = await request(server, "GET", "/healthz", {})
    assert json.loads(anonymous).keys() == {"status", "ready", "protocol_version", "auth_required", "authorized"}
    _, _, detailed = await request(server, "GET", "/healthz", {"Authorization": f"Bearer {SECRET}"})
    assert json.loads(detailed)["providers"] == {"asr": "mock", "llm": "mock", "tts": "mock"}
    _, _, access = await request(server, "GET", "/v1/access", {})
    assert json.loads(access) == {"auth_required": True, "authorized": False}


async def test_each_address_may_hold_only_so_many_connections(start_server: StartServer) -> None:
    server = await start_server(max_connections_per_address=3)
    admission = server.app.state.server.connections.admission
    held = [await Client.connect(server.url) for _ in range(3)]
    assert await refused(server.url) == 403
    neighbour = await Client.connect(server.url, connect_options={"local_addr": ("127.0.0.2", 0)})
    await held.pop().close()
    async with asyncio.timeout(5):
        while admission.open_from("127.0.0.1") != 2:
            await asyncio.sleep(0.01)
    held.append(await Client.connect(server.url))
    for client in [*held, neighbour]:
        await client.close()


async def test_the_page_carries_security_headers_and_the_api_docs_are_off(start_server: StartServer) -> None:
    server = await start_server()
    status, headers, _ = await request(server, "GET", "/", {})
    assert status == 200 and "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"
    assert "microphone=(self)" in headers["permissions-policy"]
    assert (await request(server, "GET", "/docs", {}))[0] == 404
    assert (await request(server, "GET", "/openapi.json", {}))[0] == 404
