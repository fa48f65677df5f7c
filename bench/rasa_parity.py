"""Rasa parity: train Rasa 3.6 on nlu/data with nlu/config.yml and score it next to the built-in engine.

    python bench/rasa_parity.py               # in an environment where `import rasa` works
    python bench/rasa_parity.py --builtin-only

Rasa 3.6 needs Python < 3.11 and SQLAlchemy 1.4, so it never lives in this project's venv
(shared/reference/style-and-ecosystem.md B5).  Without it the script prints one skip line and
exits 0.  Both engines are scored with nlu.evaluate on the same held-out files.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

HELDOUT = ["heldout.jsonl", "heldout2.jsonl", "heldout_identity.jsonl", "real_posts.jsonl"]


class RasaAgentNLU:
    """nlu.NLU over an in-process Rasa Agent (Rasa resolves no reference time: datetime values differ)."""

    def __init__(self, agent) -> None:
        self.agent = agent
        self.loop = asyncio.new_event_loop()

    def parse(self, text: str, reference_time: datetime | None = None) -> dict:
        return self.loop.run_until_complete(self.agent.parse_message(text))


def train_rasa(out: Path, epochs: int | None = None) -> RasaAgentNLU:
    import yaml
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    config = REPO / "nlu" / "config.yml"
    if epochs:  # DIET's 100 epochs take hours on a small shared CPU; a shorter run still checks the pipeline
        cfg = yaml.safe_load(config.read_text(encoding="utf-8"))
        for comp in cfg["pipeline"]:
            if comp["name"] == "DIETClassifier":
                comp["epochs"] = epochs
        config = out / "config.yml"
        config.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")

    data = out / "data"
    data.mkdir()
    for p in sorted((REPO / "nlu" / "data").glob("*.yml")):  # never heldout/
        shutil.copy(p, data / p.name)
    t0 = time.perf_counter()
    # JiebaTokenizer's dictionary_path (nlu/jieba) is relative to the repository root
    model = train_nlu(config=str(config), nlu_data=str(data), output=str(out / "models"))
    print(f"rasa: trained in {time.perf_counter() - t0:.0f}s -> {model}")
    return RasaAgentNLU(Agent.load(model))


def score(name: str, nlu, files: list[Path]) -> dict[str, dict]:
    from nlu.evaluate import evaluate
    from nlu.rasa_yaml import load_jsonl

    out = {}
    for f in files:
        t0 = time.perf_counter()
        rep = evaluate(nlu, load_jsonl(f))
        out[f.name] = {"macro_f1": rep["intent_macro_f1"], "accuracy": rep["intent_accuracy"],
                       "entity_f1": rep["entity_micro"]["f1"], "ece": rep["reliability"]["ece"],
                       "ms": (time.perf_counter() - t0) * 1000 / max(rep["n"], 1)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--builtin-only", action="store_true")
    ap.add_argument("--epochs", type=int, default=None, help="override DIET's epochs (default: config.yml)")
    args = ap.parse_args()
    files = [REPO / "nlu" / "data" / "heldout" / f for f in HELDOUT]
    results: dict[str, dict] = {}
    if not args.builtin_only:
        import os

        os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")  # nothing leaves the machine
        try:
            import rasa  # noqa: F401
        except ImportError:
            print("rasa_parity: SKIP, rasa is not importable here (Rasa 3.6 needs Python < 3.11 and its own "
                  "environment: pip install 'rasa[jieba]==3.6.21' there and rerun this script)")
            return
        os.chdir(REPO)
        with tempfile.TemporaryDirectory() as td:
            os.environ.setdefault("RASA_CACHE_DIRECTORY", str(Path(td) / "cache"))  # not ./.rasa in the repo
            results["rasa"] = score("rasa", train_rasa(Path(td), args.epochs), files)
    from nlu.builtin import BuiltinNLU

    with tempfile.TemporaryDirectory() as td:
        results["builtin"] = score("builtin", BuiltinNLU.load_or_train(Path(td)), files)
    print(f"{'engine':8} {'file':24} {'macroF1':>8} {'acc':>6} {'entF1':>6} {'ECE':>6} {'ms/msg':>7}")
    for engine, per in results.items():
        for f, m in per.items():
            print(f"{engine:8} {f:24} {m['macro_f1']:8.4f} {m['accuracy']:6.3f} {m['entity_f1']:6.3f} "
                  f"{m['ece']:6.3f} {m['ms']:7.2f}")


if __name__ == "__main__":
    main()
