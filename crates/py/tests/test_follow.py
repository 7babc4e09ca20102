"""follow: a run still being written, as `rollscope run DIR --follow --json`: each dump's record
once it is complete (a half-written dump waits), each once, equal to run_table's record."""

import shutil
import threading
import time

import pytest
import rollscope

from conftest import RUN


def test_follow_yields_each_dump_once_as_it_lands(tmp_path):
    run = tmp_path / "run"
    (run / "rollout_data").mkdir(parents=True)
    (run / "train_data").mkdir()
    shutil.copytree(RUN / "tokenizer", run / "tokenizer")
    for i in (0, 1):
        shutil.copy(RUN / "rollout_data" / f"{i}.pt", run / "rollout_data" / f"{i}.pt")
        shutil.copy(RUN / "train_data" / f"{i}.pt", run / "train_data" / f"{i}.pt")
    whole = (RUN / "rollout_data" / "2.pt").read_bytes()

    def write_later():
        time.sleep(1.0)
        # torch.save has not finished: the end of the ZIP is missing.
        (run / "rollout_data" / "2.pt").write_bytes(whole[: len(whole) // 2])
        time.sleep(1.5)
        (run / "rollout_data" / "2.pt").write_bytes(whole)
        shutil.copy(RUN / "train_data" / "2.pt", run / "train_data" / "2.pt")

    writer = threading.Thread(target=write_later)
    writer.start()
    got = []
    started = time.monotonic()
    # The timeout (seconds without a new dump) covers the writer's 2.5 s of sleeps, then two
    # looks at rollout 2 (its size unchanged) and its train file: 3 s left a few tenths of a
    # second for that on a slow, loaded machine; the run is ended by it, not by the writer.
    for rec in rollscope.follow(run, interval=0.2, timeout=6.0):
        got.append((time.monotonic() - started, rec))
    writer.join()
    ids = [r["rollout_id"] for _, r in got]
    assert ids == [0, 1, 2], ids
    # Rollout 2 was cut short for 1.5 s: it is read only once whole, never as an error.
    t2, r2 = got[2]
    assert t2 >= 2.4, t2
    assert "error" not in r2, r2
    # Each record is the one run_table gives for the finished run.
    table = rollscope.run_table(run)
    want = {r["rollout_id"]: r for r in table["rollouts"] if r["kind"] == "train"}
    for _, r in got:
        assert r == want[r["rollout_id"]]


def test_follow_refuses_a_loose_template(tmp_path):
    with pytest.raises(rollscope.DumpError, match="--save-debug-rollout-data"):
        next(rollscope.follow(tmp_path, save_debug_rollout_data=str(tmp_path / "rollout.pt")))


def test_follow_of_an_empty_folder_waits_then_ends(tmp_path):
    started = time.monotonic()
    assert list(rollscope.follow(tmp_path, interval=0.1, timeout=0.5)) == []
    assert time.monotonic() - started >= 0.5
