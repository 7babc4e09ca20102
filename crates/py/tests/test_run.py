"""run_table: equal to slime's numbers (run_reference.json) and to `rollscope run --json`."""

import json
import shutil

import pytest
import rollscope

from conftest import RUN, RUN_FLAT, cli, cli_error, diff, older


def test_run_table_equals_run_reference():
    ref = json.loads((RUN / "run_reference.json").read_text())
    ours = rollscope.run_table(RUN)
    assert len(ours["rollouts"]) == 8 and len(ours["samples"]) == 192
    assert diff(ref, older(ours), 1e-6) == []


# slime sums its train-side values in float32: a mean that cancels to about 0 (a GRPO
# rollout's advantages, -1.2e-8) is compared within 1e-7.
ABS = 1e-7
NAMES = ["math500", "aime24"]


def test_run_flat_equals_its_reference_on_every_key():
    ref = json.loads((RUN_FLAT / "run_reference.json").read_text())
    ours = rollscope.run_table(RUN_FLAT, eval_names=NAMES)
    assert diff(ref, ours, 1e-6, abs_tol=ABS) == []
    assert ours == cli("run", "--json", "--eval-names", ",".join(NAMES), RUN_FLAT)


def test_run_flat_eval_sets_without_names_come_in_order():
    ours = rollscope.run_table(RUN_FLAT)
    evals = [r for r in ours["rollouts"] if r["kind"] == "eval"]
    assert [r["file"] for r in evals] == ["rollout_eval_0.pt", "rollout_eval_5.pt"]
    for r in evals:
        assert [d["name"] for d in r["eval_datasets"]] == ["eval set 1", "eval set 2"]
        assert [d["sample_count"] for d in r["eval_datasets"]] == [12, 12]
    assert sum(r["kind"] == "train" for r in ours["rollouts"]) == 6
    assert ours == cli("run", "--json", RUN_FLAT)


def test_the_comparison_sees_a_difference():
    # The tolerance check above is not a no-op: a 1e-5 change is reported.
    ref = json.loads((RUN / "run_reference.json").read_text())
    ours = json.loads(json.dumps(ref))
    ours["rollouts"][3]["reward/mean"] *= 1 + 1e-5
    ours["samples"][5]["status"] = "aborted"
    assert len(diff(ref, ours, 1e-6)) == 2


@pytest.mark.parametrize(
    "inputs",
    [
        [RUN],
        [RUN / "rollout_data"],
        [RUN / "rollout_data" / "eval_5.pt", RUN / "rollout_data" / "1.pt"],
    ],
    ids=["run", "rollout_data", "files"],
)
def test_run_table_equals_the_cli(inputs):
    ours = rollscope.run_table(inputs if len(inputs) > 1 else inputs[0])
    assert ours == cli("run", "--json", *inputs)
    assert ours["rollouts"]


def test_a_broken_dump_is_a_record_with_its_error_and_the_run_goes_on(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(RUN, run)
    (run / "rollout_data" / "2.pt").write_bytes(b"\x80\x02garbage")
    (run / "train_data" / "4.pt").write_bytes(b"not a train dump")
    ours = rollscope.run_table(run, jobs=2)
    assert ours == cli("run", "--json", run)
    broken = [r for r in ours["rollouts"] if r.get("error")]
    assert [r["file"] for r in broken] == ["rollout_data/2.pt"]
    four = next(r for r in ours["rollouts"] if r.get("file") == "rollout_data/4.pt")
    assert any("train_data/4.pt" in n for n in four["notes"])
    assert len(ours["samples"]) == 192 - 24


def test_run_errors_are_the_cli_errors(tmp_path):
    (tmp_path / "notes.txt").write_text("no dumps here")
    with pytest.raises(rollscope.DumpError) as e:
        rollscope.run_table(tmp_path)
    assert str(e.value) == cli_error("run", "--json", tmp_path)
    with pytest.raises(rollscope.DumpError) as e:
        rollscope.run_table([RUN / "rollout_data" / "0.pt", RUN])
    assert str(e.value) == cli_error("run", "--json", RUN / "rollout_data" / "0.pt", RUN)


def flat_copy(tmp_path, rename):
    """The flat run copied, its files renamed by ``rename``."""
    for f in RUN_FLAT.iterdir():
        if f.is_file():
            shutil.copy(f, tmp_path / rename.get(f.name, f.name))
    return tmp_path


def test_train_data_is_paired_by_its_payload_as_the_cli_pairs_it(tmp_path):
    # Named for rollout 9, the payload says rollout 2: it is rollout 2's train data.
    run = flat_copy(tmp_path, {"train_2_4.pt": "train_9_4.pt"})
    ours = rollscope.run_table(run, eval_names=NAMES)
    r2 = next(r for r in ours["rollouts"] if r["file"] == "rollout_2.pt")
    assert r2["train_file"] == "train_9_4.pt"
    assert ours == cli("run", "--json", "--eval-names", ",".join(NAMES), run)


def test_slime_templates_name_the_run_as_in_the_cli():
    t = {
        "save_debug_rollout_data": f"{RUN_FLAT}/rollout_{{rollout_id}}.pt",
        "save_debug_train_data": f"{RUN_FLAT}/train_{{rollout_id}}_{{rank}}.pt",
    }
    ours = rollscope.run_table(eval_names=NAMES, **t)
    assert ours == rollscope.run_table(RUN_FLAT, eval_names=NAMES)
    args = [f"--{k.replace('_', '-')}={v}" for k, v in t.items()]
    assert ours == cli("run", "--json", "--eval-names", ",".join(NAMES), *args)


def test_summary_takes_the_slime_keywords():
    f = RUN_FLAT / "rollout_eval_0.pt"
    named = rollscope.summary(f, eval_names=NAMES)
    assert [d["name"] for d in named["eval_datasets"]] == NAMES
    assert [d["name"] for d in rollscope.summary(f)["eval_datasets"]] == [
        "eval set 1",
        "eval set 2",
    ]
