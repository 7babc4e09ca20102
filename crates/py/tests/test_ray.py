"""rollscope.ray on Ray local mode: the run table equals the local one; write_parquet gives two
tables that pandas reads back equal to the records. `cargo xtask test` installs Ray and sets
ROLLSCOPE_REQUIRE_RAY=1 (a missing Ray fails there instead of skipping)."""

import math
import os
import shutil

import pytest
import rollscope

from conftest import RUN, RUN_FLAT

if os.environ.get("ROLLSCOPE_REQUIRE_RAY"):
    import ray  # noqa: F401
else:
    ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray():
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def local_table():
    return rollscope.run_table(RUN)


def test_ray_run_table_equals_the_local_one(local_ray, local_table):
    import rollscope.ray as rray

    ours = rray.run_table(str(RUN))
    assert ours == local_table
    assert len(ours["rollouts"]) == 8 and len(ours["samples"]) == 192


def test_ray_run_flat_with_eval_names_equals_the_local_one(local_ray):
    import rollscope.ray as rray

    names = ["math500", "aime24"]
    ours = rray.run_table(str(RUN_FLAT), eval_names=names)
    assert ours == rollscope.run_table(RUN_FLAT, eval_names=names)
    evals = [r for r in ours["rollouts"] if r["kind"] == "eval"]
    assert [[d["name"] for d in r["eval_datasets"]] for r in evals] == [names, names]


def test_ray_reads_through_the_given_filesystem(local_ray, local_table, monkeypatch):
    import pyarrow.fs as pafs
    import rollscope.ray as rray

    # A SubTreeFileSystem: paths are relative to it, as an object store's keys are.
    fs = pafs.SubTreeFileSystem(str(RUN.parent), pafs.LocalFileSystem())
    assert rray.run_table("run", filesystem=fs) == local_table
    files = ["run/rollout_data/eval_5.pt", "run/rollout_data/1.pt"]
    on_ray = rray.run_table(files, filesystem=fs)
    monkeypatch.chdir(RUN.parent)
    assert on_ray == rollscope.run_table(files)
    assert [r["file"] for r in on_ray["rollouts"]] == files[::-1]


def _same(a, b):
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    if isinstance(a, float) or isinstance(b, float):
        return b is not None and math.isclose(a, b, rel_tol=1e-12)
    return a == b


def test_write_parquet_reads_back_in_pandas(local_ray, local_table, tmp_path):
    import json

    import pandas as pd
    import rollscope.ray as rray

    paths = rray.write_parquet(str(RUN), str(tmp_path / "table"))
    rollouts = pd.read_parquet(paths["rollouts"])
    samples = pd.read_parquet(paths["samples"])
    assert len(rollouts) == 8 and len(samples) == 192
    assert list(rollouts.columns[:3]) == ["rollout_id", "kind", "file"]
    # Every sample record, every field, read back.
    for rec, (_, row) in zip(local_table["samples"], samples.iterrows()):
        for k, v in rec.items():
            assert _same(v, row[k]), (k, v, row[k])
    # Rollouts: pass_rate flattened, lists as JSON text, numbers as numbers.
    for rec, (_, row) in zip(local_table["rollouts"], rollouts.iterrows()):
        for k, v in rec.items():
            if isinstance(v, dict):
                for sub, x in v.items():
                    assert _same(x, row[f"{k}/{sub}"]), (k, sub)
            elif isinstance(v, list):
                assert json.loads(row[k]) == v
            else:
                assert _same(v, row[k]), (k, v, row[k])
    assert rollouts["pass_rate/pass@1"].dtype == "float64"
    assert samples["position"].dtype == "int64"


def test_the_parquet_files_open_in_duckdb(local_ray, local_table, tmp_path):
    if os.environ.get("ROLLSCOPE_REQUIRE_RAY"):
        import duckdb  # installed with Ray by cargo xtask test
    else:
        duckdb = pytest.importorskip("duckdb")
    import rollscope.parquet as rpq

    # The local table written by the same writer (no Ray needed for the schema).
    paths = rpq.write(local_table, str(tmp_path / "t"))
    con = duckdb.connect()
    n, traced = con.execute(
        f"SELECT count(*), sum(CAST(traced AS INT)) FROM read_parquet('{paths['samples']}')"
    ).fetchone()
    assert n == 192
    assert traced == sum(s["traced"] for s in local_table["samples"])
    rows = con.execute(
        f"""SELECT rollout_id, "pass_rate/pass@1" FROM read_parquet('{paths['rollouts']}')
            WHERE kind = 'train' ORDER BY rollout_id"""
    ).fetchall()
    want = [(r["rollout_id"], r["pass_rate"]["pass@1"]) for r in local_table["rollouts"] if r["kind"] == "train"]
    assert rows == want and len(rows) == 6


def test_ray_pairs_train_data_by_its_payload(local_ray, tmp_path):
    import rollscope.ray as rray

    # Named for rollout 9, the payload says rollout 2 (as the local run table pairs it).
    for f in RUN_FLAT.iterdir():
        if f.is_file():
            name = "train_9_4.pt" if f.name == "train_2_4.pt" else f.name
            shutil.copy(f, tmp_path / name)
    ours = rray.run_table(str(tmp_path))
    assert ours == rollscope.run_table(tmp_path)
    r2 = next(r for r in ours["rollouts"] if r["file"] == "rollout_2.pt")
    assert r2["train_file"] == "train_9_4.pt"


def test_ray_reads_a_misnamed_train_payload_as_train_data(local_ray, tmp_path):
    import rollscope.ray as rray

    # `t2.pt`: a rollout dump by its name, slime's train payload for rollout 2 by its keys.
    for f in RUN_FLAT.iterdir():
        if f.is_file():
            shutil.copy(f, tmp_path / ("t2.pt" if f.name == "train_2_4.pt" else f.name))
    ours = rray.run_table(str(tmp_path))
    assert ours == rollscope.run_table(tmp_path)
    r2 = next(r for r in ours["rollouts"] if r["file"] == "rollout_2.pt")
    assert r2["train_file"] == "t2.pt"
    assert not any(r["file"] == "t2.pt" for r in ours["rollouts"]), "not a rollout"
    assert len(ours["rollouts"]) == 8
