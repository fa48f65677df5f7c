"""Intent and entity metrics for an evaluation file (Rasa YAML or JSONL)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

from . import NLU
from .rasa_yaml import Example


def evaluate(nlu: NLU, examples: list[Example]) -> dict:
    y_true: list[str] = []
    y_pred: list[str] = []
    ent_tp: Counter[str] = Counter()
    ent_fp: Counter[str] = Counter()
    ent_fn: Counter[str] = Counter()
    style_tot: Counter[str] = Counter()
    style_ok: Counter[str] = Counter()
    errors = []
    confs: list[float] = []
    also_tot = also_rank = also_req = 0
    for ex in examples:
        ref = None
        if ex.metadata and ex.metadata.get("reference_time"):
            ref = datetime.fromisoformat(ex.metadata["reference_time"])
        r = nlu.parse(ex.text, ref)
        pred = r["intent"]["name"]
        confs.append(float(r["intent"]["confidence"]))
        for also in (ex.metadata or {}).get("also", []):
            # a second request: is it offered (top 3 of the ranking, or the optional "requests" key)?
            also_tot += 1
            also_rank += also in [x["name"] for x in r["intent_ranking"][:3]]
            also_req += also in [x["name"] for x in r.get("requests", [])]
        y_true.append(ex.intent)
        y_pred.append(pred)
        if ex.style:
            style_tot[ex.style] += 1
            style_ok[ex.style] += pred == ex.intent
        gold = {(e["entity"], e["start"], e["end"]) for e in ex.entities}
        got = {(e["entity"], e["start"], e["end"]) for e in r["entities"]}
        for e in gold & got:
            ent_tp[e[0]] += 1
        for e in got - gold:
            ent_fp[e[0]] += 1
        for e in gold - got:
            ent_fn[e[0]] += 1
        if pred != ex.intent or gold != got:
            errors.append({"text": ex.text, "gold": ex.intent, "pred": pred,
                           "missing": sorted(gold - got), "extra": sorted(got - gold)})
    labels = sorted(set(y_true) | set(y_pred))
    per_intent = {}
    for lab in labels:
        tp = sum(1 for t, p in zip(y_true, y_pred, strict=True) if t == lab and p == lab)
        fp = sum(1 for t, p in zip(y_true, y_pred, strict=True) if t != lab and p == lab)
        fn = sum(1 for t, p in zip(y_true, y_pred, strict=True) if t == lab and p != lab)
        per_intent[lab] = _prf(tp, fp, fn) | {"support": tp + fn}
    gold_labels = sorted(set(y_true))
    macro_f1 = sum(per_intent[lab]["f1"] for lab in gold_labels) / max(len(gold_labels), 1)
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    for t, p in zip(y_true, y_pred, strict=True):
        confusion[t][p] += 1
    ents = {}
    for name in sorted(set(ent_tp) | set(ent_fp) | set(ent_fn)):
        ents[name] = _prf(ent_tp[name], ent_fp[name], ent_fn[name]) | {"support": ent_tp[name] + ent_fn[name]}
    micro = _prf(sum(ent_tp.values()), sum(ent_fp.values()), sum(ent_fn.values()))
    n = len(y_true)
    return {
        "n": n,
        "intent_accuracy": sum(t == p for t, p in zip(y_true, y_pred, strict=True)) / max(n, 1),
        "intent_macro_f1": macro_f1,
        "per_intent": per_intent,
        "confusion": {k: dict(v) for k, v in confusion.items()},
        "entities": ents,
        "entity_micro": micro,
        "per_style": {s: {"n": style_tot[s], "accuracy": style_ok[s] / style_tot[s]} for s in sorted(style_tot)},
        "errors": errors,
        "reliability": reliability(confs, [t == p for t, p in zip(y_true, y_pred, strict=True)]),
        "second_request": {"n": also_tot, "in_top3": also_rank, "in_requests": also_req},
    }


def reliability(confs: list[float], correct: list[bool], bins: int = 10) -> dict:
    """Confidence bins against accuracy, and the expected calibration error (ECE)."""
    rows = []
    ece = 0.0
    n = len(confs)
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        idx = [i for i, c in enumerate(confs) if lo <= c < hi or (b == bins - 1 and c == 1.0)]
        if not idx:
            continue
        conf = sum(confs[i] for i in idx) / len(idx)
        acc = sum(correct[i] for i in idx) / len(idx)
        ece += len(idx) / n * abs(acc - conf)
        rows.append({"lo": lo, "hi": hi, "n": len(idx), "confidence": conf, "accuracy": acc})
    return {"bins": rows, "ece": ece}


def _prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f}


def format_report(rep: dict, *, show_errors: int = 0) -> str:
    lines = [f"examples: {rep['n']}",
             f"intent accuracy: {rep['intent_accuracy']:.4f}",
             f"intent macro-F1: {rep['intent_macro_f1']:.4f}", "",
             f"{'intent':22} {'prec':>6} {'rec':>6} {'f1':>6} {'n':>5}"]
    for lab, m in rep["per_intent"].items():
        lines.append(f"{lab:22} {m['precision']:6.3f} {m['recall']:6.3f} {m['f1']:6.3f} {m['support']:5d}")
    lines += ["", "confusion (gold -> predicted: count, off-diagonal only):"]
    for gold, row in sorted(rep["confusion"].items()):
        off = {p: c for p, c in row.items() if p != gold}
        if off:
            lines.append(f"  {gold:22} " + ", ".join(f"{p}: {c}" for p, c in sorted(off.items(), key=lambda x: -x[1])))
    lines += ["", f"{'entity':22} {'prec':>6} {'rec':>6} {'f1':>6} {'n':>5}"]
    for name, m in rep["entities"].items():
        lines.append(f"{name:22} {m['precision']:6.3f} {m['recall']:6.3f} {m['f1']:6.3f} {m['support']:5d}")
    mi = rep["entity_micro"]
    lines.append(f"{'ALL (micro)':22} {mi['precision']:6.3f} {mi['recall']:6.3f} {mi['f1']:6.3f}")
    if rep["per_style"]:
        lines += ["", f"{'style':22} {'acc':>6} {'n':>5}"]
        for s, m in rep["per_style"].items():
            lines.append(f"{s:22} {m['accuracy']:6.3f} {m['n']:5d}")
    rel = rep.get("reliability")
    if rel and rel["bins"]:
        lines += ["", "reliability (confidence of the top intent vs accuracy):",
                  f"  {'bin':11} {'n':>5} {'conf':>6} {'acc':>6}"]
        for b in rel["bins"]:
            bar = "#" * round(b["accuracy"] * 20)
            lines.append(f"  {b['lo']:.1f}-{b['hi']:.1f}   {b['n']:5d} {b['confidence']:6.3f} {b['accuracy']:6.3f} {bar}")
        lines.append(f"  ECE: {rel['ece']:.4f}")
    sr = rep.get("second_request")
    if sr and sr["n"]:
        lines.append(f"second requests: {sr['n']}, in top 3 of intent_ranking: {sr['in_top3']}, "
                     f"in 'requests': {sr['in_requests']}")
    if show_errors:
        lines += ["", "errors:"]
        for e in rep["errors"][:show_errors]:
            lines.append(f"  {e['gold']} -> {e['pred']}: {e['text'][:80]!r} missing={e['missing']} extra={e['extra']}")
    return "\n".join(lines)
