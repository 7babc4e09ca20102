"""verl's rollout logs (`tests/fixtures/verl`, written by verl's own `_dump_generations`):
`rollscope.run_table` gives what the fixture's generator computed, and what the CLI gives."""

import json

import rollscope

from conftest import FIXTURES, cli

VERL = FIXTURES / "verl"


def test_run_table_matches_the_generator_and_the_cli():
    want = json.loads((VERL / "expected.json").read_text())["files"]
    ours = rollscope.run_table(VERL / "run")
    got = ours["rollouts"]
    assert [(r["file"], r["rollout_id"], r["kind"]) for r in got] == [
        (w["file"], w["step"], w["kind"]) for w in want
    ]
    for r, w in zip(got, want):
        assert r["sample_count"] == w["sample_count"]
        assert abs(r["reward/mean"] - w["score_mean"]) < 1e-12
        assert abs(r["reward_extra/acc/mean"] - w["acc_mean"]) < 1e-12
        pass1 = r["pass_rate"]["pass@1"] if r["kind"] == "train" else r["eval/validation-pass@1"]
        assert abs(pass1 - w["pass_at_1"]) < 1e-12
        # verl records no tokens or timings: absent, not 0.
        assert "rollout/response_len/mean" not in r and "perf/rollout_time" not in r
    assert len(ours["samples"]) == 82
    assert ours == cli("run", "--json", VERL / "run")


def test_a_bad_line_is_a_note_and_the_good_lines_stay(tmp_path):
    (tmp_path / "rollout").mkdir()
    good = '{"input": "q", "output": "a", "gts": "1", "score": 1.0, "step": 3}\n'
    bad = '{"input": "q", "output": "a", "gts": "1", "score": "1.0", "step": 3}\n'
    (tmp_path / "rollout" / "3.jsonl").write_text(good + bad + "not json\n" + good)
    (r,) = rollscope.run_table(tmp_path)["rollouts"]
    assert r["sample_count"] == 3 and r["reward/mean"] == 1.0
    assert r["notes"] == [
        "line 2: score is a string (\"1.0\"), not a number",
        "line 3: not a JSON object (expected ident, column 2)",
    ]
