"""The native module (private: use the functions of ``rollscope``)."""

from typing import Any, Dict, List, Optional, Tuple, Union

__version__: str

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
def _panic_for_test() -> None: ...
