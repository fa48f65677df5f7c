from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from nlu.builtin import BuiltinNLU

REPO = Path(__file__).resolve().parents[2]
REF = datetime(2026, 11, 23, 10, 0)  # a Monday


@pytest.fixture(scope="session")
def nlu_cache_dir() -> Path:
    return Path(os.environ.get("GUANJIA_NLU_CACHE_DIR", REPO / "var" / "nlu-cache"))


@pytest.fixture(scope="session")
def nlu(nlu_cache_dir: Path) -> BuiltinNLU:
    return BuiltinNLU.load_or_train(nlu_cache_dir)


def spans(result: dict) -> list[tuple[str, str, str]]:
    t = result["text"]
    return [(e["entity"], t[e["start"]:e["end"]], e["value"]) for e in result["entities"]]
