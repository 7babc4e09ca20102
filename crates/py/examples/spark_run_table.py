"""A run's per-sample table on Spark: `binaryFile` reads each dump, `mapInPandas` calls the same
`rollscope` function as the local `run_table` (one dump per row), Spark writes Parquet.

Not run in CI (no Spark there). Needs `pip install pyspark pandas pyarrow ./crates/py` on the
driver and the executors.

    spark-submit crates/py/examples/spark_run_table.py s3a://bucket/run out_dir

For the rollouts table (a dozen to a few thousand rows) and for exactly `rollscope run --json`,
use `rollscope.run_table` or `rollscope.ray.run_table`; this example shows the per-sample
records at Spark scale. Train-side fields (`train/...`) stay null here: they need the dump's
`train_data/{id}.pt` passed as `rollscope.samples(..., train=...)` (read it beside the dump in
`samples_of`, e.g. with pyarrow's filesystem, as `rollscope.ray` does).
"""

import json
import sys

import pandas as pd
from pyspark.sql import SparkSession

import rollscope

# Sample records' columns (rollscope.parquet's rule: index/group_index/label as JSON text, so
# one schema fits every run).
SCHEMA = (
    "rollout_id long, kind string, position long, index string, group_index string, "
    "status string, reward double, reward_is_dict boolean, response_length double, "
    "effective_response_length double, label string, prompt_is_messages boolean, "
    "prompt_chars long, response_chars long, response_token_count double, "
    "response_text_sha256 string, response_max_line_chars long, traced boolean, "
    "eval_dataset string, `train/raw_reward` double, `train/advantage_mean` double, "
    "`train/response_length` double, `train/rollout_position` long, "
    "`train/sample_index` long, `train/data_parallel_rank` long"
)
JSON_COLUMNS = ("index", "group_index", "label")


def samples_of(batches):
    """One pandas frame per batch of dumps: every sample record of each dump."""
    for batch in batches:
        out = []
        for path, content in zip(batch["path"], batch["content"]):
            name = path.rsplit("/", 1)[-1]
            try:
                rows = rollscope.samples(bytes(content), name=name)
            except rollscope.DumpError as e:
                print(f"skipped {path}: {e}", file=sys.stderr)
                continue
            for r in rows:
                for k in JSON_COLUMNS:
                    r[k] = json.dumps(r[k])
            out.extend(rows)
        yield pd.DataFrame(out, columns=[c.split()[0].strip("`") for c in SCHEMA.split(", ")])


def main(run_dir, out):
    spark = SparkSession.builder.appName("rollscope-run-table").getOrCreate()
    dumps = (
        spark.read.format("binaryFile")
        .option("pathGlobFilter", "*.pt")
        .load(f"{run_dir}/rollout_data")
        .select("path", "content")
    )
    # One dump per task: a dump is up to hundreds of MB.
    dumps = dumps.repartition(dumps.count())
    samples = dumps.mapInPandas(samples_of, schema=SCHEMA)
    samples.write.mode("overwrite").parquet(f"{out}/samples.parquet")
    samples.groupBy("rollout_id", "kind").agg({"reward": "avg", "traced": "count"}).show()


if __name__ == "__main__":
    main(*sys.argv[1:3])
