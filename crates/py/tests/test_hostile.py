"""The hostile-file catalog (`picklegen::hostile::catalog()`, written by `cargo run -p picklegen
--example hostile -- target/hostile`): what `rollscope cache FILE` gives, the package gives —
an error case raises DumpError with the same text, a rows case gives exactly that many rows
(and its warning). Never a crash of the interpreter."""

import json
import os
import subprocess
import time
import warnings

import pytest
import rollscope

from conftest import ROOT, cli

HOSTILE = ROOT / "target" / "hostile"


def _catalog():
    if not (HOSTILE / "index.json").exists():
        subprocess.run(
            ["cargo", "run", "-q", "-p", "picklegen", "--example", "hostile", "--", str(HOSTILE)],
            cwd=ROOT, check=True, timeout=900,
        )
    return json.loads((HOSTILE / "index.json").read_text())


CASES = _catalog()


def test_the_catalog_is_not_empty():
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["file"])
def test_hostile_case(case):
    path = HOSTILE / case["file"]
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", rollscope.DumpWarning)
        if case["expect"] == "error":
            with pytest.raises(rollscope.DumpError) as e:
                rollscope.cache(path)
            assert case["text"] in str(e.value)
            assert str(e.value).startswith(f"{path}: ")
        else:
            got = rollscope.cache(path)
            assert len(got["rows"]) == case["rows"]
            if case["text"]:
                assert any(case["text"] in str(w.message) for w in caught), [
                    str(w.message) for w in caught
                ]
        # The stats of the same file fail or succeed alike.
        try:
            rollscope.stats(path)
            assert case["expect"] != "error"
        except rollscope.DumpError:
            assert case["expect"] == "error"
    # Bound: each case is a small file built to cost a lot; the CLI reads each in well under a
    # second in release builds (generous for a debug wheel on a shared machine).
    assert time.perf_counter() - started < 60, case["file"]


def test_inputs_that_are_not_regular_files_are_refused_at_once(tmp_path):
    fifo = tmp_path / "rollout_0.pt"
    os.mkfifo(fifo)
    dump = str(ROOT / "tests" / "fixtures" / "run" / "rollout_data" / "0.pt")
    for call, what in [
        (lambda: rollscope.samples(dump, train="/dev/zero"), "character device"),
        (lambda: rollscope.samples(dump, train=str(fifo)), "FIFO"),
        (lambda: rollscope.stats(str(fifo)), "FIFO"),
        (lambda: rollscope.stats(str(tmp_path)), "folder"),
    ]:
        start = time.monotonic()
        with pytest.raises(rollscope.DumpError) as e:
            call()
        assert time.monotonic() - start < 10
        assert what in str(e.value) and "not a regular file" in str(e.value), str(e.value)


def test_the_run_listing_follows_no_link_and_lists_no_fifo(tmp_path):
    run = tmp_path / "run"
    secret = tmp_path / "secret"
    (run / "rollout_data").mkdir(parents=True)
    secret.mkdir()
    (secret / "id_rsa").write_text("key")
    (secret / "7.pt").write_bytes(b"x")
    src = ROOT / "tests" / "fixtures" / "run" / "rollout_data" / "0.pt"
    (run / "rollout_data" / "0.pt").write_bytes(src.read_bytes())
    os.symlink(secret, run / "tokenizer")
    os.symlink(secret, run / "train_data")
    os.symlink(secret / "7.pt", run / "rollout_data" / "7.pt")
    os.mkfifo(run / "rollout_data" / "8.pt")
    root, files = rollscope.list_run(run)
    assert root == str(run)
    assert [p for p, _ in files] == ["rollout_data/0.pt"]
    table = rollscope.run_table(run)
    assert [r.get("file") for r in table["rollouts"]] == ["rollout_data/0.pt"]
    # Said, as `rollscope run` says it: how many were skipped and which (quoted).
    assert table["notes"] == [
        "4 entries skipped: not regular files (a symbolic link, FIFO, socket or device is "
        'never read): "rollout_data/7.pt", "rollout_data/8.pt", "tokenizer", "train_data"'
    ]
    assert table == cli("run", "--json", run)


@pytest.mark.parametrize(
    "template,why",
    [
        ("d/rollout.pt", "no {rollout_id} in the file name"),
        ("d/{rollout_id}/data.pt", "a {…} slot in the folder part"),
    ],
)
def test_a_loose_template_is_refused_naming_the_flag(tmp_path, template, why):
    with pytest.raises(rollscope.DumpError) as e:
        rollscope.run_table(save_debug_rollout_data=str(tmp_path / template))
    assert str(e.value).startswith("--save-debug-rollout-data") and why in str(e.value)


EXPORTS = [(c, f) for c in CASES for f in ("chrome", "otlp") if "export" in c]


def test_the_export_cases_are_listed():
    assert EXPORTS


@pytest.mark.parametrize("case,fmt", EXPORTS, ids=lambda x: x if isinstance(x, str) else x["file"])
def test_hostile_export(case, fmt):
    """`rollscope.export` streams from the rows as the CLI does, bounded by the same output
    limit: an error names the limit, rows give one thread (Chrome) or resource (OTLP) each."""
    path = HOSTILE / case["file"]
    want = case["export"][fmt]
    started = time.perf_counter()
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always", rollscope.DumpWarning)
        if want["expect"] == "error":
            with pytest.raises(rollscope.DumpError) as e:
                rollscope.export(path, fmt)
            assert want["text"] in str(e.value)
        else:
            doc = json.loads(rollscope.export(path, fmt))
            if fmt == "otlp":
                rows = len(doc["resourceSpans"])
            else:
                rows = sum(1 for e in doc["traceEvents"] if e["ph"] == "M" and e["name"] == "thread_name")
            assert rows == want["rows"]
    assert time.perf_counter() - started < 60, case["file"]
