"""compare_runs: two runs side by side, equal to `rollscope run A B --json`, its deltas B - A
of each run read alone, its log prob differences the shift run_replay/make_replay.py wrote."""

import pytest
import rollscope

from conftest import RUN, RUN_REPLAY, cli


def shift(r, p, j):
    """make_replay.py's B - A on token j of the sample at position p of rollout r."""
    jitter = 0.001 * (((j * 7 + p * 3 + r) % 5) - 2)
    drift = 0.05 * (1 + (j % 3)) if p % 5 == 3 else 0.0
    return jitter + drift


def test_compare_runs_equals_the_cli():
    ours = rollscope.compare_runs(RUN, RUN_REPLAY)
    theirs = cli("run", "--json", RUN, RUN_REPLAY)
    assert ours == theirs


def test_deltas_are_b_minus_a_of_each_run_alone():
    doc = rollscope.compare_runs(RUN, RUN_REPLAY, match="prompt")
    a, b = rollscope.run_table(RUN), rollscope.run_table(RUN_REPLAY)
    assert doc["match"] == "prompt" and doc["a"]["name"] == str(RUN)
    rec = lambda run, i: next(r for r in run["rollouts"] if r["kind"] == "train" and r["rollout_id"] == i)
    paired = [r for r in doc["rollouts"] if r["delta"] is not None]
    assert [r["a_rollout_id"] for r in paired] == [0, 1, 2, 3]
    for r in paired:
        i = r["a_rollout_id"]
        for key in ("reward/mean", "rollout/log_probs", "passrate/pass@1"):
            assert r["delta"][key] == pytest.approx(rec(b, i)[key] - rec(a, i)[key], abs=1e-12)
        # Per rollout: the mean over all its tokens of |A - B|, from the shift itself.
        tokens = [s for s in doc["samples"] if s["a_rollout_id"] == i]
        total = sum(s["logprob_tokens"] for s in tokens)
        want = sum(abs(shift(i, s["a_position"], j)) for s in tokens for j in range(s["logprob_tokens"])) / total
        assert r["logprob"]["mean_abs"] == pytest.approx(want, abs=1e-5)
        assert r["logprob"]["max_abs"] == pytest.approx(0.152, abs=1e-5)


def test_samples_seen_alignment_and_bad_keywords():
    doc = rollscope.compare_runs(RUN, RUN_REPLAY, align="samples_seen")
    assert doc["align"] == "samples_seen"
    assert [r["a_samples_seen"] for r in doc["rollouts"] if r["kind"] == "train"] == [24, 48, 72, 96, 120, 144]
    with pytest.raises(ValueError, match='align="by_magic": expected "rollout_id" or "samples_seen"'):
        rollscope.compare_runs(RUN, RUN_REPLAY, align="by_magic")
    with pytest.raises(rollscope.DumpError):
        rollscope.compare_runs(RUN, RUN / "missing")
