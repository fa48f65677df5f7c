"""Guanjia NLU: one chat message -> a Rasa-shaped parse (see shared/nlu-contract.md).

    from nlu import load_nlu
    nlu = load_nlu("builtin", cache_dir=Path("var/nlu-cache"))   # or "http://127.0.0.1:5005"
    nlu.parse("3号楼2单元1502厨房水管漏水了", reference_time=datetime.now())
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

__all__ = ["NLU", "load_nlu"]


@runtime_checkable
class NLU(Protocol):
    def parse(self, text: str, reference_time: datetime | None = None) -> dict: ...


def load_nlu(spec: str = "builtin", *, cache_dir: Path | None = None, timeout: float = 0.5) -> NLU:
    """`spec` is "builtin" or the http(s) URL of a Rasa server (falls back to builtin when down)."""
    from .builtin import BuiltinNLU

    spec = (spec or "builtin").strip()
    if spec.lower().startswith(("http://", "https://")):
        from .rasa_http import RasaHTTPNLU

        return RasaHTTPNLU(spec, timeout=timeout, fallback=lambda: BuiltinNLU.load_or_train(cache_dir))
    if spec.lower() != "builtin":
        raise ValueError(f"unknown NLU spec {spec!r}: use 'builtin' or an http(s) URL")
    return BuiltinNLU.load_or_train(cache_dir)
