//! A step in full (`trace::run::Step`): every sample of the run fixture's dumps with its whole
//! response, its response ids (which the run's tokenizer decodes back to the response), its
//! per-token values from the rollout and from `train_data`, aligned by rollout position.

use std::path::{Path, PathBuf};

use tokenizer::Tokenizer;
use trace::run::{scan_bytes, Prompt, Step, TrainData};

fn run_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/run")
}

fn step(file: &str, train: Option<&str>) -> Step {
    let dir = run_dir();
    let scan = scan_bytes(&std::fs::read(dir.join(file)).expect("dump"), true).expect("scan");
    let train = train.map(|t| TrainData::read(&std::fs::read(dir.join(t)).expect("train"), true));
    let dump = trace::run::layout(&[file]).dumps.remove(0);
    Step::new(dump, scan, train)
}

#[test]
fn every_sample_in_full_with_tokens_and_train_values() {
    let tok = Tokenizer::from_json(
        &std::fs::read(run_dir().join("tokenizer/tokenizer.json")).expect("tokenizer"),
    )
    .expect("tokenizer");
    let mut tool_tokens = 0;
    let mut prompt_texts = 0;
    for id in 0..6 {
        let s = step(
            &format!("rollout_data/{id}.pt"),
            Some(&format!("train_data/{id}.pt")),
        );
        assert_eq!(s.len(), 24);
        assert!(s.notes.is_empty(), "{:?}", s.notes);
        let data = s.data();
        assert_eq!(data.rows.len(), 24);
        for p in 0..24 {
            let d = s.detail(p, Some(&tok)).expect("detail");
            let n = d.row.response_length.expect("response_length") as usize;
            assert_eq!(d.tokens.len(), n, "rollout {id} sample {p}");
            assert_eq!(d.response, data.responses[p]);
            let pieces = d.pieces.as_ref().expect("pieces");
            let text: String = pieces.iter().map(|x| x.text.as_str()).collect();
            assert_eq!(
                text, d.response,
                "rollout {id} sample {p}: tokens decode to the response"
            );
            assert_eq!(d.loss_mask.len(), n);
            assert_eq!(d.rollout_log_probs.len(), n);
            // The ids before the response decode to the prompt as the chat template wrote it.
            let prompt = d.prompt_pieces.as_ref().expect("prompt pieces");
            assert_eq!(prompt.len(), d.prompt_tokens.len());
            let prompt: String = prompt.iter().map(|x| x.text.as_str()).collect();
            match &d.prompt {
                Prompt::Text(text) => assert_eq!(&prompt, text, "rollout {id} sample {p}"),
                _ => assert!(
                    prompt.starts_with("<|im_start|>")
                        && prompt.ends_with("<|im_start|>assistant\n"),
                    "rollout {id} sample {p}: {prompt:?}"
                ),
            }
            prompt_texts += 1;
            let t = d.train.as_ref().expect("train values");
            for v in [&t.log_probs, &t.advantages, &t.kl, &t.rollout_log_probs] {
                assert_eq!(
                    v.len(),
                    n,
                    "rollout {id} sample {p}: one train value per token"
                );
            }
            // The train side's rollout log probs are the dump's (float32 both ways).
            assert_eq!(t.rollout_log_probs, d.rollout_log_probs);
            assert_eq!(
                d.row.train.as_ref().and_then(|t| t.rollout_position),
                Some(p as i64)
            );
            tool_tokens += d.loss_mask.iter().filter(|&&m| m == 0).count();
        }
    }
    assert!(tool_tokens > 0, "the run has tool output (loss_mask 0)");
    assert_eq!(prompt_texts, 6 * 24);
}

#[test]
fn the_fixtures_story_in_samples() {
    let s2 = step("rollout_data/2.pt", None);
    let d = s2.detail(19, None).expect("position 19");
    assert!(d.response.contains("<script>alert(1)</script>"));
    assert!(d.row.reward_is_dict);
    assert!(
        d.row.reward_fields.iter().any(|(k, _)| k == "score"),
        "{:?}",
        d.row.reward_fields
    );
    assert!(d.reward.get("acc").is_some(), "{}", d.reward);
    assert!(d.pieces.is_none() && d.train.is_none());
    let s4 = step("rollout_data/4.pt", None);
    let d = s4.detail(21, None).expect("position 21");
    assert!(d
        .response
        .split('\n')
        .any(|l| l.len() == 20_000 && l.bytes().all(|b| b == b'=')));
    assert_eq!(d.row.response_max_line_chars, 20_000);
    let e = step("rollout_data/eval_5.pt", None);
    let aime: Vec<_> = (0..e.len())
        .filter_map(|p| e.detail(p, None))
        .filter(|d| d.row.eval_dataset.as_deref() == Some("aime24"))
        .collect();
    assert_eq!(aime.len(), 12);
    for d in &aime {
        match &d.prompt {
            Prompt::Messages(m) => assert!(m.iter().any(|m| m.role == "user"), "{m:?}"),
            other => panic!("aime24 prompts are messages, got {other:?}"),
        }
    }
    assert!(e.detail(24, None).is_none());
}
