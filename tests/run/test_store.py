"""The store, the request cache and the job journal, on a temporary directory."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from naive_nb.run.cache import RequestCache, canonical_json, request_key
from naive_nb.run.journal import JobJournal
from naive_nb.run.records import JobRecord, sha256_of
from naive_nb.run.store import EmptyResult, ImagePayload, ResultStore, read_provenance


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
        assert stamp["input"] == {"prompt": "a fox", "seed": 42} and stamp["model"]
        # what made the image, not the one job that ran it: the same request, the same bytes
        assert not {"job_id", "created", "completed", "credits_used"} & set(stamp)
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


def test_the_store_refuses_a_job_with_no_images_and_never_serves_one(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    key = request_key("fal-ai/flux/schnell", {"prompt": "a fox", "seed": 42})
    with pytest.raises(EmptyResult):
        store.save(_record(key), [])
    assert not store.job_dir("job-1").exists()
    # a manifest with no files (as an older version wrote them) is no result either
    directory = store.job_dir("job-2")
    directory.mkdir(parents=True)
    (directory / "manifest.json").write_text(json.dumps(_record(key, "job-2").to_json()))
    (tmp_path / "_cache").mkdir()
    (tmp_path / "_cache" / f"{key}.json").write_text(json.dumps({"job_id": "job-2"}))
    assert store.load("job-2") is None and store.load("job-2", verify=False) is None
    lookup = RequestCache(store).lookup(key)
    assert lookup.record is None
    assert lookup.damage is not None and lookup.damage.problem == "no_files"
    RequestCache(store).put(_record(key, "job-3"))  # no files: never indexed
    assert json.loads((tmp_path / "_cache" / f"{key}.json").read_text())["job_id"] == "job-2"


def test_check_says_what_is_wrong_with_a_stored_job(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    png = ImagePayload(_encoded("PNG"), "image/png", 64, 48, 42)
    for job_id in ("ok", "changed", "deleted", "garbled"):
        store.save(_record(job_id=job_id), [png])
    store.job_dir("changed").joinpath("1-seed42.png").write_bytes(b"changed")
    store.job_dir("deleted").joinpath("1-seed42.png").unlink()
    store.job_dir("garbled").joinpath("manifest.json").write_bytes(b'{"job_id": "gar\xff')
    found = {job_id: store.check(job_id) for job_id in ("ok", "changed", "deleted", "garbled")}
    assert found["ok"][0] is not None and found["ok"][1] is None
    problems = {job_id: damage.problem for job_id, (_, damage) in found.items() if damage}
    assert problems == {
        "changed": "checksum",
        "deleted": "file_missing",
        "garbled": "manifest_unreadable",
    }
    changed = found["changed"][1]
    assert changed is not None and changed.seeds == (42,) and changed.path.name == "1-seed42.png"
    never = store.check("never")[1]
    assert never is not None and never.problem == "manifest_missing"


def test_a_deleted_cache_index_is_rebuilt_from_the_manifests(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    key = request_key("fal-ai/flux/schnell", {"prompt": "a fox", "seed": 42})
    saved = store.save(_record(key), [ImagePayload(_encoded("PNG"), "image/png", 64, 48, 42)])
    RequestCache(store).put(saved)
    shutil.rmtree(tmp_path / "_cache")
    hit = RequestCache(store).get(key)
    assert hit is not None and hit.job_id == "job-1"
    assert (tmp_path / "_cache" / f"{key}.json").is_file()  # the index entry is back
    (tmp_path / "_cache" / f"{key}.json").write_bytes(b"\x00garbled")
    assert RequestCache(store).get(key) is not None
    assert RequestCache(store).entries() == [key]


def test_a_damaged_journal_line_is_skipped_and_counted(tmp_path: Path) -> None:
    journal = JobJournal(tmp_path)
    journal.submitted("a", "m", {"prompt": "x"}, "ka")
    with journal.path.open("ab") as handle:
        handle.write(b'{"event": "collected", "job_id": "a\xff"}\n')  # one bad byte
        handle.write(b"[1, 2]\n")  # JSON, but not an entry
    journal.submitted("b", "m", {"prompt": "y"}, "kb")
    reading = journal.read()
    assert reading.damaged == (2, 3)
    assert [p.job_id for p in journal.pending()] == ["a", "b"]


def test_an_entry_after_a_torn_line_is_not_lost(tmp_path: Path) -> None:
    journal = JobJournal(tmp_path)
    journal.submitted("a", "m", {"prompt": "x"}, "ka")
    with journal.path.open("ab") as handle:
        handle.write(b'{"event": "submitted", "job_id": "torn"')  # a crash mid-line
    journal.finished("a", "collected")
    journal.submitted("b", "m", {"prompt": "y"}, "kb")
    assert [p.job_id for p in journal.pending()] == ["b"]
    assert journal.read().damaged == (2,)


def test_claims_on_a_job_merge_and_never_reopen_or_outrank(tmp_path: Path) -> None:
    journal = JobJournal(tmp_path)
    journal.submitted("x", "m", {"prompt": "p", "seed": 1}, "k1", "h", verified=False)
    journal.submitted("x", "m", {"prompt": "p", "seed": 2}, "k2", "h", verified=False)
    (pending,) = journal.pending()
    assert not pending.verified and [c.cache_key for c in pending.requests] == ["k1", "k2"]
    journal.submitted("y", "m", {"prompt": "p", "seed": 3}, "k3", "h")
    journal.submitted("y", "m", {"prompt": "p", "seed": 1}, "k1", "h", verified=False)
    journal.finished("x", "collected")
    journal.submitted("x", "m", {"prompt": "p", "seed": 4}, "k4", "h", verified=False)
    (only,) = journal.pending()  # a claim never reopens x, nor outranks y's own submit
    assert only.job_id == "y" and only.verified and only.cache_key == "k3"
    assert [c.cache_key for c in only.requests] == ["k3"]
    assert journal.request_of("y") is not None and journal.request_of("x") is None
