"""The native module (private: use the functions of ``rollscope``)."""

from typing import Any, Dict, List, Optional, Tuple, Union

__version__: str
DEFAULT_THRESHOLDS: Dict[str, float]

class DumpError(ValueError): ...

Src = Union[str, bytes, Any]

def stats(
    src: Src, e2e_p99: float, queue_p99: float, failed_share: float, decode_min: float, name: str
) -> Tuple[Dict[str, Any], List[str]]: ...
def cache(src: Src, name: str) -> Tuple[bytes, List[str]]: ...
def export(src: Src, format: str, name: str) -> str: ...
def layout(paths: List[str]) -> Dict[str, Any]: ...
def summarize_dump(
    src: Src,
    dump: Dict[str, Any],
    run_has_train: bool,
    train: Optional[Src] = None,
    train_error: Optional[str] = None,
    src_error: Optional[str] = None,
    options: Optional[str] = None,
) -> Tuple[Dict[str, Any], List[Dict[str, Any]]]: ...
def run_table(
    inputs: List[str], jobs: int, options: Optional[str] = None, templates: Optional[str] = None
) -> Dict[str, Any]: ...
def compare_runs(
    a: str,
    b: str,
    jobs: int,
    align: str,
    match_by: str,
    options: Optional[str] = None,
    templates: Optional[str] = None,
) -> Dict[str, Any]: ...
def train_rollout_id(src: Src) -> Optional[int]: ...
def pair_train(layout: Dict[str, Any], ids: List[Tuple[str, Optional[int]]]) -> Dict[str, Any]: ...
def _panic_for_test() -> None: ...
