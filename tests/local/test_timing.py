"""Job times: duration distributions, slow jobs, a queue delay before `processing`, and replies
without `progress`. Distributions are checked from the duration function over many job ids (no
clocks); the HTTP tests check what a client sees, in order, never how fast."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from naive_nb import cli
from naive_nb.local import LocalServer, ServerConfig, Timing, serve_local, timing

IDS = [f"job-{i}" for i in range(20_000)]


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[round(q * (len(ordered) - 1))]


def durations(times: Timing, estimate: float = 10.0) -> list[float]:
    return [times.duration(job_id, estimate) for job_id in IDS]


# -- the distributions, from the duration function ---------------------------------------------


def test_defaults_are_todays_uniform_spread_with_progress_and_no_queue() -> None:
    config = ServerConfig(api_keys=("k",))
    assert config.timing == Timing()
    assert (config.timing.distribution, config.timing.spread) == ("uniform", 0.2)
    assert config.timing.queue_delay == 0 and config.timing.slow_rate == 0
    assert config.timing.omit_progress is False
    values = durations(config.timing)
    assert 8.0 <= min(values) < 8.01 and 11.99 < max(values) <= 12.0  # 10 s +-20 %, all of it
    assert quantile(values, 0.5) == pytest.approx(10.0, rel=0.01)
    assert all(config.timing.queue_wait(job_id, 1.0) == 0 for job_id in IDS[:100])


def test_draws_are_the_same_per_job_id_and_seed_and_differ_across_seeds() -> None:
    times = Timing(distribution="lognormal", slow_rate=0.2, queue_delay=2.0)
    again = Timing(distribution="lognormal", slow_rate=0.2, queue_delay=2.0)
    other = Timing(distribution="lognormal", slow_rate=0.2, queue_delay=2.0, seed=1)
    for job_id in IDS[:200]:
        assert times.duration(job_id, 5) == again.duration(job_id, 5) == times.duration(job_id, 5)
        assert times.queue_wait(job_id, 1.0) == again.queue_wait(job_id, 1.0)
    changed = sum(times.duration(j, 5) != other.duration(j, 5) for j in IDS[:200])
    assert changed == 200
    assert times.duration("a", 5) != times.duration("b", 5)


@pytest.mark.parametrize(("sigma", "p95_ratio"), [(0.25, 1.51), (0.35, 1.78), (0.42, 2.0)])
def test_lognormal_has_its_median_at_the_estimate_and_the_p95_sigma_sets(
    sigma: float, p95_ratio: float
) -> None:
    values = durations(Timing(distribution="lognormal", sigma=sigma))
    median = quantile(values, 0.5)
    assert median == pytest.approx(10.0, rel=0.01)
    assert quantile(values, 0.95) / median == pytest.approx(p95_ratio, rel=0.02)
    assert quantile(values, 0.95) / median == pytest.approx(math.exp(1.6449 * sigma), rel=0.02)
    assert quantile(values, 0.05) / median == pytest.approx(math.exp(-1.6449 * sigma), rel=0.02)
    assert min(values) > 0


def test_uniform_follows_its_spread() -> None:
    values = durations(Timing(spread=0.5), estimate=4.0)
    assert 2.0 <= min(values) < 2.01 and 5.99 < max(values) <= 6.0
    assert quantile(values, 0.5) == pytest.approx(4.0, rel=0.01)
    assert quantile(values, 0.95) == pytest.approx(4.0 * 1.45, rel=0.01)
    assert set(durations(Timing(spread=0.0))) == {10.0}


def test_slow_jobs_are_the_fraction_asked_for_and_take_the_factor_longer() -> None:
    values = durations(Timing(spread=0.0, slow_rate=0.1, slow_factor=3.0))
    assert set(values) == {10.0, 30.0}
    assert values.count(30.0) / len(values) == pytest.approx(0.1, abs=0.006)  # 4 sd of 20,000
    # on a log-normal body the tail is what moves p95, while the median barely shifts
    tail = durations(Timing(distribution="lognormal", slow_rate=0.1, slow_factor=3.0))
    body = durations(Timing(distribution="lognormal"))
    assert quantile(tail, 0.5) / quantile(body, 0.5) == pytest.approx(1.06, abs=0.03)
    assert quantile(tail, 0.95) / quantile(body, 0.95) > 1.5


def test_queue_waits_are_exponential_with_the_mean_asked_for_and_scale_with_time() -> None:
    times = Timing(queue_delay=2.0)
    waits = [times.queue_wait(job_id, 1.0) for job_id in IDS]
    assert sum(waits) / len(waits) == pytest.approx(2.0, rel=0.03)
    assert quantile(waits, 0.5) == pytest.approx(2.0 * math.log(2), rel=0.03)
    assert quantile(waits, 0.95) == pytest.approx(2.0 * math.log(20), rel=0.03)
    assert min(waits) >= 0
    assert times.queue_wait("job-1", 0.1) == pytest.approx(0.1 * times.queue_wait("job-1", 1.0))
    # the queue is apart from the duration: the same ids last as long with or without it
    assert durations(times) == durations(Timing())


def test_the_server_scales_estimates_and_draws_by_its_timing() -> None:
    times = Timing(distribution="lognormal", queue_delay=3.0)
    with serve_local(api_key="k", time_scale=0.5, timing=times) as server:
        assert server.timing is times
        engine = server.state.engine
        assert engine.duration_for("job-7", 10) == times.duration("job-7", 5.0)
        assert engine.queue_wait_for("job-7") == times.queue_wait("job-7", 0.5)
        server.timing.distribution = "uniform"  # switched while it runs: the next draws follow
        assert 4.0 <= engine.duration_for("job-7", 10) <= 6.0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("distribution", "gamma", "Timing.distribution must be one of: uniform, lognormal"),
        ("spread", 1.5, "Timing.spread must be a fraction from 0 to 1, got 1.5."),
        ("sigma", -0.1, "Timing.sigma must be a number from 0 to 3, got -0.1."),
        ("slow_rate", "0.1", "Timing.slow_rate must be a fraction from 0 to 1, got '0.1'."),
        ("slow_factor", 0, "Timing.slow_factor must be a number above 0"),
        ("queue_delay", math.inf, "Timing.queue_delay must be 0 or more seconds, got inf."),
        ("omit_progress", 1, "Timing.omit_progress must be True or False, got 1."),
        ("seed", 1.5, "Timing.seed must be an integer, got 1.5."),
    ],
)
def test_bad_values_are_refused_naming_the_field(field: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace(".", r"\.")):
        Timing(**{field: value})
    times = Timing()
    with pytest.raises(ValueError, match="^" + message.replace(".", r"\.")):
        setattr(times, field, value)  # at run time too, before any job is drawn from it
    assert times == Timing()


def test_spread_is_a_shortcut_for_timing_but_not_both() -> None:
    with serve_local(api_key="k", spread=0.1) as server:
        assert server.timing == Timing(spread=0.1)
    with pytest.raises(ValueError, match=r"Give spread inside timing \(Timing\(spread=\.\.\.\)\)"):
        serve_local(api_key="k", spread=0.1, timing=Timing())


# -- over real HTTP ------------------------------------------------------------------------------


def _client(server: LocalServer) -> httpx.Client:
    headers = {"Authorization": f"Bearer {server.api_key}"}
    return httpx.Client(base_url=server.url, headers=headers, timeout=10)


def _statuses_until_done(api: httpx.Client, job_id: str) -> Iterator[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job: dict[str, Any] = api.get(f"/v1/jobs/{job_id}").json()
        yield job
        if job["status"] in ("completed", "failed", "cancelled"):
            return
        time.sleep(0.01)
    raise AssertionError(f"job {job_id} did not finish in 30 s")


def test_a_queue_delay_shows_as_queued_before_processing(monkeypatch: pytest.MonkeyPatch) -> None:
    times = Timing(queue_delay=5.0)  # mean 1 s at time scale 0.2
    # a job id whose wait is over a second: the looks in between cannot all miss it
    job_id = next(j for j in IDS if 1.0 <= times.queue_wait(j, 0.2) <= 1.5)
    monkeypatch.setattr("naive_nb.local.app.new_id", lambda: job_id)
    with serve_local(api_key="k", time_scale=0.2, timing=times, rate_limit=None) as server:
        api = _client(server)
        reply = api.post("/v1/images/generate", json={"input": {"prompt": "a queue"}}).json()
        assert reply["id"] == job_id and reply["estimated_seconds"] == 1  # 5 s x 0.2, no queue
        seen = list(_statuses_until_done(api, job_id))
        api.close()
    order = [job["status"] for job in seen]
    first_processing = order.index("processing")
    assert order[0] == "queued" and order[-1] == "completed"
    assert set(order[:first_processing]) == {"queued"}
    assert set(order[first_processing:-1]) == {"processing"}
    assert all(job["started_at"] is None for job in seen[:first_processing])
    assert all(job["progress"] == 0 for job in seen[:first_processing])
    done = seen[-1]
    waited = _seconds(done["started_at"]) - _seconds(done["created_at"])
    assert waited >= times.queue_wait(job_id, 0.2) - 0.01  # server clock: started after its wait


def test_a_queue_delay_comes_before_and_apart_from_waiting_for_a_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    times = Timing(queue_delay=4.0)  # mean 0.2 s at time scale 0.05
    # jobs whose waits are long enough to see: a server that skipped them would start at once
    chosen = [j for j in IDS if 0.1 <= times.queue_wait(j, 0.05) <= 0.3][:3]
    monkeypatch.setattr("naive_nb.local.app.new_id", iter(chosen).__next__)
    # one worker: after its queue wait, each job still waits for the one before it
    with serve_local(
        api_key="k", workers=1, time_scale=0.05, timing=times, rate_limit=None
    ) as server:
        api = _client(server)
        for i in range(3):
            api.post("/v1/images/generate", json={"input": {"prompt": f"p{i}"}})
        done = [list(_statuses_until_done(api, job_id))[-1] for job_id in chosen]
        api.close()
    for job in done:
        assert job["status"] == "completed"
        started = _seconds(job["started_at"]) - _seconds(job["created_at"])
        assert started >= times.queue_wait(job["id"], 0.05) - 0.01
    spans = sorted((_seconds(j["started_at"]), _seconds(j["completed_at"])) for j in done)
    assert all(later[0] >= earlier[1] - 0.01 for earlier, later in itertools.pairwise(spans))


@pytest.fixture
def quiet_server() -> Iterator[LocalServer]:
    with serve_local(
        api_key="k", time_scale=0.2, timing=Timing(omit_progress=True), rate_limit=None
    ) as server:
        yield server


def test_omit_progress_removes_progress_from_every_job_reply(quiet_server: LocalServer) -> None:
    api = _client(quiet_server)
    job_id = api.post("/v1/images/generate", json={"input": {"prompt": "quiet"}}).json()["id"]
    replies = list(_statuses_until_done(api, job_id))
    assert replies[-1]["status"] == "completed" and replies[-1]["media"]
    for reply in [
        *replies,
        api.get(f"/v1/images/{job_id}").json(),
        *api.get("/v1/jobs").json()["jobs"],
        *quiet_server.jobs(),
    ]:
        assert "progress" not in reply
        assert reply["status"]  # the rest of the reply is there
    # a switch like the faults: progress comes back on the next reply
    quiet_server.timing.omit_progress = False
    assert api.get(f"/v1/jobs/{job_id}").json()["progress"] == 100
    assert api.get("/v1/jobs").json()["jobs"][0]["progress"] == 100
    api.close()


def test_progress_is_reported_by_default(local_server: LocalServer) -> None:
    api = _client(local_server)
    job_id = api.post("/v1/images/generate", json={"input": {"prompt": "loud"}}).json()["id"]
    replies = list(_statuses_until_done(api, job_id))
    assert all(isinstance(reply["progress"], int) for reply in replies)
    assert replies[-1]["progress"] == 100
    api.close()


# -- naive-nb serve -----------------------------------------------------------------------------


def _config(*flags: str) -> ServerConfig:
    args = cli.build_parser().parse_args(["serve", *flags])
    return cli.server_config(args, "k")


def test_serve_flags_set_the_timing() -> None:
    assert _config().timing == Timing()
    flags = "--durations lognormal --sigma 0.5 --slow-rate 0.05 --slow-factor 4 --queue-delay 2"
    assert _config(*flags.split(), "--no-progress").timing == Timing(
        distribution="lognormal",
        sigma=0.5,
        slow_rate=0.05,
        slow_factor=4.0,
        queue_delay=2.0,
        omit_progress=True,
    )
    assert _config("--spread", "0.1").timing == Timing(spread=0.1)
    assert cli.DISTRIBUTIONS == timing.DISTRIBUTIONS  # --help names what the server takes


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--durations", "gamma"], "argument --durations: invalid choice: 'gamma'"),
        (["--sigma", "4"], "argument --sigma: must be from 0 to 3, got 4"),
        (["--slow-rate", "1.5"], "argument --slow-rate: must be a fraction from 0 to 1, got 1.5"),
        (["--slow-factor", "0"], "argument --slow-factor: must be above 0 (at most 1000), got 0"),
        (["--queue-delay", "-1"], "argument --queue-delay: must be 0 or more, got -1"),
    ],
)
def test_serve_refuses_bad_timing_flags(
    flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.build_parser().parse_args(["serve", *flags])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def _seconds(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
