"""Writes a large synthetic verl run for benchmarks: `rollout/{1..STEPS}.jsonl`, LINES lines
each, in the shape verl's `_write_generations` writes (`input`, `output`, `gts`, `score`,
`step`, then the reward extras `acc`, `pred`, `uid`), about 3 KB a line, plus a `validation/`
folder with one step of 64 lines every 10 steps. Standard library only; seeded.

    python3 tools/synth_verl.py OUT_DIR [--steps 200] [--lines 512]

The defaults (200 × 512 lines) make ≈ 300 MB: the size `rollscope run` must read in ≤ 2 s on
two cores (issue 21).
"""

import argparse
import json
import os
import random


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--lines", type=int, default=512)
    ap.add_argument("--n", type=int, default=8, help="responses per prompt")
    a = ap.parse_args()
    rng = random.Random(21)
    words = "the of a to we so is then and let x y sum mod prime step check answer".split()

    def text(n):
        return " ".join(rng.choice(words) for _ in range(n))

    def write(folder, step, lines, n):
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"{step}.jsonl")
        with open(path + ".tmp", "w") as f:
            for p in range(lines // n):
                prompt = f"Problem {step}-{p}: " + text(60)
                uid = f"{rng.getrandbits(64):016x}"
                gt = str(rng.randrange(100))
                for _ in range(n):
                    pred = gt if rng.random() < 0.4 else str(rng.randrange(100))
                    out = text(rng.randrange(300, 1000)) + f"\n#### {pred}"
                    row = {"input": prompt, "output": out, "gts": gt,
                           "score": 1.0 if pred == gt else 0.0, "step": step,
                           "acc": pred == gt, "pred": pred, "uid": uid}
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")
        os.replace(path + ".tmp", path)

    for step in range(1, a.steps + 1):
        write(os.path.join(a.out, "rollout"), step, a.lines, a.n)
        if step % 10 == 0:
            write(os.path.join(a.out, "validation"), step, 64, 4)


if __name__ == "__main__":
    main()
