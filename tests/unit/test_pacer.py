"""Audio leaves at real time plus a bounded lead, in virtual time."""

from __future__ import annotations

import asyncio

import pytest

from engine.pacer import Pacer

pytestmark = pytest.mark.looptime
RATE = 24000
SECOND = bytes(RATE * 2)


def recorder() -> tuple[list[tuple[float, int]], Pacer]:
    sent: list[tuple[float, int]] = []
    pacer = Pacer(RATE, frame_ms=40, lead_ms=200, send_frame=lambda f: sent.append((loop_time(), len(f))))
    return sent, pacer


def loop_time() -> float:
    return asyncio.get_running_loop().time()


async def test_the_lead_goes_at_once_then_real_time() -> None:
    sent, pacer = recorder()
    start = loop_time()
    await pacer.send(SECOND)
    assert len(sent) == 25 and all(size == 1920 for _, size in sent)
    assert [t - start for t, _ in sent[:5]] == [0.0] * 5  # 200 ms of lead at once
    for index, (t, _) in enumerate(sent):
        ahead_ms = (index + 1) * 40 - (t - start) * 1000
        assert ahead_ms <= 200 + 1e-6
    assert loop_time() - start == pytest.approx(0.8, abs=0.01)
    assert await pacer.wait_for_playout() == pytest.approx(1000)
    assert loop_time() - start == pytest.approx(1.0, abs=0.01)


async def test_acks_from_a_slower_player_hold_sending_back() -> None:
    _, pacer = recorder()
    start = loop_time()
    task = asyncio.create_task(pacer.send(SECOND))
    await asyncio.sleep(0.5)
    assert pacer.sent_ms == 680  # 480 ms played by real time + the 200 ms lead
    pacer.on_playback(100)  # but the player says it is 380 ms behind that
    await asyncio.sleep(0.2)
    assert pacer.sent_ms == 680, "nothing more is sent until the player catches up"
    await task
    # the last frame leaves when the player is at 1000 - 200 ms: 0.7 s after the ack at 100 ms
    assert loop_time() - start == pytest.approx(1.2, abs=0.01)
    assert pacer.acked and pacer.played_ms() == pytest.approx(800, abs=1)


async def test_played_position_stalls_when_the_player_starves() -> None:
    _, pacer = recorder()
    await pacer.send(bytes(RATE // 10 * 2))  # 100 ms
    await asyncio.sleep(1.0)
    assert pacer.played_ms() == pytest.approx(100)
    await pacer.send(bytes(RATE // 10 * 2))
    await asyncio.sleep(0.05)
    assert pacer.played_ms() == pytest.approx(150)
