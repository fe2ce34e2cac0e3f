"""The facts other layers read from ``naive_nb.client``: each stated once, here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import naive_nb.client as client
from naive_nb.errors import ValidationError


def test_every_exported_name_resolves() -> None:
    for name in client.__all__:
        assert getattr(client, name) is not None, name


def test_the_lazy_names_are_exported_and_visible_to_type_checkers() -> None:
    tree = ast.parse(Path(client.__file__).read_text(encoding="utf-8"))
    checked: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for stmt in node.body:
                if isinstance(stmt, ast.ImportFrom):
                    checked.update(alias.name for alias in stmt.names)
    assert set(client._LAZY) == checked == set(client.__all__)
    with pytest.raises(AttributeError, match="NoSuchThing"):
        client.NoSuchThing  # noqa: B018


@pytest.mark.parametrize("job_id", ["", "a/b", "x" * 201, None, 7])
def test_check_job_id_refuses_what_cannot_be_one_path_segment(job_id: object) -> None:
    with pytest.raises(ValidationError) as caught:
        client.check_job_id(job_id)  # type: ignore[arg-type]
    assert caught.value.field == "job_id"


def test_check_job_id_returns_a_good_id() -> None:
    assert client.check_job_id("1f0c-ab") == "1f0c-ab"
    assert client.check_job_id("x" * 200) == "x" * 200


@pytest.mark.parametrize(
    ("data", "declared", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n...", "image/jpeg", "image/png"),  # the bytes win
        (b"\xff\xd8\xff\xe0...", None, "image/jpeg"),
        (b"RIFF....WEBP", "image/webp; q=1", "image/webp"),
        (b"??", None, "application/octet-stream"),
    ],
)
def test_sniff_content_type(data: bytes, declared: str | None, expected: str) -> None:
    assert client.sniff_content_type(data, declared) == expected


def test_labels_match_what_the_embedded_server_reports() -> None:
    from naive_nb.local import render  # the test may read the server; the client may not

    assert client.LOCAL_ENGINE == render.ENGINE_LABEL
    local = client.Backend("http://127.0.0.1:1", None, local=True)
    assert local.label == client.LOCAL_BACKEND
    assert client.Backend("http://127.0.0.1:1", None, local=False).label != client.LOCAL_BACKEND


def test_the_default_model_is_the_documented_default() -> None:
    default = client.documented_model(client.DEFAULT_MODEL)
    assert default is not None and default.default
