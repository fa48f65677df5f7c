"""Training data is well-formed; the model trains deterministically and loads from cache fast."""

from __future__ import annotations

import json
import pickle
import time
from pathlib import Path

import yaml

from nlu.builtin import DATA_DIR, BuiltinNLU, data_fingerprint
from nlu.entities import ENTITY_NAMES
from nlu.rasa_yaml import ANNOT_RE, load_jsonl, load_training_dir

# the held-out sets written before bind_home/human_agent/inform joined the contract
OLD_INTENTS = {"report_repair", "report_emergency", "file_complaint", "make_suggestion", "register_visitor",
               "query_fee", "check_ticket_status", "ask_info", "join_event", "greet", "goodbye", "thank",
               "affirm", "deny", "cancel", "out_of_scope"}
INTENTS = OLD_INTENTS | {"bind_home", "human_agent", "inform"}
HELDOUT = DATA_DIR / "heldout" / "heldout.jsonl"


def test_yaml_files_are_rasa_3_1():
    files = sorted(p for p in DATA_DIR.glob("*.yml"))
    assert files
    for p in files:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
        assert str(doc["version"]) == "3.1", p
        assert set(doc) <= {"version", "nlu"}, p
        for item in doc["nlu"]:
            kinds = set(item) & {"intent", "synonym", "regex", "lookup"}
            assert len(kinds) == 1, item
            assert isinstance(item["examples"], str), item
            for line in item["examples"].splitlines():
                assert line.startswith("- "), (p, line)


def test_annotations_strict():
    td = load_training_dir(DATA_DIR)
    assert len(td.examples) >= 1300
    seen = set()
    for ex in td.examples:
        assert ex.intent in INTENTS, ex.intent
        assert ex.text.strip() == ex.text and ex.text, ex
        assert "[" not in ex.text or not ANNOT_RE.search(ex.text), ex.text
        seen.add((ex.text, ex.intent))
        last = 0
        for e in ex.entities:
            assert e["entity"] in ENTITY_NAMES, (ex.text, e)
            assert 0 <= e["start"] < e["end"] <= len(ex.text), (ex.text, e)
            assert e["start"] >= last, ("overlapping entities", ex.text)
            last = e["end"]
            span = ex.text[e["start"]:e["end"]]
            assert span.strip() == span, (ex.text, e)
            if e["entity"] in ("facility", "fee_type", "person_name"):
                assert e["value"] == span
            if e["entity"] in ("room", "phone"):
                assert e["value"].isdigit(), e
    per_intent = {}
    for ex in td.examples:
        per_intent[ex.intent] = per_intent.get(ex.intent, 0) + 1
    assert set(per_intent) == INTENTS
    assert min(per_intent.values()) >= 40
    for name in ("facility", "fee_type", "plate_prefix", "surname"):
        assert td.lookups.get(name), name
    for name in td.regexes:
        assert name in ENTITY_NAMES  # RegexEntityExtractor needs regex name == entity name


def test_heldout_is_separate_and_valid():
    rows = load_jsonl(HELDOUT)
    assert len(rows) >= 300
    train_texts = {ex.text for ex in load_training_dir(DATA_DIR).examples}
    # one-word replies (你好, 不对) are bound to coincide; nothing longer may
    overlap = [r.text for r in rows if r.text in train_texts and len(r.text) > 4]
    assert overlap == []
    for r in rows:
        assert r.intent in INTENTS
        assert r.style
        for e in r.entities:
            assert e["entity"] in ENTITY_NAMES
            assert 0 <= e["start"] < e["end"] <= len(r.text)
    for line in HELDOUT.read_text(encoding="utf-8").splitlines():
        assert set(json.loads(line)) >= {"text", "intent", "entities", "style"}


def test_cache_roundtrip_and_load_time(tmp_path: Path, nlu):
    t0 = time.perf_counter()
    a = BuiltinNLU.load_or_train(tmp_path)
    train_s = time.perf_counter() - t0
    assert train_s < 60
    files = list(tmp_path.glob("builtin-*.pkl"))
    assert len(files) == 1 and data_fingerprint(DATA_DIR) in files[0].name
    t0 = time.perf_counter()
    b = BuiltinNLU.load_or_train(tmp_path)
    assert time.perf_counter() - t0 < 2.0
    msg = "3号楼2单元1502厨房水管漏水了"
    assert a.parse(msg) == b.parse(msg)
    # deterministic training: same weights as the session model
    assert (a.clf.W == nlu.clf.W).all()


def test_corrupt_cache_is_rebuilt(tmp_path: Path):
    path = tmp_path / f"builtin-{data_fingerprint(DATA_DIR)}.pkl"
    path.write_bytes(b"not a pickle")
    n = BuiltinNLU.load_or_train(tmp_path)
    assert n.parse("你好")["intent"]["name"] == "greet"
    with path.open("rb") as f:
        assert pickle.load(f)["version"]


HELDOUT2 = DATA_DIR / "heldout" / "heldout2.jsonl"


def test_second_heldout_is_separate_and_valid():
    rows = load_jsonl(HELDOUT2)
    assert len(rows) >= 250
    train_texts = {ex.text for ex in load_training_dir(DATA_DIR).examples}
    first = {r.text for r in load_jsonl(HELDOUT)}
    assert [r.text for r in rows if r.text in train_texts and len(r.text) > 4] == []
    assert [r.text for r in rows if r.text in first] == []
    assert {r.intent for r in rows} == OLD_INTENTS
    for r in rows:
        assert r.style
        for e in r.entities:
            assert e["entity"] in ENTITY_NAMES
            assert 0 <= e["start"] < e["end"] <= len(r.text)


def test_rasa_config_pipeline():
    cfg = yaml.safe_load((DATA_DIR.parent / "config.yml").read_text(encoding="utf-8"))
    assert cfg["language"] == "zh"
    names = [c["name"] for c in cfg["pipeline"]]
    assert names == ["JiebaTokenizer", "RegexFeaturizer", "LexicalSyntacticFeaturizer", "CountVectorsFeaturizer",
                     "CountVectorsFeaturizer", "DIETClassifier", "EntitySynonymMapper", "FallbackClassifier"]
    char = cfg["pipeline"][4]
    assert (char["analyzer"], char["min_ngram"], char["max_ngram"]) == ("char_wb", 1, 4)
    assert cfg["pipeline"][1]["use_word_boundaries"] is False
    assert cfg["pipeline"][-1]["threshold"] == 0.3


REAL_POSTS = DATA_DIR / "heldout" / "real_posts.jsonl"


def test_real_posts_heldout_is_separate_and_long():
    rows = load_jsonl(REAL_POSTS)
    assert len(rows) >= 150
    train_texts = {ex.text for ex in load_training_dir(DATA_DIR).examples}
    assert [r.text for r in rows if r.text in train_texts] == []
    lengths = sorted(len(r.text) for r in rows)
    assert lengths[len(lengths) // 2] >= 30
    assert sum(n > 100 for n in lengths) >= 5
    for r in rows:
        assert r.intent in INTENTS
        for also in (r.metadata or {}).get("also", []):
            assert also in INTENTS and also != r.intent
        for e in r.entities:
            assert e["entity"] in ENTITY_NAMES
            assert 0 <= e["start"] < e["end"] <= len(r.text)


def test_entity_spans_on_rasa_token_boundaries():
    # Rasa's JiebaTokenizer with nlu/jieba/ (config.yml dictionary_path) cuts no annotated span
    import jieba

    from nlu.rasa_dict import misaligned

    cfg = yaml.safe_load((DATA_DIR.parent / "config.yml").read_text(encoding="utf-8"))
    tok = jieba.Tokenizer()
    for p in sorted((DATA_DIR.parents[1] / cfg["pipeline"][0]["dictionary_path"]).glob("*")):
        tok.load_userdict(str(p))
    bad = misaligned(tok, load_training_dir(DATA_DIR).examples)
    assert [(ex.text, e["entity"]) for ex, e, _ in bad] == []
