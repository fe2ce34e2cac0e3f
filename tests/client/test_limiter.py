from __future__ import annotations

import asyncio
import time

from naive_nb.client._limiter import Gate, Limiter, Priority, Ticket


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


# -- the line: submits before polls when the budget is short (issue 10) -------------------------
def _budget(gate: Gate, remaining: int, *, limit: int = 60, reset: float = 160.0) -> None:
    headers = {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{reset:g}",
    }
    gate.done(100.0, probe=False, status=200, retry_after=None, headers=headers)


def test_when_the_budget_is_short_a_submit_goes_before_a_poll_and_the_poll_waits() -> None:
    gate = Gate()
    _budget(gate, 1)
    gate.join(1, Priority.POLL)  # the poll came first
    gate.join(2, Priority.WORK)
    poll = gate.admit(100.0, 1, Priority.POLL)
    assert not poll.go and poll.until == 160.0  # the last request is the submit's
    assert gate.admit(100.0, 2, Priority.WORK).go
    assert not gate.admit(101.0, 1, Priority.POLL).go  # spent: deferred...
    assert gate.admit(160.0, 1, Priority.POLL).go  # ...never dropped: it goes with the window


def test_with_budget_to_spare_a_poll_does_not_wait_for_submits() -> None:
    gate = Gate()
    _budget(gate, 3)
    gate.join(1, Priority.WORK)
    gate.join(2, Priority.WORK)
    gate.join(3, Priority.POLL)
    assert gate.admit(100.0, 3, Priority.POLL).go  # 3 left, 2 ahead: room for all three
    assert gate.admit(100.0, 1, Priority.WORK).go and gate.admit(100.0, 2, Priority.WORK).go


def test_polls_go_in_the_order_they_came() -> None:
    gate = Gate()
    _budget(gate, 1)
    gate.join(1, Priority.POLL)
    gate.join(2, Priority.POLL)
    assert not gate.admit(100.0, 2, Priority.POLL).go
    assert gate.admit(100.0, 1, Priority.POLL).go


def test_a_new_window_starts_with_the_limit() -> None:
    gate = Gate()
    _budget(gate, 0, limit=3)
    assert not gate.admit(159.0).go
    for _ in range(3):
        assert gate.admit(160.0).go
    assert not gate.admit(160.5).go  # three a window, counted before any reply comes back
    # a late reply of the old window (its reset) does not roll the budget back
    _budget(gate, 2, limit=3, reset=160.0)
    assert not gate.admit(161.0).go


def test_after_a_429_pause_the_first_in_line_probes() -> None:
    gate = Gate()
    gate.done(0.0, probe=False, status=429, retry_after=2.0)
    gate.join(1, Priority.POLL)
    gate.join(2, Priority.WORK)
    waiting = gate.admit(2.0, 1, Priority.POLL)
    assert not waiting.go and waiting.until is None  # the submit probes; the poll waits for it
    assert gate.admit(2.0, 2, Priority.WORK).probe
    gate.done(2.1, probe=True, status=200, retry_after=None)
    assert gate.admit(2.1, 1, Priority.POLL).go


def test_jobs_run_ahead_of_the_steady_cap_only_when_the_budget_is_short() -> None:
    gate = Gate()
    assert not gate.may_run_ahead(100.0, 8, 8)  # no budget known: the cap holds
    _budget(gate, 50)
    assert not gate.may_run_ahead(100.0, 8, 8)  # 50 carry 8 in flight and 8 more (3 each)
    _budget(gate, 47)
    assert gate.may_run_ahead(100.0, 8, 8)  # short: feed the workers while requests are left
    assert not gate.may_run_ahead(100.0, 60, 8)  # never more in flight than a window's requests
    gate.done(100.0, probe=False, status=429, retry_after=5.0)
    assert not gate.may_run_ahead(101.0, 8, 8)  # not while a 429 pause is on
    assert not gate.may_run_ahead(160.0, 8, 8)  # a new window: 60 left, ample again


async def test_the_limiter_lets_a_waiting_submit_go_before_waiting_polls() -> None:
    now = [100.0]
    limiter = Limiter(clock=lambda: now[0])
    out = await limiter.acquire()
    limiter.release(
        out,
        status=200,
        headers={
            "X-RateLimit-Limit": "60",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": "160",
        },
    )
    admitted: list[str] = []

    async def ask(name: str, priority: Priority) -> None:
        await limiter.acquire(priority=priority)
        admitted.append(name)

    waiting = [asyncio.ensure_future(ask(f"poll{n}", Priority.POLL)) for n in range(3)]
    waiting.append(asyncio.ensure_future(ask("submit", Priority.WORK)))
    await asyncio.sleep(0)
    assert admitted == []  # the window is spent: everyone waits
    # the window resets, and a reply says two requests are left in it
    now[0] = 160.0
    limiter.release(
        Ticket(probe=False),
        status=200,
        headers={
            "X-RateLimit-Limit": "60",
            "X-RateLimit-Remaining": "2",
            "X-RateLimit-Reset": "220",
        },
    )
    for _ in range(5):
        await asyncio.sleep(0)
    assert "submit" in admitted and len(admitted) == 2  # the submit's place was kept
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)
    assert not any(limiter.gate.in_line(n) for n in range(10))  # the cancelled left the line


async def test_the_default_slots_follow_the_budget_and_a_set_cap_is_exact() -> None:
    soft = Limiter(clock=lambda: 100.0)
    exact = Limiter(max_jobs_in_flight=8, clock=lambda: 100.0)
    for limiter in (soft, exact):
        _budget(limiter.gate, 50, limit=12)
    taken = {id(soft): 0, id(exact): 0}

    async def take(limiter: Limiter) -> None:
        await limiter.slots.take()
        taken[id(limiter)] += 1

    tasks = [asyncio.ensure_future(take(lim)) for lim in (soft, exact) for _ in range(20)]
    for _ in range(5):
        await asyncio.sleep(0)
    assert taken == {id(soft): 8, id(exact): 8}  # ample budget: the steady cap
    for limiter in (soft, exact):
        _budget(limiter.gate, 20, limit=12)  # short now
        limiter.slots.grant()
    for _ in range(5):
        await asyncio.sleep(0)
    # the default runs ahead, up to a window's requests (12); a cap the caller set holds
    assert taken == {id(soft): 12, id(exact): 8}
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
