"""Type stubs for rollscope (see the module docstrings for what each function gives)."""

import os
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

PathOrBytes = Union[str, os.PathLike[str], bytes, bytearray, memoryview]
Inputs = Union[str, os.PathLike[str], Sequence[Union[str, os.PathLike[str]]]]

__version__: str

class DumpError(ValueError):
    """A dump, cache or run that cannot be read; the message is the CLI's."""

class DumpWarning(UserWarning):
    """A problem with part of a dump that did not stop the read."""

def stats(
    path_or_bytes: PathOrBytes,
    *,
    e2e_p99: float = ...,
    queue_p99: float = ...,
    failed_share: float = ...,
    decode_min: float = ...,
    name: str = "<bytes>",
) -> Dict[str, Any]:
    """``rollscope stats --json`` as a dict (slime's metric names, then ``rollscope/…``)."""

def cache(path_or_bytes: PathOrBytes, *, name: str = "<bytes>") -> Dict[str, Any]:
    """slime's timeline cache v1, as ``rollscope cache`` writes it."""

def export(path_or_bytes: PathOrBytes, format: str, *, name: str = "<bytes>") -> str:
    """``"chrome"`` (Trace Event JSON) or ``"otlp"`` (OTLP/JSON) text."""

def samples(
    path_or_bytes: PathOrBytes,
    *,
    train: Optional[PathOrBytes] = None,
    name: Optional[str] = None,
    eval_names: Optional[Sequence[str]] = None,
    reward_key: Optional[str] = None,
    eval_reward_key: Optional[str] = None,
    rollout_max_response_len: Optional[float] = None,
    advantage_estimator: Optional[str] = None,
) -> List[Dict[str, Any]]:
    """The per-sample records of ``rollscope run --json`` for one dump."""

def summary(
    path_or_bytes: PathOrBytes,
    *,
    train: Optional[PathOrBytes] = None,
    name: Optional[str] = None,
    eval_names: Optional[Sequence[str]] = None,
    reward_key: Optional[str] = None,
    eval_reward_key: Optional[str] = None,
    rollout_max_response_len: Optional[float] = None,
    advantage_estimator: Optional[str] = None,
) -> Dict[str, Any]:
    """The dump's ``rollouts`` record of ``rollscope run --json``."""

def run_table(
    dir_or_paths: Optional[Inputs] = None,
    *,
    jobs: int = 0,
    eval_names: Optional[Sequence[str]] = None,
    reward_key: Optional[str] = None,
    eval_reward_key: Optional[str] = None,
    rollout_max_response_len: Optional[float] = None,
    advantage_estimator: Optional[str] = None,
    save_debug_rollout_data: Optional[str] = None,
    save_debug_train_data: Optional[str] = None,
) -> Dict[str, Any]:
    """``rollscope run --json`` as a dict: ``{"rollouts": [...], "samples": [...]}``, and
    ``"notes"`` when the listing left something out."""

def compare_runs(
    a: Union[str, "os.PathLike[str]"],
    b: Union[str, "os.PathLike[str]"],
    *,
    align: str = "rollout_id",
    match: str = "index",
    jobs: int = 0,
    eval_names: Optional[Sequence[str]] = None,
    reward_key: Optional[str] = None,
    eval_reward_key: Optional[str] = None,
    rollout_max_response_len: Optional[float] = None,
    advantage_estimator: Optional[str] = None,
    save_debug_rollout_data: Optional[str] = None,
    save_debug_train_data: Optional[str] = None,
) -> Dict[str, Any]:
    """``rollscope run A B --json`` as a dict: both runs and B − A per dump and sample."""

def follow(
    dir_or_paths: Optional[Inputs] = None,
    *,
    interval: float = 0.5,
    timeout: Optional[float] = None,
    eval_names: Optional[Sequence[str]] = None,
    reward_key: Optional[str] = None,
    eval_reward_key: Optional[str] = None,
    rollout_max_response_len: Optional[float] = None,
    advantage_estimator: Optional[str] = None,
    save_debug_rollout_data: Optional[str] = None,
    save_debug_train_data: Optional[str] = None,
) -> Iterator[Dict[str, Any]]:
    """``rollscope run DIR --follow --json`` as a generator: each dump's rollout record once it
    is complete; ends after ``timeout`` seconds without a new dump (None: never)."""

def list_run(dir_or_paths: Inputs, siblings: bool = True) -> Tuple[str, List[Tuple[str, int]]]:
    """The run's root and its files ``(relative path, size)``: the CLI's listing."""
