"""Maintenance tool: add entity markup to plain training lines with the built-in extractor.

    python -m nlu.annotate nlu/data/nlu_repair.yml   # rewrites lines that have no markup yet

Lines that already carry [..](..) / [..]{..} markup are left as written (hand annotation wins).
The output is reviewed by hand before it is committed.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

from .builtin import DATA_DIR, _jieba_freq, _pinyin_map, build_lexicon
from .entities import EntityExtractor
from .rasa_yaml import ANNOT_RE, load_training_dir
from .textnorm import normalize

REF = datetime(2026, 11, 23, 10, 0)


def markup(text: str, ents: list[dict]) -> str:
    out, pos = [], 0
    for e in sorted(ents, key=lambda e: e["start"]):
        span = text[e["start"]:e["end"]]
        out.append(text[pos:e["start"]])
        if e["entity"] in ("building", "unit", "room", "phone", "plate_number", "ticket_id") and e["value"] != span:
            spec = json.dumps({"entity": e["entity"], "value": e["value"]}, ensure_ascii=False)
            out.append(f"[{span}]{spec}")
        else:
            out.append(f"[{span}]({e['entity']})")
        pos = e["end"]
    out.append(text[pos:])
    return "".join(out)


def main(paths: list[str]) -> None:
    lex = build_lexicon(load_training_dir(DATA_DIR))
    freq, _ = _jieba_freq(lex.facility | lex.fee_type)
    ext = EntityExtractor(lex, _pinyin_map(), freq)
    for p in paths:
        lines = Path(p).read_text(encoding="utf-8").splitlines()
        new = []
        in_intent = False
        for line in lines:
            if line.startswith("- "):
                in_intent = line.startswith("- intent:")
            s = line.strip()
            if in_intent and line.startswith("    - ") and not ANNOT_RE.search(s):
                text = s[2:]
                if any(c in text for c in "[]{}()"):
                    new.append(line)
                    continue
                ents = ext.extract(normalize(text), REF)
                line = "    - " + markup(text, ents)
            new.append(line)
        Path(p).write_text("\n".join(new) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
