"""`guanjia nlu parse|train|eval` (mounted by the composition root)."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime
from pathlib import Path

import typer

app = typer.Typer(help="Chinese NLU: parse, train, evaluate.", no_args_is_help=True)


def _cache_dir(cache_dir: Path | None) -> Path:
    return cache_dir or Path(os.environ.get("GUANJIA_NLU_CACHE_DIR", "var/nlu-cache"))


@app.command()
def parse(text: str, time_: str = typer.Option(None, "--time", help="reference time, ISO 8601"),
          nlu_spec: str = typer.Option(None, "--nlu", help="builtin or a Rasa URL (default $GUANJIA_NLU)"),
          cache_dir: Path = typer.Option(None, "--cache-dir")) -> None:
    """Parse one message and print the Rasa-shaped JSON."""
    from . import load_nlu

    nlu = load_nlu(nlu_spec or os.environ.get("GUANJIA_NLU", "builtin"), cache_dir=_cache_dir(cache_dir))
    ref = datetime.fromisoformat(time_) if time_ else None
    typer.echo(json.dumps(nlu.parse(text, ref), ensure_ascii=False, indent=2))


@app.command()
def train(cache_dir: Path = typer.Option(None, "--cache-dir"),
          data_dir: Path = typer.Option(None, "--data", help="Rasa YAML folder (default nlu/data)")) -> None:
    """Train the built-in engine from nlu/data and write the model cache."""
    from .builtin import DATA_DIR, BuiltinNLU, data_fingerprint

    d = data_dir or DATA_DIR
    cd = _cache_dir(cache_dir)
    path = cd / f"builtin-{data_fingerprint(d)}.pkl"
    if path.exists():
        path.unlink()
    t0 = time.perf_counter()
    BuiltinNLU.load_or_train(cd, d)
    typer.echo(f"trained in {time.perf_counter() - t0:.1f}s -> {path}")


@app.command("eval")
def eval_(file: Path, cache_dir: Path = typer.Option(None, "--cache-dir"),
          nlu_spec: str = typer.Option(None, "--nlu"),
          errors: int = typer.Option(0, "--errors", help="print this many errors"),
          as_json: bool = typer.Option(False, "--json"),
          uncalibrated: bool = typer.Option(False, "--uncalibrated",
                                            help="built-in engine: report with temperature 1 (before calibration)")) -> None:
    """Evaluate on a Rasa YAML file/folder or a JSONL file; prints a reliability diagram and the ECE."""
    from . import load_nlu
    from .evaluate import evaluate, format_report
    from .rasa_yaml import load_examples

    nlu = load_nlu(nlu_spec or os.environ.get("GUANJIA_NLU", "builtin"), cache_dir=_cache_dir(cache_dir))
    if uncalibrated and hasattr(nlu, "temperature"):
        nlu.temperature = 1.0
    rep = evaluate(nlu, load_examples(file))
    if as_json:
        typer.echo(json.dumps({k: v for k, v in rep.items() if k != "errors"}, ensure_ascii=False, indent=2))
    else:
        typer.echo(format_report(rep, show_errors=errors))


if __name__ == "__main__":
    app()
