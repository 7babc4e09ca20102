"""A run table (``run_table()``'s dict) as two Arrow tables, and Parquet files of them.

Schema (one rule for both tables, so any run's columns are predictable):

- ``rollouts``: one row per dump (rollout or eval), ``samples``: one row per sample of every
  dump; the columns are the records' keys (``rollscope run --json``), ``rollout_id``, ``kind``
  (and ``file`` for rollouts, ``position`` for samples) first, the rest sorted by name.
- A dict value is flattened into one column per key, joined with ``/``: ``pass_rate`` becomes
  ``pass_rate/pass@1``, ``pass_rate/pass@2``, … (slime's own naming style).
- A column's type: ``bool`` when every value is a bool (or null); ``int64`` when every value is
  an int; ``double`` when every value is a number; ``string`` when every value is a string;
  otherwise (lists such as ``notes`` and ``eval_datasets``, or mixed types such as an
  ``index`` that is an int in one dump and text in another) ``string`` holding each value's
  JSON text (``json.loads`` gives the value back). Missing keys and ``None`` are null.

pyarrow is needed (``pip install pyarrow``); the files open in pandas, DuckDB and Spark.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple

FIRST = ("rollout_id", "kind", "file", "position")


def _flatten(rec: Dict[str, Any], prefix: str = "", out: Optional[Dict[str, Any]] = None):
    out = {} if out is None else out
    for k, v in rec.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            _flatten(v, key + "/", out)
        else:
            out[key] = v
    return out


def _column(values: List[Any]):
    import pyarrow as pa

    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pa.array(values, type=pa.bool_())
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        if all(-(2**63) <= v < 2**63 for v in present):
            return pa.array(values, type=pa.int64())
    if present and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in present
    ):
        return pa.array([None if v is None else float(v) for v in values], type=pa.float64())
    if all(isinstance(v, str) for v in present):
        return pa.array(values, type=pa.string())
    return pa.array(
        [None if v is None else json.dumps(v, ensure_ascii=False) for v in values],
        type=pa.string(),
    )


def table(records: List[Dict[str, Any]]):
    """Records (dicts) as one Arrow table under the module's schema rule."""
    import pyarrow as pa

    flat = [_flatten(r) for r in records]
    names: Dict[str, None] = {}
    for r in flat:
        for k in r:
            names.setdefault(k, None)
    order = [k for k in FIRST if k in names] + sorted(k for k in names if k not in FIRST)
    return pa.table({k: _column([r.get(k) for r in flat]) for k in order})


def tables(run: Dict[str, Any]) -> Tuple[Any, Any]:
    """``(rollouts, samples)`` Arrow tables of a ``run_table()`` dict."""
    return table(run["rollouts"]), table(run["samples"])


def write(run: Dict[str, Any], out: str, *, filesystem: Any = None) -> Dict[str, str]:
    """Writes ``out/rollouts.parquet`` and ``out/samples.parquet`` (``out`` is a local folder,
    created if missing, or a URI / a path on ``filesystem``). Returns the two paths."""
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    if filesystem is None:
        filesystem, out = _fs_for(out)
    filesystem.create_dir(out, recursive=True)
    paths = {}
    for name, t in zip(("rollouts", "samples"), tables(run)):
        p = f"{out.rstrip('/')}/{name}.parquet"
        pq.write_table(t, p, filesystem=filesystem)
        paths[name] = p
    return paths


def _fs_for(path: str):
    """A pyarrow filesystem and the path on it: a URI (``s3://…``, ``hdfs://…``,
    ``file://…``) through ``FileSystem.from_uri``; anything else is a local path."""
    import os

    import pyarrow.fs as pafs

    if "://" in path:
        return pafs.FileSystem.from_uri(path)
    return pafs.LocalFileSystem(), os.path.abspath(path)
