"""Maintenance tool: write nlu/jieba/guanjia.txt, the jieba user dictionary for Rasa's JiebaTokenizer.

    python -m nlu.rasa_dict            # rewrite the dictionary, print what stays misaligned

Rasa learns an entity only when its span starts and ends on token boundaries; jieba's own
dictionary cuts through many annotated spans (煤/气味, 楼道/灯不亮, 二次/供水/费是).  The
dictionary adds every annotated span as a word and switches off (frequency 0) the dictionary
words that straddle a span boundary, over a few rounds.  config.yml points `dictionary_path`
at nlu/jieba/.  The built-in engine does not read this file.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import jieba

from .builtin import DATA_DIR
from .rasa_yaml import Example, load_training_dir

OUT = Path(__file__).resolve().parent / "jieba" / "guanjia.txt"
SPAN_FREQ = 50000
ROUNDS = 6
jieba.setLogLevel(logging.WARNING)


def misaligned(tok: jieba.Tokenizer, examples: list[Example]) -> list[tuple[Example, dict, list[tuple[str, int, int]]]]:
    out = []
    for ex in examples:
        toks = list(tok.tokenize(ex.text))
        starts = {s for _, s, _ in toks}
        ends = {e for _, _, e in toks}
        for e in ex.entities:
            if e["start"] not in starts or e["end"] not in ends:
                out.append((ex, e, [t for t in toks if t[1] < e["end"] and t[2] > e["start"]]))
    return out


def build(examples: list[Example]) -> tuple[dict[str, int], list]:
    words: dict[str, int] = {}
    for ex in examples:
        for e in ex.entities:
            span = ex.text[e["start"]:e["end"]]
            if span.strip() == span and " " not in span and len(span) > 1:
                words[span] = SPAN_FREQ
    bad: list = []
    for _ in range(ROUNDS):
        tok = jieba.Tokenizer()
        for w, f in words.items():
            tok.add_word(w, f)
        bad = misaligned(tok, examples)
        if not bad:
            break
        for _, e, toks in bad:
            for w, s, t in toks:
                cuts = s < e["start"] < t or s < e["end"] < t
                if cuts and words.get(w) != SPAN_FREQ and " " not in w:
                    words[w] = 0  # a dictionary word straddling an entity boundary
    return words, bad


def main() -> None:
    examples = load_training_dir(DATA_DIR).examples
    words, bad = build(examples)
    lines = [f"{w} {f}" for w, f in sorted(words.items())]
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(words)} words -> {OUT}; still misaligned: {len(bad)}")
    for ex, e, toks in bad:
        print(f"  {e['entity']}: {ex.text[e['start']:e['end']]!r} tokens {[t[0] for t in toks]} in {ex.text!r}",
              file=sys.stdout)


if __name__ == "__main__":
    main()
