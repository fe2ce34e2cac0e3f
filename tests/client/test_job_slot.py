"""``AsyncClient.job_slot()``: the public hold on one of the ``max_jobs_in_flight`` slots that
``generate`` uses, for callers (the run layer) that run their own submits and waits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from naive_nb.client import JobSlot
from naive_nb.client._async import AsyncClient

MODEL = "fal-ai/flux/schnell"


async def _settle() -> None:
    """Let every ready task run a few steps (no clock involved)."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_no_more_than_the_cap_hold_a_slot_at_once(
    mock_client: Callable[..., AsyncClient],
) -> None:
    inside = peak = 0

    async def hold(client: AsyncClient) -> None:
        nonlocal inside, peak
        async with client.job_slot() as slot:
            assert slot.held
            inside += 1
            peak = max(peak, inside)
            await _settle()
            inside -= 1

    async with mock_client(max_jobs_in_flight=2) as client:
        await asyncio.gather(*(hold(client) for _ in range(5)))
    assert (peak, inside) == (2, 0)


async def test_generate_holds_a_slot_from_submit_to_download(
    mock_client: Callable[..., AsyncClient],
) -> None:
    waiting: list[asyncio.Future[JobSlot]] = []
    blocked_while_generating: list[bool] = []

    async def on_submitted(job: Any) -> None:
        # generate holds the only slot now: another holder must wait for it
        waiting.append(asyncio.ensure_future(client.job_slot().acquire()))
        await _settle()
        blocked_while_generating.append(not waiting[0].done())

    async with mock_client(max_jobs_in_flight=1) as client:
        result = await client.generate("a cat", seed=1, on_submitted=on_submitted)
        slot = await waiting[0]  # given back once generate returned
        assert result.images and slot.held
        slot.release()
    assert blocked_while_generating == [True]


async def test_a_second_release_does_not_raise_the_cap(
    mock_client: Callable[..., AsyncClient],
) -> None:
    async with mock_client(max_jobs_in_flight=1) as client:
        first = await client.job_slot().acquire()
        with pytest.raises(RuntimeError):
            await first.acquire()  # one slot object is one hold
        first.release()
        first.release()  # nothing more to give back
        holder = await client.job_slot().acquire()
        second = asyncio.ensure_future(client.job_slot().acquire())
        await _settle()
        assert not second.done()  # still a cap of one
        holder.release()
        (await second).release()


async def test_a_cancelled_wait_for_a_slot_takes_none(
    mock_client: Callable[..., AsyncClient],
) -> None:
    async with mock_client(max_jobs_in_flight=1) as client:
        holder = await client.job_slot().acquire()
        slot = client.job_slot()
        waiter = asyncio.ensure_future(slot.acquire())
        await _settle()
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert not slot.held
        holder.release()
        again = await client.job_slot().acquire()  # the one slot is free: nobody kept it
        later = asyncio.ensure_future(client.job_slot().acquire())
        await _settle()
        assert not later.done()
        again.release()
        (await later).release()


async def test_the_run_layer_holds_the_clients_slots(
    mock_client: Callable[..., AsyncClient],
) -> None:
    # the runner's JobSlots find the client's public job_slot (a renamed method would leave
    # every run uncapped without a word)
    from naive_nb.run.keeper import JobSlots

    async with mock_client(max_jobs_in_flight=2) as client:
        slots = JobSlots.of(client)
        await slots.acquire()
        await slots.acquire()
        third = asyncio.ensure_future(slots.acquire())
        await _settle()
        assert not third.done()  # the client's cap of two holds for the run too
        slots.release()
        await third
        slots.release()
        slots.release()
        slots.release()  # more releases than holds give nothing back twice
        held = [await client.job_slot().acquire() for _ in range(2)]
        extra = asyncio.ensure_future(client.job_slot().acquire())
        await _settle()
        assert not extra.done()
        for slot in held:
            slot.release()
        (await extra).release()
