"""Limits that protect everyone: sessions that make room instead of locking newcomers out,
idle connections and stalled utterances that end, audio no faster than real time, a fair
share of typed turns, and a client that stops reading dropped with its socket released."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable

import websockets
from websockets.frames import Frame, Opcode

from tests.client import Client, load_speech, silence
from tests.conftest import RunningServer, StartServer

OTHER = {"local_addr": ("127.0.0.2", 0)}


async def until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)


def open_sockets(server: RunningServer) -> int:
    """Connections uvicorn still holds (each is a socket it has not released)."""
    return len(server.server.server_state.connections)


async def test_connect_and_disconnect_floods_do_not_lock_newcomers_out(start_server: StartServer) -> None:
    server = await start_server(max_sessions=20, max_sessions_per_address=5)
    for _ in range(100):
        client = await Client.connect(server.url)
        await client.close()
    assert len(server.sessions) <= 5, "one address holds at most its share, disconnected or not"
    newcomers = [await Client.connect(server.url, connect_options=OTHER) for _ in range(5)]
    again = await Client.connect(server.url)  # the flooder's own address: its oldest session made room
    for client in [*newcomers, again]:
        await client.close()


async def test_a_newcomer_is_refused_only_when_every_session_is_connected(start_server: StartServer) -> None:
    server = await start_server(max_sessions_per_address=3)
    held = [await Client.connect(server.url) for _ in range(3)]
    async with websockets.connect(server.url) as full:
        error = json.loads(await full.recv())
        assert error["code"] == "server_busy" and "3 sessions already open from your address" in error["message"]
        await full.wait_closed()
        assert full.close_code == 1013
    neighbour = await Client.connect(server.url, connect_options=OTHER)
    for client in [*held, neighbour]:
        await client.close()


async def test_a_connection_that_sends_nothing_is_closed_while_a_talking_one_stays(start_server: StartServer) -> None:
    server = await start_server(connection_idle_timeout_s=0.5)
    idle, talking = await Client.connect(server.url), await Client.connect(server.url)
    for _ in range(12):
        await talking.send_audio(silence(100), speed=1.0)
    assert await idle.wait_closed() == 4002
    assert talking.close_code is None
    await talking.close()


async def test_speech_whose_audio_stops_arriving_ends_and_is_answered(start_server: StartServer) -> None:
    server = await start_server(mock_asr_script="half a sentence", utterance_stall_ms=300, vad_end_silence_ms=600)
    client = await Client.connect(server.url)
    await client.send_audio(silence(300) + load_speech("ocean")[: 24000 * 2], speed=1.0)  # then nothing at all
    final = await client.wait_for("final_transcript", timeout=5)
    assert final["content"] == "half a sentence"
    await client.wait_for("tts_start", turn_id=final["turn_id"])
    await client.close()


async def test_audio_faster_than_real_time_beyond_the_burst_is_refused(start_server: StartServer) -> None:
    server = await start_server(audio_burst_ms=500, max_errors_per_min=1000)
    client = await Client.connect(server.url)
    started = asyncio.get_running_loop().time()
    await client.send_audio(silence(3000), speed=1000)  # three seconds of audio in a few milliseconds
    await client.wait_for("error", code="audio_too_fast")
    elapsed_ms = (asyncio.get_running_loop().time() - started) * 1000
    accepted_ms = server.session(client.session_id).live.audio_bytes_in / 2 / 24
    assert 500 <= accepted_ms <= 500 + elapsed_ms + 20, (accepted_ms, elapsed_ms)
    await client.send("text_input", text="still here")
    await client.wait_for("tts_start")
    await client.close()


async def test_a_flood_of_typed_turns_spends_only_its_own_share(start_server: StartServer) -> None:
    server = await start_server(text_turns_per_s=2, text_turn_burst=2, max_errors_per_min=1000)
    flooder, neighbour = await Client.connect(server.url), await Client.connect(server.url)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for index in range(20):
        await flooder.send("text_input", text=f"flood {index}")

    def answered() -> int:  # each text_input is either taken (echoed) or refused
        refused = [e for e in flooder.of_type("error") if e["code"] == "rate_limited"]
        return len(flooder.of_type("final_transcript")) + len(refused)

    await until(lambda: answered() == 20)
    elapsed = loop.time() - started
    taken = len(flooder.of_type("final_transcript"))
    share = 2 / 2  # TEXT_TURNS_PER_S split between the two connections
    assert 2 <= taken <= 2 + share * elapsed + 1, f"{taken} of 20 taken in {elapsed:.2f} s"
    await neighbour.send("text_input", text="my turn")
    reply = await neighbour.wait_for("llm_response", is_complete=True)
    assert reply["content"].startswith('You said: "my turn"')
    for client in (flooder, neighbour):
        await client.close()


def never_reading_client(port: int, messages: list[str], source: str = "127.0.0.1") -> socket.socket:
    """A client that opens a conversation, sends `messages`, and never reads again (with a small
    receive window, so the server's sends back up quickly). Plain sockets: nothing reads in the background."""
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.bind((source, 0))
    raw.connect(("127.0.0.1", port))
    raw.sendall(
        f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += raw.recv(1)  # the 101 response, byte by byte: not one byte of what follows
    assert answer.startswith(b"HTTP/1.1 101"), answer
    raw.sendall(b"".join(Frame(Opcode.TEXT, m.encode()).serialize(mask=True, extensions=[]) for m in messages))
    return raw


async def test_a_client_that_stops_reading_is_dropped_and_its_socket_released(start_server: StartServer) -> None:
    server = await start_server(send_timeout_s=0.5, max_messages_per_s=1000)
    baseline = open_sockets(server)
    prompt = json.dumps({"type": "configure", "system_prompt": "x" * 4000})  # each answered with 4 KB
    port = int(server.http_url.rsplit(":", 1)[1])
    raw = await asyncio.to_thread(never_reading_client, port, [prompt] * 300)  # 1.2 MB to send back
    started = asyncio.get_running_loop().time()
    await until(lambda: open_sockets(server) > baseline)
    await until(lambda: open_sockets(server) == baseline, timeout_s=20)
    released_after = asyncio.get_running_loop().time() - started
    assert server.app.state.server.connections.admission.open_from("127.0.0.1") == 0
    print(f"a never-reading client was dropped and its socket released after {released_after:.2f} s")
    neighbour = await Client.connect(server.url)
    await neighbour.send("text_input", text="hello")
    await neighbour.wait_for("tts_start")
    await neighbour.close()
    raw.close()
