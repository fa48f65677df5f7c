"""The built-in engine: rules + lookups for entities, a linear classifier for intents."""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import re
import time
import unicodedata
from datetime import datetime
from pathlib import Path

import jieba

from .classifier import SoftmaxClassifier, digit_runs, featurize, prepare
from .entities import ENTITY_NAMES, EntityExtractor, Lexicon
from .rasa_yaml import TrainingData, load_training_dir
from .textnorm import lower_ascii, normalize

log = logging.getLogger(__name__)
jieba.setLogLevel(logging.WARNING)

DATA_DIR = Path(__file__).resolve().parent / "data"
MODEL_VERSION = "guanjia-nlu-10"
OOS = "out_of_scope"
THRESHOLD = 0.3
MAX_ENTITY_CHARS = 600
CLF_CHARS = 150
JIEBA_WORDS = 60000
_CONTENT_RE = re.compile(r"[0-9A-Za-z\u3400-\u9fff\uf900-\ufaff]")
_LATIN_TOKEN_RE = re.compile(r"[a-z]{2,}")

EXTRA_WORDS = ["号楼", "单元", "物业费", "停车费", "报修", "投诉", "漏水", "堵了", "坏了", "师傅", "业主",
               "管家", "工单", "门禁卡", "电梯", "充电桩", "不亮", "没水", "停水", "停电", "渗水"]


def _pinyin_map() -> dict[str, str]:
    from pypinyin.pinyin_dict import pinyin_dict

    out = {}
    for code, readings in pinyin_dict.items():
        if 0x4E00 <= code <= 0x9FFF:
            first = readings.split(",")[0]
            base = "".join(c for c in unicodedata.normalize("NFD", first) if not unicodedata.combining(c))
            out[chr(code)] = base
    return out


def _jieba_freq(domain_words: set[str]) -> tuple[dict[str, int], int]:
    path = Path(jieba.__file__).parent / "dict.txt"
    entries: list[tuple[str, int]] = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            parts = line.split(" ")
            if len(parts) >= 2:
                entries.append((parts[0], int(parts[1])))
    entries.sort(key=lambda e: (-e[1], e[0]))
    chosen = dict(entries[:JIEBA_WORDS])
    for w in sorted(domain_words):
        if w and len(w) <= 8 and " " not in w:
            chosen[w] = max(chosen.get(w, 0), 2000)
    lfreq: dict[str, int] = {}
    total = 0
    for w, fr in chosen.items():
        lfreq[w] = fr
        total += fr
    for w in list(chosen):
        for i in range(1, len(w)):
            lfreq.setdefault(w[:i], 0)
    return lfreq, total


def build_lexicon(td: TrainingData) -> Lexicon:
    lk = td.lookups
    lex = Lexicon(
        facility=set(lk.get("facility", [])),
        facility_not=set(lk.get("not_facility", [])),
        fee_type=set(lk.get("fee_type", [])),
        surname=set(lk.get("surname", [])),
        person_title=set(lk.get("person_title", [])),
        english_name=set(lk.get("english_name", [])),
    )
    if lk.get("plate_prefix"):
        lex.plate_prefix = {p.strip() for p in lk["plate_prefix"] if p.strip()}
    # annotated spans feed the lookups too
    for ex in td.examples:
        for e in ex.entities:
            span = ex.text[e["start"]:e["end"]]
            if e["entity"] == "facility":
                lex.facility.add(span)
            elif e["entity"] == "fee_type":
                lex.fee_type.add(span)
    lex.facility -= lex.fee_type
    return lex


def data_fingerprint(data_dir: Path) -> str:
    h = hashlib.sha256(MODEL_VERSION.encode())
    for p in sorted(data_dir.rglob("*")):
        if p.suffix in (".yml", ".yaml") and "heldout" not in p.relative_to(data_dir).parts:
            h.update(str(p.relative_to(data_dir)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


class BuiltinNLU:
    name = "builtin"

    def __init__(self, state: dict) -> None:
        self.state = state
        self.clf: SoftmaxClassifier = state["clf"]
        self.lexicon: Lexicon = state["lexicon"]
        self._py: dict[str, str] = state["pinyin"]
        tok = jieba.Tokenizer()
        tok.FREQ, tok.total = state["jieba_freq"], state["jieba_total"]
        tok.initialized = True
        self._tok = tok
        self.extractor = EntityExtractor(self.lexicon, self._py, state["jieba_freq"],
                                         lambda s: tok.cut(s, HMM=False))
        self.threshold = THRESHOLD

    # ------------------------------------------------------------------ training / cache
    @classmethod
    def train(cls, data_dir: Path = DATA_DIR) -> BuiltinNLU:
        td = load_training_dir(data_dir)
        lex = build_lexicon(td)
        domain = set(EXTRA_WORDS) | lex.facility | lex.fee_type | set(lex.person_title)
        freq, total = _jieba_freq(domain)
        state = {"version": MODEL_VERSION, "lexicon": lex, "jieba_freq": freq, "jieba_total": total,
                 "pinyin": _pinyin_map(), "clf": None}
        self = cls.__new__(cls)
        self.__init__({**state, "clf": SoftmaxClassifier(["x"], {}, None, None)})  # type: ignore[arg-type]
        X = [self._features(ex.text) for ex in td.examples]
        y = [ex.intent for ex in td.examples]
        clf = SoftmaxClassifier.train(X, y)
        state["clf"] = clf
        return cls(state)

    @classmethod
    def load_or_train(cls, cache_dir: Path | None = None, data_dir: Path = DATA_DIR) -> BuiltinNLU:
        cache_dir = Path(cache_dir) if cache_dir is not None else Path("var/nlu-cache")
        fp = data_fingerprint(data_dir)
        path = cache_dir / f"builtin-{fp}.pkl"
        if path.exists():
            try:
                with path.open("rb") as f:
                    state = pickle.load(f)
                if state.get("version") == MODEL_VERSION:
                    return cls(state)
            except Exception as exc:  # a broken cache is rebuilt, never fatal
                log.warning("NLU cache %s unreadable (%s); retraining", path, exc)
        t0 = time.perf_counter()
        nlu = cls.train(data_dir)
        log.info("NLU trained in %.1fs", time.perf_counter() - t0)
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            with tmp.open("wb") as f:
                pickle.dump(nlu.state, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("could not write NLU cache %s: %s", path, exc)
        return nlu

    # ------------------------------------------------------------------ parsing
    def _pinyin(self, s: str) -> str:
        py = self._py
        return " ".join(py[c] for c in s if c in py)

    def _features(self, text: str, ent_types: list[str] | None = None) -> list[str]:
        nt = normalize(text)
        t = prepare(lower_ascii(nt))
        words = self._tok.cut(t, HMM=len(t) <= 80)  # the HMM is slow on long unknown runs
        if ent_types is None:
            ents = self.extractor.extract(normalize(text[:MAX_ENTITY_CHARS]), datetime(2026, 1, 1))
            ent_types = [e["entity"] for e in ents]
        feats = featurize(t, words, self._pinyin, ent_types)
        feats.extend("pp:" + m.group(0) for m in _LATIN_TOKEN_RE.finditer(t))
        feats.extend(digit_runs(nt))
        return feats

    def parse(self, text: str, reference_time: datetime | None = None) -> dict:
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        ref = reference_time or datetime.now()
        if ref.tzinfo is not None:
            ref = ref.replace(tzinfo=None)
        norm = normalize(text[:MAX_ENTITY_CHARS])
        ents = self.extractor.extract(norm, ref)
        for e in ents:
            if e["entity"] in ("facility", "fee_type", "person_name"):
                e["value"] = text[e["start"]:e["end"]]
        if not _CONTENT_RE.search(norm) and not _CONTENT_RE.search(normalize(text[-400:])):
            rest = [{"name": c, "confidence": 0.0} for c in self.clf.classes if c != OOS][:9]
            ranking = [{"name": OOS, "confidence": 1.0}, *rest]
            return {"text": text, "intent": dict(ranking[0]), "entities": ents, "intent_ranking": ranking}
        clf_text = text if len(text) <= 2 * CLF_CHARS else text[:CLF_CHARS] + " " + text[-CLF_CHARS:]
        feats = self._features(clf_text, [e["entity"] for e in ents])
        probs = self.clf.scores(feats)
        order = probs.argsort()[::-1]
        ranking = [{"name": self.clf.classes[i], "confidence": round(float(probs[i]), 4)} for i in order[:10]]
        top = ranking[0]
        if top["confidence"] < self.threshold and top["name"] != OOS:
            conf = round(1.0 - top["confidence"], 4)
            ranking = [r for r in ranking if r["name"] != OOS]
            ranking.insert(0, {"name": OOS, "confidence": conf})
            ranking = ranking[:10]
        return {"text": text, "intent": dict(ranking[0]), "entities": ents, "intent_ranking": ranking}


__all__ = ["ENTITY_NAMES", "BuiltinNLU"]
