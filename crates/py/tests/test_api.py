"""stats / cache / export / samples equal to the CLI; errors are DumpError; the GIL is free
while a dump is read."""

import os
import pickle
import threading
import time
import warnings

import pytest
import rollscope

from conftest import RUN, SLIME, cli, cli_error, diff


def test_fixtures_are_there():
    # The loops below would pass vacuously on an empty list.
    assert len(SLIME) >= 10, SLIME
    assert len(list((RUN / "rollout_data").glob("*.pt"))) == 8


@pytest.mark.parametrize("path", SLIME + sorted((RUN / "rollout_data").glob("*.pt")), ids=lambda p: p.name)
def test_stats_equal_the_cli(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rollscope.DumpWarning)
        ours = rollscope.stats(path)
        from_bytes = rollscope.stats(path.read_bytes())
    assert ours == cli("stats", "--json", path)
    assert from_bytes == ours
    assert len(ours) > 10


def test_stats_thresholds_are_the_cli_flags():
    path = RUN / "rollout_data" / "0.pt"
    ours = rollscope.stats(path, e2e_p99=0.001, queue_p99=100, failed_share=0.5, decode_min=1)
    assert ours == cli("stats", "--json", "--e2e-p99", "0.001", "--queue-p99", "100",
                       "--failed-share", "0.5", "--decode-min", "1", path)
    # The thresholds change the health keys (so the comparison above saw them).
    assert ours != rollscope.stats(path)


def test_threshold_defaults_are_the_cores():
    # One home: the signature's defaults are read from the Rust core's `Thresholds::default()`
    # (the CLI's flags take theirs from there too, and test_stats_equal_the_cli compares).
    import inspect

    params = inspect.signature(rollscope.stats).parameters
    core = rollscope._rollscope.DEFAULT_THRESHOLDS
    assert sorted(core) == ["decode_min", "e2e_p99", "failed_share", "queue_p99"]
    assert {k: params[k].default for k in core} == core
    assert all(isinstance(v, float) and v > 0 for v in core.values())


def test_run_keywords_are_the_cores():
    # One list: slime's run options are `RunOptions`'s fields in the Rust core; every function
    # that takes them (module, Ray, and the type stub a checker reads) names each, default None.
    import ast
    import inspect
    import pathlib

    import rollscope.ray
    from rollscope import _run

    core = set(rollscope._rollscope.RUN_OPTIONS)
    assert "reward_key" in core and len(core) >= 5, core
    assert set(inspect.signature(_run.options_json).parameters) == core
    for f in [
        rollscope.samples,
        rollscope.summary,
        rollscope.run_table,
        rollscope.compare_runs,
        rollscope.follow,
        rollscope.ray.run_table,
    ]:
        params = inspect.signature(f).parameters
        assert core <= set(params), (f.__module__, f.__name__, core - set(params))
        for k in core:
            assert params[k].kind is inspect.Parameter.KEYWORD_ONLY, (f.__name__, k)
            assert params[k].default is None, (f.__name__, k)
    stub = pathlib.Path(rollscope.__file__).with_name("__init__.pyi")
    stubs = {
        f.name: {a.arg for a in f.args.kwonlyargs}
        for f in ast.parse(stub.read_text()).body
        if isinstance(f, ast.FunctionDef)
    }
    for name in ["samples", "summary", "run_table", "compare_runs", "follow"]:
        assert core <= stubs[name], (name, core - stubs[name])


@pytest.mark.parametrize("path", SLIME, ids=lambda p: p.name)
def test_cache_equals_the_cli(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rollscope.DumpWarning)
        ours = rollscope.cache(path)
    theirs = cli("cache", "-o", "-", path)
    # generated_at is the clock at build time; everything else is equal.
    assert abs(ours.pop("generated_at") - theirs.pop("generated_at")) < 600
    assert ours == theirs
    assert ours["cache_version"] == 1
    assert len(ours["rows"]) > 0 or path.name.startswith(("empty", "untraced"))


@pytest.mark.parametrize("fmt", ["chrome", "otlp"])
def test_export_equals_the_cli(fmt):
    import json

    path = RUN / "rollout_data" / "0.pt"
    ours = json.loads(rollscope.export(path, fmt))
    assert ours == cli("export", "--format", fmt, path)
    assert ours


def test_unknown_export_format_is_a_dump_error():
    with pytest.raises(rollscope.DumpError, match="unknown export format"):
        rollscope.export(RUN / "rollout_data" / "0.pt", "svg")


def test_samples_and_summary_are_the_run_tables_records():
    run = cli("run", "--json", RUN)
    dump = RUN / "rollout_data" / "3.pt"
    rows = rollscope.samples(dump, train=str(RUN / "train_data" / "3.pt"))
    want = [s for s in run["samples"] if s["rollout_id"] == 3 and s["kind"] == "train"]
    assert len(rows) == 24
    assert rows == want
    rec = rollscope.summary(dump)
    assert rec["rollout_id"] == 3 and rec["sample_count"] == 24
    assert rec["reward/mean"] == next(r for r in run["rollouts"] if r["file"] == "rollout_data/3.pt")["reward/mean"]
    # Without train data the train-side fields are null.
    assert all(r["train/raw_reward"] is None for r in rollscope.samples(dump))


def test_errors_are_dump_errors_with_the_cli_message(tmp_path):
    bad = tmp_path / "rollout_1.pt"
    bad.write_bytes(b"PK\x03\x04 this is no zip")
    with pytest.raises(rollscope.DumpError) as e:
        rollscope.stats(bad)
    assert isinstance(e.value, ValueError)
    assert str(e.value) == cli_error("stats", "--json", bad)
    with pytest.raises(rollscope.DumpError, match="No such file"):
        rollscope.stats(tmp_path / "missing.pt")
    with pytest.raises(rollscope.DumpError, match="^<bytes>: "):
        rollscope.stats(b"")
    with pytest.raises(rollscope.DumpError, match="^mine.pt: "):
        rollscope.cache(b"\x80\x02}q\x00.", name="mine.pt")
    with pytest.raises(rollscope.DumpError):
        rollscope.samples(bad)
    with pytest.raises(TypeError):
        rollscope.stats(12)


def test_a_name_that_is_not_unicode_is_a_dump_error():
    """A lone surrogate in ``name=`` (what ``os.fsdecode`` makes of a file name that is not
    UTF-8) raises DumpError naming it, never UnicodeEncodeError."""
    dump = SLIME[0].read_bytes()
    name = "rollout\udc80_0.pt"
    for call in (
        lambda: rollscope.stats(dump, name=name),
        lambda: rollscope.cache(dump, name=name),
        lambda: rollscope.export(dump, "chrome", name=name),
        lambda: rollscope.samples(dump, name=name),
        lambda: rollscope.summary(dump, name=name),
    ):
        with pytest.raises(rollscope.DumpError, match=r"'rollout\\udc80_0\.pt': not valid Unicode"):
            call()
    with pytest.raises(TypeError):
        rollscope.cache(dump, name=b"bytes.pt")
    # A path no file system name can have (os.fsencode refuses U+D800) is a DumpError too
    # (PyO3's own conversion raised PanicException, which `except Exception` misses).
    with pytest.raises(rollscope.DumpError, match=r"'x\\ud800\.pt': not a file name"):
        rollscope.stats("x\ud800.pt")


def test_a_file_name_that_is_not_utf8_is_read(tmp_path):
    """A path as os.fsdecode gives it (bytes that are not UTF-8 as U+DC80-U+DCFF) opens the
    file it names."""
    raw = os.fsencode(tmp_path) + b"/rollout_\xff_0.pt"
    with open(raw, "wb") as f:
        f.write(SLIME[0].read_bytes())
    path = os.fsdecode(raw)
    assert "\udcff" in path
    assert rollscope.stats(path) == rollscope.stats(SLIME[0])


def test_a_named_train_file_that_cannot_be_read_is_a_dump_error(tmp_path):
    dump = RUN / "rollout_data" / "0.pt"
    garbage = tmp_path / "0.pt"
    garbage.write_bytes(b"not a train dump")
    for train in (tmp_path / "missing.pt", tmp_path, garbage):
        for f in (rollscope.samples, rollscope.summary):
            with pytest.raises(rollscope.DumpError, match="^" + str(train)):
                f(dump, train=str(train))
    # A readable train dump still gives the train fields.
    rows = rollscope.samples(dump, train=str(RUN / "train_data" / "0.pt"))
    assert rows[0]["train/rollout_position"] == 0


def test_run_table_of_bytes_is_a_dump_error():
    with pytest.raises(rollscope.DumpError, match="not bytes"):
        rollscope.run_table(str(RUN).encode())


def test_truncated_dumps_raise_never_crash():
    data = (RUN / "rollout_data" / "0.pt").read_bytes()
    started = time.perf_counter()
    cuts = [1, 2, 100, len(data) // 3, len(data) // 2, len(data) - 22]
    for cut in cuts:
        try:
            rollscope.stats(data[:cut])
        except rollscope.DumpError as e:
            assert str(e).startswith("<bytes>: ")
    # Bound: six small reads, well under a second each (catches a hang).
    assert time.perf_counter() - started < 30


def test_a_panic_is_a_dump_error():
    with pytest.raises(rollscope.DumpError, match="internal error.*a test panic"):
        rollscope._rollscope._panic_for_test()


def test_deeply_nested_pickle_never_crashes():
    # 100 000 nested lists in a dump's samples: a recursion in the reader (or in the
    # conversion to Python objects) would overflow the stack and kill the interpreter.
    n = 100_000
    data = b"\x80\x02}X\x07\x00\x00\x00samples" + b"]" * n + b"a" * (n - 1) + b"s."
    started = time.perf_counter()
    for call in (rollscope.stats, rollscope.cache, rollscope.samples):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", rollscope.DumpWarning)
                call(data)
        except rollscope.DumpError as e:
            assert str(e)
    # Bound: three reads of 200 KB, each well under a second (catches a hang).
    assert time.perf_counter() - started < 15


def _big_dump(n):
    samples = [
        {"index": i, "group_index": i // 4, "status": "completed", "reward": float(i % 2),
         "response": "answer %d " % i * 20, "prompt": "question %d" % i, "response_length": 40,
         "tokens": list(range(60)), "loss_mask": [1] * 40}
        for i in range(n)
    ]
    return pickle.dumps({"rollout_id": 0, "samples": samples}, protocol=2)


def test_the_gil_is_released_while_reading():
    n = 2000
    while True:
        data = _big_dump(n)
        t = time.perf_counter()
        rollscope.samples(data)
        if time.perf_counter() - t > 0.2 or n > 500_000:
            break
        n *= 2
    ticks = [0]
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks[0] += 1

    th = threading.Thread(target=count)
    th.start()
    try:
        time.sleep(0.05)
        before = ticks[0]
        t = time.perf_counter()
        rollscope.samples(data)
        took = time.perf_counter() - t
        during = ticks[0] - before
    finally:
        stop.set()
        th.join()
    # Held, the GIL would stop the counter for the whole call (a few switch intervals at
    # most); released, it counts on throughout (hundreds of thousands per second).
    assert took > 0.1, took
    assert during > 10_000, (during, took)
