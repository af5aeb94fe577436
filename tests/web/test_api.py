"""The studio's HTTP API, through the real app (FastAPI's TestClient runs its lifespan, so the
worker processes and the SQLite library are the real ones)."""

from __future__ import annotations

import io
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the studio needs the web extra (fastapi)")
pytest.importorskip("httpx", reason="the API tests need httpx")

from fastapi.testclient import TestClient

from tunecraft import api
from tunecraft.io.midi import write_midi
from tunecraft.score import Note, Score, TempoChange, Track


def _client(folder: Path, **kw) -> TestClient:
    return TestClient(api.studio_app(data=folder, page=False, **kw))


def _wait(client: TestClient, job_id: str, timeout: float = 120.0) -> dict:
    t0 = time.time()
    while time.time() - t0 < timeout:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def _midi_bytes(tmp_path: Path, notes: int = 4) -> bytes:
    path = tmp_path / "tiny.mid"
    write_midi(Score(tracks=(Track("Piano", tuple(Note(60 + i, i, 1) for i in range(notes))),),
                     tempos=(TempoChange(0.0, 120.0),)), path)
    return path.read_bytes()


def _wav_bytes(seconds: float = 1.0) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(22050)
        t = np.arange(int(seconds * 22050)) / 22050
        w.writeframes((np.sin(2 * np.pi * 440 * t) * 12000).astype("<i2").tobytes())
    return buf.getvalue()


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    folder = tmp_path_factory.mktemp("studio")
    with _client(folder, workers=2) as client:
        yield client, folder


def test_health_and_openapi(studio):
    client, _ = studio
    r = client.get("/api/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert r.json()["version"] == api._version()
    spec = client.get("/openapi.json").json()
    assert "/api/jobs" in spec["paths"] and "/api/uploads" in spec["paths"]


def test_a_generated_piece_comes_back_with_its_files(studio):
    client, _folder = studio
    r = client.post("/api/jobs", json={"kind": "generate", "prompt": "calm piano, 90 bpm",
                                       "duration": 8, "seed": 3, "stems": True})
    assert r.status_code == 202, r.text
    job = _wait(client, r.json()["id"])
    assert job["status"] == "done", job
    assert job["progress"] == 1 and job["seconds"] > 0
    assert set(job["files"]) >= {"wav", "mid", "musicxml", "json", "mp3", "stems"}
    midi = client.get(job["files"]["mid"])
    assert midi.status_code == 200 and midi.content[:4] == b"MThd"
    import mido

    tempo = next(m.tempo for t in mido.MidiFile(file=io.BytesIO(midi.content)).tracks
                 for m in t if m.type == "set_tempo")
    assert round(mido.tempo2bpm(tempo)) == 90
    doc = client.get(job["files"]["json"]).json()
    assert doc["request"]["seed"] == 3
    import zipfile

    stems = zipfile.ZipFile(io.BytesIO(client.get(job["files"]["stems"]).content))
    assert all(n.endswith(".wav") for n in stems.namelist()) and len(stems.namelist()) >= 2
    listed = client.get("/api/jobs", params={"q": "calm piano"}).json()["jobs"]
    assert [j["id"] for j in listed] == [job["id"]]
    assert client.get("/api/jobs", params={"q": "50%_"}).json()["jobs"] == []
    events = client.get(f"/api/jobs/{job['id']}/events").text
    assert '"status": "done"' in events.splitlines()[0]


@pytest.mark.parametrize(("body", "words"), [
    ({"kind": "paint", "prompt": "x"}, "unknown kind"),
    ({"kind": "generate"}, "needs 'prompt'"),
    ({"kind": "generate", "prompt": "pop", "bpm": "fast"}, "must be a number"),
    ({"kind": "generate", "prompt": "pop", "bpm": 2000}, "bpm"),
    ({"kind": "generate", "prompt": "pop", "key": "H major"}, "H major"),
    ({"kind": "generate", "prompt": "pop", "meter": "7/0"}, "7/0"),
    ({"kind": "generate", "prompt": "pop", "duration": 9000}, "duration"),
    ({"kind": "generate", "prompt": "pop", "colour": "blue"}, "does not take 'colour'"),
    ({"kind": "generate", "prompt": "pop", "sing": True}, "lyrics"),
    ({"kind": "arrange", "melody": "0" * 32, "prompt": "jazz"}, "no upload"),
    ({"kind": "arrange", "melody": "../../etc/passwd", "prompt": "jazz"}, "id of an upload"),
    ({"kind": "speak", "text": "hi", "rate": 50}, "rate"),
    ({"kind": "story", "timeline": ["soon calm piano"]}, ""),
])
def test_bad_parameters_are_422_with_a_message_and_no_job(studio, body, words):
    client, _ = studio
    before = len(client.get("/api/jobs", params={"limit": 1000}).json()["jobs"])
    r = client.post("/api/jobs", json=body)
    assert r.status_code == 422, r.text
    assert words in r.json()["detail"]
    assert len(client.get("/api/jobs", params={"limit": 1000}).json()["jobs"]) == before


def test_a_body_that_is_not_json_is_refused(studio):
    client, _ = studio
    r = client.post("/api/jobs", content=b"kind=generate", headers={"content-type":
                                                                    "text/plain"})
    assert r.status_code == 422 and "JSON" in r.json()["detail"]


def test_uploads_are_sniffed_measured_and_used(studio, tmp_path):
    client, _folder = studio
    wav = client.post("/api/uploads", files={"file": ("hum.wav", _wav_bytes(1.5))})
    assert wav.status_code == 201, wav.text
    assert wav.json()["kind"] == "audio" and abs(wav.json()["seconds"] - 1.5) < 0.01
    mid = client.post("/api/uploads", files={"file": ("x.bin", _midi_bytes(tmp_path))})
    assert mid.json()["kind"] == "midi" and mid.json()["seconds"] == pytest.approx(2.0, 0.1)
    xml = tmp_path / "t.musicxml"
    api.convert(tmp_path / "tiny.mid", xml)
    mx = client.post("/api/uploads", files={"file": ("t.musicxml", xml.read_bytes())})
    assert mx.json()["kind"] == "musicxml"
    r = client.post("/api/jobs", json={"kind": "render", "source": mid.json()["id"]})
    job = _wait(client, r.json()["id"])
    assert job["status"] == "done" and "wav" in job["files"]
    r = client.post("/api/jobs", json={"kind": "render", "source": wav.json()["id"]})
    assert r.status_code == 422 and "must be midi or musicxml" in r.json()["detail"]


@pytest.mark.parametrize(("name", "data", "words"), [
    ("song.wav", b"this is not audio at all, only text pretending", "not audio"),
    ("song.mid", b"MThd\x00\x00\x00\x06\x00\x01", "not readable midi"),
    ("empty.wav", b"", "one non-empty file"),
])
def test_fake_and_empty_uploads_are_refused_and_nothing_stays(studio, name, data, words):
    client, folder = studio
    before = set((folder / "uploads").iterdir())
    r = client.post("/api/uploads", files={"file": (name, data)})
    assert r.status_code == 422 and words in r.json()["detail"]
    assert set((folder / "uploads").iterdir()) == before


def test_an_oversized_upload_is_413_and_never_kept(tmp_path):
    with _client(tmp_path / "small", workers=1, max_upload_mb=1) as client:
        big = b"RIFF\x00\x00\x00\x00WAVE" + b"\x00" * (2 * 2**20)
        r = client.post("/api/uploads", files={"file": ("big.wav", big)})
        assert r.status_code == 413
        assert list((tmp_path / "small" / "uploads").iterdir()) == []
        # A body that lies about its size (no Content-Length) is counted as it streams.
        def chunks():
            yield (b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\""
                   b"\r\n\r\n")
            for _ in range(40):
                yield b"\x00" * 65536
            yield b"\r\n--b--\r\n"
        r = client.post("/api/uploads", content=chunks(),
                        headers={"content-type": "multipart/form-data; boundary=b"})
        assert r.status_code == 413
        assert list((tmp_path / "small" / "uploads").iterdir()) == []


@pytest.mark.parametrize("name", ["..%2F..%2Flibrary.sqlite3", "%2e%2e%2flibrary.sqlite3",
                                  "..%5c..%5clibrary.sqlite3", "generate.wav%00.mid",
                                  "library.sqlite3", "..", "%2Fetc%2Fpasswd"])
def test_files_outside_what_a_job_wrote_are_never_served(studio, name):
    client, _ = studio
    jobs = [j for j in client.get("/api/jobs").json()["jobs"] if j["status"] == "done"]
    job_id = jobs[0]["id"]
    r = client.get(f"/api/files/{job_id}/{name}")
    assert r.status_code == 404
    assert b"SQLite" not in r.content and b"root:" not in r.content
    assert client.get(f"/api/files/..%2F{job_id}/generate.wav").status_code == 404
    assert client.get("/api/jobs/..%2F..%2Fetc").status_code == 404


def test_twenty_jobs_at_once_all_finish(studio, tmp_path):
    client, _ = studio
    up = client.post("/api/uploads", files={"file": ("t.mid", _midi_bytes(tmp_path, 2))})
    ids: list[str] = []
    lock = threading.Lock()

    def submit():
        r = client.post("/api/jobs", json={"kind": "render", "source": up.json()["id"]})
        with lock:
            ids.append(r.json()["id"])

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 20
    done = [_wait(client, i, timeout=300) for i in ids]
    assert [j["status"] for j in done] == ["done"] * 20


def test_cancel_and_delete(tmp_path):
    with _client(tmp_path / "lib", workers=1, start_workers=False) as client:
        r = client.post("/api/jobs", json={"kind": "generate", "prompt": "rock", "seed": 1})
        job_id = r.json()["id"]
        assert client.get(f"/api/jobs/{job_id}").json()["status"] == "queued"
        assert client.post(f"/api/jobs/{job_id}/cancel").json()["status"] == "cancelled"
        assert client.post(f"/api/jobs/{job_id}/cancel").status_code == 409
        assert client.delete(f"/api/jobs/{job_id}").json()["status"] == "deleted"
        assert client.get(f"/api/jobs/{job_id}").status_code == 404
        assert client.delete(f"/api/jobs/{job_id}").status_code == 404


def test_a_running_job_is_cancelled_and_its_worker_goes_on(tmp_path):
    with _client(tmp_path / "lib", workers=1) as client:
        long = client.post("/api/jobs", json={"kind": "generate", "duration": 400,
                                              "prompt": "a long rock song", "seed": 2})
        job_id = long.json()["id"]
        t0 = time.time()
        while client.get(f"/api/jobs/{job_id}").json()["status"] == "queued":
            assert time.time() - t0 < 60
            time.sleep(0.1)
        assert client.post(f"/api/jobs/{job_id}/cancel").json()["status"] == "cancelled"
        short = client.post("/api/jobs", json={"kind": "generate", "prompt": "calm piano",
                                               "duration": 5, "seed": 1})
        assert _wait(client, short.json()["id"])["status"] == "done"
        job = client.get(f"/api/jobs/{job_id}").json()
        assert job["status"] == "cancelled" and job["files"] == {}
        assert not (tmp_path / "lib" / "jobs" / job_id).exists()


def test_a_restart_loses_nothing_and_leaves_nothing_running(tmp_path):
    folder = tmp_path / "lib"
    with _client(folder, start_workers=False) as client:
        ids = [client.post("/api/jobs", json={"kind": "generate", "prompt": "folk tune",
                                              "duration": 5, "seed": i}).json()["id"]
               for i in range(3)]
    from tunecraft.web.store import Store

    store = Store(folder)
    assert store.claim("a-worker-that-died").id == ids[0]  # the server stops mid-job
    assert store.job(ids[0]).status == "running"
    with _client(folder, workers=2) as client:
        done = [_wait(client, i) for i in ids]
        assert [j["status"] for j in done] == ["done"] * 3
        assert client.get("/api/jobs").json()["jobs"][0]["id"] == ids[2]  # newest first
    with _client(folder, start_workers=False) as client:  # and again: all still there
        listed = {j["id"]: j for j in client.get("/api/jobs").json()["jobs"]}
        assert all(listed[i]["status"] == "done" for i in ids)
        assert client.get(listed[ids[0]]["files"]["wav"]).status_code == 200


def test_an_api_key_guards_every_route(tmp_path):
    with _client(tmp_path / "lib", start_workers=False, api_key="s3cret") as client:
        assert client.get("/api/health").status_code == 401
        assert client.post("/api/jobs", json={"kind": "generate", "prompt": "x"}
                           ).status_code == 401
        assert client.get("/api/health", headers={"X-API-Key": "wrong"}).status_code == 401
        assert client.get("/api/health", headers={"X-API-Key": "s3cret"}).status_code == 200
        assert client.get("/api/jobs", headers={"Authorization": "Bearer s3cret"}
                          ).status_code == 200


def test_failed_jobs_say_why(studio, tmp_path):
    client, folder = studio
    up = client.post("/api/uploads", files={"file": ("t.mid", _midi_bytes(tmp_path, 3))})
    from tunecraft.web.store import Store

    store = Store(folder)
    path = store.upload_path(store.upload(up.json()["id"]))
    path.unlink()  # the file went away after the upload was accepted
    job = _wait(client, client.post("/api/jobs", json={"kind": "render",
                                                       "source": up.json()["id"]}).json()["id"])
    assert job["status"] == "failed" and "no such file" in job["error"]
    assert job["files"] == {}


def test_a_finished_piece_is_changed_without_recomposing(studio):
    client, _ = studio
    first = _wait(client, client.post("/api/jobs", json={
        "kind": "generate", "prompt": "a jazz trio with piano, 100 bpm, in C major",
        "duration": 8, "seed": 5}).json()["id"])
    assert first["status"] == "done"
    original = client.get(first["files"]["json"]).json()["summary"]
    names = [t["name"] for t in original["tracks"]]
    piano = next(n for n in names if "Piano" in n)
    drums = next(n for n in names if "Drum" in n or "Percussion" in n)
    r = client.post("/api/jobs", json={"kind": "edit", "job": first["id"], "bpm": 132,
                                       "key": "D major", "mute": [drums],
                                       "instruments": [f"{piano}=organ"]})
    assert r.status_code == 202, r.text
    job = _wait(client, r.json()["id"])
    assert job["status"] == "done", job
    after = client.get(job["files"]["json"]).json()["summary"]
    assert after["bpm"] == 132 and after["key"] == "D major"
    assert drums not in [t["name"] for t in after["tracks"]]
    organ = next(t for t in after["tracks"] if t["name"] == piano)
    wanted = next(i["program"] for i in api.instruments() if "organ" in [i["name"], *i["words"]])
    assert organ["program"] == wanted != next(t["program"] for t in original["tracks"]
                                              if t["name"] == piano)
    # The same notes, two semitones up, on the same beats: nothing was recomposed.
    before = {t["name"]: (t["notes"], t["lowest_pitch"]) for t in original["tracks"]}
    for t in after["tracks"]:
        if t["name"] != drums:
            assert t["notes"] == before[t["name"]][0]
            assert t["lowest_pitch"] == before[t["name"]][1] + 2
    for body, words in (
            ({"kind": "edit", "job": first["id"], "mute": ["Kazoo"]}, "not a track"),
            ({"kind": "edit", "job": first["id"], "key": "D minor"}, "keeps the mode"),
            ({"kind": "edit", "job": first["id"], "instruments": [f"{piano}=spoons"]},
             "not an instrument"),
            ({"kind": "edit", "job": "f" * 32, "bpm": 90}, "not a finished piece"),
            ({"kind": "edit", "job": first["id"], "solo": [drums], "mute": [drums]},
             "nothing would be left")):
        r = client.post("/api/jobs", json=body)
        assert r.status_code == 422 and words in r.json()["detail"], (body, r.text)


def test_one_section_is_composed_again_and_the_rest_stays_note_for_note(studio):
    client, _ = studio
    first = _wait(client, client.post("/api/jobs", json={
        "kind": "generate", "prompt": "pop song with a catchy chorus", "duration": 40,
        "seed": 1}).json()["id"])
    r = client.post("/api/jobs", json={"kind": "edit", "job": first["id"],
                                       "section": "chorus", "seed": 2})
    assert r.status_code == 202, r.text
    job = _wait(client, r.json()["id"])
    assert job["status"] == "done", job
    before = api.load(_download(client, first["files"]["json"]))
    after = api.load(_download(client, job["files"]["json"]))
    chorus = next(s for s in before.sections if s.name == "chorus")
    a, b = chorus.start, chorus.end
    assert [(s.name, s.start) for s in after.sections] == [(s.name, s.start)
                                                            for s in before.sections]
    changed = 0
    for old, new in zip(before.tracks, after.tracks, strict=True):
        outside = [(n.pitch, n.start, n.duration) for n in old.notes if not a <= n.start < b]
        kept = [(n.pitch, n.start, n.duration) for n in new.notes if not a <= n.start < b]
        assert len(kept) == len(outside)
        assert all(k[:2] == o[:2] for k, o in zip(kept, outside, strict=True))
        inside = lambda t: [(n.pitch, n.start) for n in t.notes if a <= n.start < b]  # noqa: E731
        changed += inside(old) != inside(new)
    assert changed >= 2  # the tune and more were written again
    r = client.post("/api/jobs", json={"kind": "edit", "job": first["id"], "section": "coda"})
    assert r.status_code == 422 and "no section 'coda'" in r.json()["detail"]


def _download(client: TestClient, url: str) -> Path:
    import tempfile

    path = Path(tempfile.mkdtemp()) / "score.json"
    path.write_bytes(client.get(url).content)
    return path
