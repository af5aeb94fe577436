from __future__ import annotations

import pytest

from tunecraft.corpus import ingest, load_corpus, read_manifest


@pytest.mark.slow
def test_ray_and_the_local_pool_give_the_same_corpus(tmp_path, music_dir, monkeypatch):
    pytest.importorskip("ray")
    sources = [music_dir, "corpus:essen-folk:3"]
    local = ingest(sources, tmp_path / "local", workers=2)
    monkeypatch.setenv("TUNECRAFT_CACHE", str(tmp_path / "fresh-cache"))  # Ray parses too
    done: list[int] = []
    remote = ingest(sources, tmp_path / "ray", engine="ray", workers=2,
                    progress=lambda d, t: done.append(d))
    assert (remote.added, remote.skipped, remote.failed) == (local.added, local.skipped,
                                                             local.failed)
    ok = {e["id"] for e in read_manifest(tmp_path / "local") if e["status"] == "ok"}
    assert ok == {e["id"] for e in read_manifest(tmp_path / "ray") if e["status"] == "ok"}
    assert len(ok) == 8
    # Written in input order by the driver: byte-identical manifests and pieces.
    assert ((tmp_path / "local" / "manifest.jsonl").read_bytes()
            == (tmp_path / "ray" / "manifest.jsonl").read_bytes())
    for piece_id in ok:
        assert ((tmp_path / "local" / "pieces" / f"{piece_id}.mid").read_bytes()
                == (tmp_path / "ray" / "pieces" / f"{piece_id}.mid").read_bytes())
    assert done[-1] == local.total
    assert [s.notes for _, s in load_corpus(tmp_path / "ray")] == [
        s.notes for _, s in load_corpus(tmp_path / "local")]
    import ray

    assert not ray.is_initialized()  # the Ray it started for the run is stopped
