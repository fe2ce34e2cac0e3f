"""The store, the request cache and the job journal, on a temporary directory."""

from __future__ import annotations

import io
import json
from pathlib import Path

from PIL import Image

from naive_nb.run.cache import RequestCache, canonical_json, request_key
from naive_nb.run.journal import JobJournal
from naive_nb.run.records import JobRecord, sha256_of
from naive_nb.run.store import ImagePayload, ResultStore, read_provenance


def _encoded(fmt: str, colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, format=fmt)
    return buffer.getvalue()


def _record(key: str = "k" * 64, job_id: str = "job-1") -> JobRecord:
    return JobRecord(
        job_id=job_id,
        model="fal-ai/flux/schnell",
        input={"prompt": "a fox", "seed": 42},
        cache_key=key,
        backend="127.0.0.1:8765",
        local_preview=True,
        credits_used=0.12,
        created="2026-01-01T00:00:00+00:00",
        completed="2026-01-01T00:00:05+00:00",
    )


def test_files_manifest_and_embedded_provenance(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "store")
    png, jpeg = _encoded("PNG"), _encoded("JPEG")
    saved = store.save(
        _record(),
        [
            ImagePayload(png, "image/png", 64, 48, 42),
            ImagePayload(jpeg, "image/jpeg", 64, 48, 42),
        ],
    )
    first, second = saved.files
    assert first.path.name == "1-seed42.png" and second.path.name == "2-seed42.jpg"
    for stored, original in ((first, png), (second, jpeg)):
        data = stored.path.read_bytes()
        assert sha256_of(data) == stored.sha256
        # pixels untouched: metadata was inserted, nothing re-encoded
        with Image.open(io.BytesIO(original)) as a, Image.open(stored.path) as b:
            assert a.tobytes() == b.tobytes()
        stamp = read_provenance(stored.path)
        assert stamp is not None
        assert stamp["job_id"] == "job-1" and stamp["input"] == {"prompt": "a fox", "seed": 42}
    manifest = json.loads((first.path.parent / "manifest.json").read_text())
    assert manifest["files"][0] == {
        "path": "1-seed42.png",
        "sha256": first.sha256,
        "width": 64,
        "height": 48,
        "content_type": "image/png",
        "seed": 42,
        "index": 0,
    }
    loaded = store.load("job-1")
    assert loaded is not None and loaded.files == saved.files
    assert [r.job_id for r in store.records()] == ["job-1"]


def test_a_changed_file_makes_the_record_untrusted(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    saved = store.save(_record(), [ImagePayload(_encoded("PNG"), "image/png", 64, 48, 42)])
    saved.files[0].path.write_bytes(b"changed")
    assert store.load("job-1") is None
    assert store.load("job-1", verify=False) is not None


def test_cache_key_is_canonical_and_sensitive() -> None:
    a = request_key("m", {"prompt": "x", "seed": 1, "num_images": 1})
    b = request_key("m", {"num_images": 1, "seed": 1, "prompt": "x"})
    assert a == b and len(a) == 64
    assert a != request_key("m", {"prompt": "x", "seed": 2, "num_images": 1})
    assert a != request_key("other", {"prompt": "x", "seed": 1, "num_images": 1})
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'


def test_cache_round_trip_and_misses(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    cache = RequestCache(store)
    key = request_key("fal-ai/flux/schnell", {"prompt": "a fox", "seed": 42})
    assert cache.get(key) is None
    saved = store.save(_record(key), [ImagePayload(_encoded("PNG"), "image/png", 64, 48, 42)])
    cache.put(saved)
    hit = cache.get(key)
    assert hit is not None and hit.job_id == "job-1"
    saved.files[0].path.unlink()
    assert cache.get(key) is None  # files gone: a miss, never a broken hit


def test_journal_pending_until_a_final_event(tmp_path: Path) -> None:
    journal = JobJournal(tmp_path)
    journal.submitted("a", "m", {"prompt": "x"}, "ka")
    journal.submitted("b", "m", {"prompt": "y"}, "kb")
    journal.submitted("c", "m", {"prompt": "z"}, "kc")
    journal.finished("a", "collected")
    journal.finished("c", "cancelled", "interrupted")
    assert [p.job_id for p in journal.pending()] == ["b"]
    assert journal.pending()[0].input == {"prompt": "y"}
    with journal.path.open("a") as handle:
        handle.write('{"event": "submitted", "job_id": "torn"')  # a crash mid-line
    assert [p.job_id for p in JobJournal(tmp_path).pending()] == ["b"]
