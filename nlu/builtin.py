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
import numpy as np

from .classifier import SoftmaxClassifier, digit_runs, featurize_core, featurize_edges, prepare, softmax
from .entities import ENTITY_NAMES, EntityExtractor, Lexicon
from .rasa_yaml import TrainingData, load_training_dir
from .textnorm import lower_ascii, normalize

log = logging.getLogger(__name__)
jieba.setLogLevel(logging.WARNING)

DATA_DIR = Path(__file__).resolve().parent / "data"
MODEL_VERSION = "guanjia-nlu-12"
OOS = "out_of_scope"
THRESHOLD = 0.3
MAX_ENTITY_CHARS = 600
CLF_CHARS = 150
JIEBA_WORDS = 60000
_CONTENT_RE = re.compile(r"[0-9A-Za-z\u3400-\u9fff\uf900-\ufaff]")
_LATIN_TOKEN_RE = re.compile(r"[a-z]{2,}")
# a long message is also read sentence by sentence: its point (and a second request) is often in one sentence
_SENT_RE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;\n]*")
_CLAUSE_RE = re.compile(r"[^，,、\s]+[，,、\s]*")
_REQUEST_RE = re.compile(r"希望|请|麻烦|建议|要求|能不能|能否|可不可以|可以吗|吗|[?？]|赶紧|尽快|快来|快派|帮忙|帮我|怎么|多少|是否|"
                         r"督促|协调|处理|解决|报名|登记|放行|管管|管一管|给个说法|转人工|绑定|认证|取消")
CALIB_EVERY = 5  # one example in five of each intent fits the temperature
SEGMENT_MIN_TEXT = 24  # shorter messages are one sentence
RUN_ON_CHARS = 60  # a sentence longer than this is split at commas and spaces
SEGMENT_SHARE = 0.5  # weight of the sentence vote against the whole-message reading
REQUEST_WEIGHT = 1.0  # a sentence with a request phrase (希望, 请, 麻烦, 吗…) counts double
LAST_WEIGHT = 0.5  # the end of a message counts more
SECOND_MIN_PROB = 0.5  # a sentence's own intent must be this sure to be offered as a second request
SEGMENT_MIN_CHARS = 8  # clauses shorter than this join their neighbour
MAX_SEGMENTS = 8
CONTENT_INTENTS = ("report_repair", "report_emergency", "file_complaint", "make_suggestion", "register_visitor",
                   "query_fee", "check_ticket_status", "ask_info", "join_event", "bind_home", "human_agent", "cancel")

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
        self.temperature: float = state.get("temperature", 1.0)

    # ------------------------------------------------------------------ training / cache
    @classmethod
    def train(cls, data_dir: Path = DATA_DIR, *, calibrate: bool = True,
              exclude: set[int] | None = None) -> BuiltinNLU:
        """Train on nlu/data; `exclude` drops examples by index (cross-validation only)."""
        td = load_training_dir(data_dir)
        lex = build_lexicon(td)
        domain = set(EXTRA_WORDS) | lex.facility | lex.fee_type | set(lex.person_title)
        freq, total = _jieba_freq(domain)
        state = {"version": MODEL_VERSION, "lexicon": lex, "jieba_freq": freq, "jieba_total": total,
                 "pinyin": _pinyin_map(), "clf": None, "temperature": 1.0}
        self = cls.__new__(cls)
        self.__init__({**state, "clf": SoftmaxClassifier(["x"], {}, None, None)})  # type: ignore[arg-type]
        examples = [ex for i, ex in enumerate(td.examples) if not exclude or i not in exclude]
        X = [self._features(ex.text) for ex in examples]
        y = [ex.intent for ex in examples]
        if calibrate:
            # temperature fitted on every CALIB_EVERY-th example of each intent, held out from a first model
            held, seen = [], {}
            for i, lab in enumerate(y):
                seen[lab] = seen.get(lab, 0) + 1
                if seen[lab] % CALIB_EVERY == 0:
                    held.append(i)
            hs = set(held)
            fit = [i for i in range(len(y)) if i not in hs]
            self.clf = SoftmaxClassifier.train([X[i] for i in fit], [y[i] for i in fit])
            state["temperature"] = self.fit_temperature([examples[i] for i in held])
        state["clf"] = SoftmaxClassifier.train(X, y)
        return cls(state)

    def fit_temperature(self, examples: list) -> float:
        """The temperature that minimises the negative log-likelihood of the parse's final probabilities."""
        cidx = {c: i for i, c in enumerate(self.clf.classes)}
        rows = []
        for ex in examples:
            if ex.intent not in cidx:
                continue
            ents = self.extractor.extract(normalize(ex.text[:MAX_ENTITY_CHARS]), datetime(2026, 1, 1))
            rows.append((self._intent_logits(ex.text, ents), cidx[ex.intent]))
        best, best_nll = 1.0, float("inf")
        for t in np.geomspace(0.25, 4.0, 49):
            nll = -sum(np.log(max(float(self._combine(z, parts, t)[0][g]), 1e-9)) for (z, parts), g in rows)
            if nll < best_nll:
                best, best_nll = float(t), nll
        return best

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

    def _core(self, text: str) -> list[str]:
        nt = normalize(text)
        t = prepare(lower_ascii(nt))
        words = self._tok.cut(t, HMM=len(t) <= 80)  # the HMM is slow on long unknown runs
        feats = featurize_core(t, words, self._pinyin)
        feats.extend("pp:" + m.group(0) for m in _LATIN_TOKEN_RE.finditer(t))
        feats.extend(digit_runs(nt))
        return feats

    def _edges(self, text: str) -> list[str]:
        return featurize_edges(prepare(lower_ascii(normalize(text))))

    def _features(self, text: str, ent_types: list[str] | None = None) -> list[str]:
        """Features of a whole message (training and parsing alike)."""
        if ent_types is None:
            ents = self.extractor.extract(normalize(text[:MAX_ENTITY_CHARS]), datetime(2026, 1, 1))
            ent_types = [e["entity"] for e in ents]
        return self._read(_clf_text(text), [(t, 0) for t in ent_types])[0]

    def _read(self, text: str, ents: list[tuple[str, int]]) -> tuple[list[str], list[tuple[list[str], int, int]]]:
        """Whole-message features, and per sentence of a long message its features and span.

        A long message's core features are the union of its sentences' (punctuation already cuts
        n-grams), so reading it sentence by sentence costs little more than reading it once."""
        spans = segments(text)
        ent_feats = ["e:" + name for name, _ in ents]
        if not spans:
            return self._edges(text) + self._core(text) + ent_feats, []
        whole = self._edges(text) + ent_feats
        segs = []
        for s, e in spans:
            core = self._core(text[s:e])
            whole.extend(core)
            seg_ents = ["e:" + name for name, pos in ents if s <= pos < e]
            segs.append((self._edges(text[s:e]) + core + seg_ents, s, e))
        return whole, segs

    def _intent_logits(self, text: str, ents: list[dict]) -> tuple[np.ndarray, list[tuple[np.ndarray, float, int, int]]]:
        """Logits of the whole message, and of each sentence of a long one with its weight and span."""
        clf_text = _clf_text(text)
        marks = [(e["entity"], e["start"]) for e in ents]
        whole, segs = self._read(clf_text, marks)
        if clf_text is not text:  # very long: sentences of the full text for the second request
            segs = [(self._edges(text[s:e]) + self._core(text[s:e])
                     + ["e:" + n for n, p in marks if s <= p < e], s, e) for s, e in segments(text)]
        z = self.clf.logits(whole)
        parts = []
        for i, (feats, s, e) in enumerate(segs):
            seg = text[s:e]
            w = 1.0 + (REQUEST_WEIGHT if _REQUEST_RE.search(seg) else 0.0) + (LAST_WEIGHT if i == len(segs) - 1 else 0.0)
            parts.append((self.clf.logits(feats), w, s, e))
        return z, parts

    def _combine(self, z: np.ndarray, parts: list, temperature: float) -> tuple[np.ndarray, list[np.ndarray]]:
        p = softmax(z / temperature)
        if not parts:
            return p, []
        seg_p = [softmax(zs / temperature) for zs, _, _, _ in parts]
        ws = np.array([w for _, w, _, _ in parts])
        mix = (np.stack(seg_p) * ws[:, None]).sum(axis=0) / ws.sum()
        return (1.0 - SEGMENT_SHARE) * p + SEGMENT_SHARE * mix, seg_p

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
        z, parts = self._intent_logits(text, ents)
        probs, seg_p = self._combine(z, parts, self.temperature)
        classes = self.clf.classes
        order = probs.argsort()[::-1]
        ranking = [{"name": classes[i], "confidence": round(float(probs[i]), 4)} for i in order[:10]]
        top = ranking[0]
        if top["confidence"] < self.threshold and top["name"] != OOS:
            conf = round(1.0 - top["confidence"], 4)
            ranking = [r for r in ranking if r["name"] != OOS]
            ranking.insert(0, {"name": OOS, "confidence": conf})
            ranking = ranking[:10]
        out = {"text": text, "intent": dict(ranking[0]), "entities": ents, "intent_ranking": ranking}
        requests = self._requests(ranking[0]["name"], probs, parts, seg_p)
        if requests:
            out["requests"] = requests
        return out

    def _requests(self, main: str, probs: np.ndarray, parts: list, seg_p: list[np.ndarray]) -> list[dict]:
        """Each distinct request of a long message, where a sentence carries one other than the main intent."""
        classes = self.clf.classes
        found: dict[str, dict] = {}
        for (_, _, s, e), p in zip(parts, seg_p, strict=True):
            i = int(p.argmax())
            name = classes[i]
            if name not in CONTENT_INTENTS or p[i] < SECOND_MIN_PROB:
                continue
            if name not in found or p[i] > found[name]["sentence_confidence"]:
                found[name] = {"name": name, "confidence": round(float(probs[i]), 4),
                               "sentence_confidence": round(float(p[i]), 4), "start": s, "end": e}
        if not any(n != main for n in found):
            return []
        first = found.pop(main, None)
        rest = sorted(found.values(), key=lambda r: -r["confidence"])
        return ([first] if first else []) + rest


def _clf_text(text: str) -> str:
    return text if len(text) <= 2 * CLF_CHARS else text[:CLF_CHARS] + " " + text[-CLF_CHARS:]


def segments(text: str) -> list[tuple[int, int]]:
    """Sentence spans of a long message (clauses of a long run-on one); [] for a short message."""
    if len(text) < SEGMENT_MIN_TEXT:
        return []
    pieces: list[tuple[int, int]] = []
    for m in _SENT_RE.finditer(text):
        s, e = m.start(), m.end()
        if e - s > RUN_ON_CHARS:
            pieces.extend((s + c.start(), s + c.end()) for c in _CLAUSE_RE.finditer(text[s:e]))
        else:
            pieces.append((s, e))
    merged: list[tuple[int, int]] = []
    for s, e in pieces:
        if merged and merged[-1][1] - merged[-1][0] < SEGMENT_MIN_CHARS:
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    if len(merged) > 1 and merged[-1][1] - merged[-1][0] < SEGMENT_MIN_CHARS:
        s, e = merged.pop()
        merged[-1] = (merged[-1][0], e)
    if len(merged) < 2:
        return []
    if len(merged) > MAX_SEGMENTS:  # keep the opening and the end, where the request usually is
        merged = merged[:2] + merged[-(MAX_SEGMENTS - 2):]
    return merged


__all__ = ["ENTITY_NAMES", "BuiltinNLU"]
