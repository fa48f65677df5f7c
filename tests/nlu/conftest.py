from __future__ import annotations

import os
from pathlib import Path

import pytest

from nlu.builtin import BuiltinNLU

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def nlu_cache_dir() -> Path:
    return Path(os.environ.get("GUANJIA_NLU_CACHE_DIR", REPO / "var" / "nlu-cache"))


@pytest.fixture(scope="session")
def nlu(nlu_cache_dir: Path) -> BuiltinNLU:
    return BuiltinNLU.load_or_train(nlu_cache_dir)
