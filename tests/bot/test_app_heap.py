"""The app puts its long-lived heap (the NLU above all) out of the garbage collector's sight once loaded."""

from __future__ import annotations

import gc
from pathlib import Path

from backend.settings import Settings
from bot.app import create_app

NLU_CACHE = Path(__file__).resolve().parents[2] / "var" / "nlu-cache"


def test_loading_the_nlu_freezes_what_is_loaded(tmp_path: Path) -> None:
    gc.unfreeze()
    try:
        app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'g.db'}", nlu_cache_dir=NLU_CACHE,
                                  _env_file=None))
        assert gc.get_freeze_count() == 0
        nlu = app.state.get_nlu()
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # the model and its dictionaries, not a handful of objects
        assert app.state.get_nlu() is nlu and gc.get_freeze_count() == frozen  # once, not per call
    finally:
        gc.unfreeze()
