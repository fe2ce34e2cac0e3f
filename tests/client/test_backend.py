from __future__ import annotations

import pytest

from naive_nb.client import _backend
from naive_nb.client._async import AsyncClient
from naive_nb.client._backend import HOSTED_URL, Secret, resolve_backend
from naive_nb.client._sync import Client

from ..conftest import CANARY_KEY


def test_key_and_url_from_arguments_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_backend("nv_sk_live_x").base_url == HOSTED_URL
    monkeypatch.setenv("NAIVE_API_KEY", CANARY_KEY)
    backend = resolve_backend()
    assert backend.base_url == HOSTED_URL and backend.label == "hosted" and not backend.local
    assert backend.key is not None and backend.key.reveal() == CANARY_KEY
    monkeypatch.setenv("NAIVE_BASE_URL", "https://proxy.example/")
    assert resolve_backend().base_url == "https://proxy.example"
    assert resolve_backend(base_url="http://other:1").base_url == "http://other:1"
    assert resolve_backend(base_url="http://other:1").label == "custom"


@pytest.mark.usefixtures("fresh_local_backend")
def test_no_key_starts_the_embedded_server_once_and_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with Client() as first, Client() as second:
        assert first.backend == "local preview engine"
        assert first.base_url == second.base_url
        assert first.status()["credits"]["balance"] > 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "naive-nb" in line]
    assert len(lines) == 1
    assert "local preview engine" in lines[0] and "NAIVE_API_KEY" in lines[0]


@pytest.mark.usefixtures("fresh_local_backend")
async def test_async_client_uses_the_embedded_server_too() -> None:
    async with AsyncClient() as client:
        assert client.backend == "local preview engine"
        assert (await client.models())[0].default


def test_secret_hides_the_key() -> None:
    secret = Secret(CANARY_KEY)
    assert CANARY_KEY not in repr(secret) and CANARY_KEY not in str(secret)
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(secret)
    _ = _backend  # the module holds the process-wide server
