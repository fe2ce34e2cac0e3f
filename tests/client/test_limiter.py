from __future__ import annotations

import asyncio
import time

from naive_nb.client._limiter import Gate, Limiter


def test_a_429_pauses_everyone_then_one_probe_goes_first() -> None:
    gate = Gate()
    assert gate.admit(100.0).go
    gate.done(100.0, probe=False, status=429, retry_after=2.0)
    # nothing goes out during the pause, whoever asks
    for now in (100.1, 101.0, 101.99):
        admission = gate.admit(now)
        assert not admission.go and admission.until == 102.0
    probe = gate.admit(102.0)
    assert probe.go and probe.probe
    # while the probe is out, the others wait for it (no deadline: until it returns)
    waiting = gate.admit(102.1)
    assert not waiting.go and waiting.until is None
    gate.done(102.2, probe=True, status=200, retry_after=None)
    assert gate.admit(102.2).go
    assert gate.admit(102.2).go  # and everyone else follows


def test_a_failed_probe_starts_a_new_pause() -> None:
    gate = Gate()
    gate.done(0.0, probe=False, status=429, retry_after=1.0)
    assert gate.admit(1.0).probe
    gate.done(1.1, probe=True, status=429, retry_after=3.0)
    assert gate.admit(2.0).until == 4.1
    assert gate.admit(4.1).probe


def test_a_probe_without_reply_lets_the_others_go() -> None:
    gate = Gate()
    gate.done(0.0, probe=False, status=429, retry_after=1.0)
    assert gate.admit(1.0).probe
    gate.done(1.5, probe=True, status=None, retry_after=None)
    assert gate.admit(1.5).go


def test_concurrent_429s_extend_never_shorten_the_pause() -> None:
    gate = Gate()
    gate.done(0.0, probe=False, status=429, retry_after=5.0)
    gate.done(0.1, probe=False, status=429, retry_after=1.0)
    assert gate.admit(2.0).until == 5.0


def test_budget_from_rate_limit_headers() -> None:
    gate = Gate()
    headers = {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "2", "X-RateLimit-Reset": "160"}
    gate.done(100.0, probe=False, status=200, retry_after=None, headers=headers)
    assert gate.admit(100.0).go
    assert gate.admit(100.0).go  # counts requests in flight before their replies land
    blocked = gate.admit(100.0)
    assert not blocked.go and blocked.until == 160.0
    assert gate.admit(160.0).go  # a new window


def test_stale_budget_replies_do_not_roll_the_window_back() -> None:
    gate = Gate()
    gate.done(
        0,
        probe=False,
        status=200,
        retry_after=None,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "60"},
    )
    gate.done(
        0,
        probe=False,
        status=200,
        retry_after=None,
        headers={"x-ratelimit-remaining": "5", "x-ratelimit-reset": "0"},
    )
    assert not gate.admit(10).go


async def test_limiter_holds_concurrent_callers_until_the_probe_returns() -> None:
    limiter = Limiter()
    order: list[str] = []
    first = await limiter.acquire()
    limiter.release(first, status=429, retry_after=0.3)
    started = time.time()

    async def call(name: str) -> None:
        ticket = await limiter.acquire()
        order.append(f"{name}:{'probe' if ticket.probe else 'go'}@{time.time() - started:.2f}")
        await asyncio.sleep(0.2 if ticket.probe else 0)  # a slow probe
        limiter.release(ticket, status=200)
        order.append(f"{name}:done")

    await asyncio.gather(call("a"), call("b"), call("c"))
    prober = order[0].split(":")[0]
    assert order[0].startswith(f"{prober}:probe")
    assert float(order[0].rsplit("@", 1)[1]) >= 0.29
    assert order[1] == f"{prober}:done"  # the others waited for the probe's reply
    assert all(":go@" in o or o.endswith(":done") for o in order[2:])
    assert len(order) == 6


async def test_jobs_in_flight_cap() -> None:
    limiter = Limiter(max_jobs_in_flight=2)
    active = peak = 0

    async def job() -> None:
        nonlocal active, peak
        async with limiter.jobs:
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.01)
            active -= 1

    await asyncio.gather(*(job() for _ in range(6)))
    assert peak == 2
