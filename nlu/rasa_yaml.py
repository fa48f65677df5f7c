"""Read (and check) Rasa 3.x NLU YAML training data, and JSONL evaluation files."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ANNOT_RE = re.compile(r"\[(?P<text>[^\[\]]+?)\](?:\((?P<ent>[^()]+?)\)|(?P<json>\{[^{}]*\}))")


@dataclass
class Example:
    text: str
    intent: str
    entities: list[dict] = field(default_factory=list)
    style: str | None = None
    metadata: dict | None = None


@dataclass
class TrainingData:
    examples: list[Example] = field(default_factory=list)
    synonyms: dict[str, str] = field(default_factory=dict)  # surface -> canonical
    regexes: dict[str, list[str]] = field(default_factory=dict)
    lookups: dict[str, list[str]] = field(default_factory=dict)

    def merge(self, other: TrainingData) -> None:
        self.examples += other.examples
        self.synonyms.update(other.synonyms)
        for k, v in other.regexes.items():
            self.regexes.setdefault(k, []).extend(v)
        for k, v in other.lookups.items():
            self.lookups.setdefault(k, []).extend(v)


class DataError(ValueError):
    pass


def parse_annotated(line: str) -> tuple[str, list[dict]]:
    """'[3号楼](building)漏水' -> ('3号楼漏水', [{entity, start, end, value}])."""
    out: list[str] = []
    ents: list[dict] = []
    pos = 0
    length = 0
    for m in ANNOT_RE.finditer(line):
        chunk = line[pos:m.start()]
        out.append(chunk)
        length += len(chunk)
        span = m.group("text")
        if m.group("ent") is not None:
            spec = m.group("ent")
            name, _, value = spec.partition(":")
            info = {"entity": name.strip()}
            if value:
                info["value"] = value
        else:
            try:
                info = json.loads(m.group("json"))
            except json.JSONDecodeError as exc:
                raise DataError(f"bad entity JSON in {line!r}: {exc}") from exc
            if not isinstance(info, dict) or "entity" not in info:
                raise DataError(f"entity JSON without 'entity' in {line!r}")
        ent = {"entity": info["entity"], "start": length, "end": length + len(span),
               "value": str(info.get("value", span))}
        for k in ("role", "group"):
            if k in info:
                ent[k] = info[k]
        ents.append(ent)
        out.append(span)
        length += len(span)
        pos = m.end()
    out.append(line[pos:])
    return "".join(out), ents


def _example_lines(block: object) -> list[tuple[str, dict | None]]:
    if isinstance(block, str):
        lines = []
        for raw in block.splitlines():
            s = raw.strip()
            if not s:
                continue
            if not s.startswith("- "):
                raise DataError(f"example line must start with '- ': {raw!r}")
            lines.append((s[2:].strip(), None))
        return lines
    if isinstance(block, list):
        res = []
        for item in block:
            if isinstance(item, dict) and "text" in item:
                res.append((str(item["text"]).strip(), item.get("metadata")))
            else:
                raise DataError(f"bad example item: {item!r}")
        return res
    raise DataError(f"bad examples block: {block!r}")


def load_yaml_file(path: Path) -> TrainingData:
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    td = TrainingData()
    if not isinstance(doc, dict):
        raise DataError(f"{path}: not a mapping")
    version = str(doc.get("version", "3.1"))
    if version != "3.1":
        raise DataError(f"{path}: version must be \"3.1\", got {version!r}")
    for item in doc.get("nlu", []) or []:
        if not isinstance(item, dict):
            raise DataError(f"{path}: bad nlu item {item!r}")
        if "intent" in item:
            intent = str(item["intent"])
            style = None
            if isinstance(item.get("metadata"), dict):
                style = item["metadata"].get("style")
            for text, meta in _example_lines(item.get("examples", "")):
                plain, ents = parse_annotated(text)
                st = (meta or {}).get("style", style) if isinstance(meta, dict) else style
                td.examples.append(Example(plain, intent, ents, st, meta))
        elif "synonym" in item:
            canon = str(item["synonym"])
            for text, _ in _example_lines(item.get("examples", "")):
                td.synonyms[text] = canon
        elif "regex" in item:
            td.regexes.setdefault(str(item["regex"]), []).extend(
                t for t, _ in _example_lines(item.get("examples", "")))
        elif "lookup" in item:
            td.lookups.setdefault(str(item["lookup"]), []).extend(
                t for t, _ in _example_lines(item.get("examples", "")))
        else:
            raise DataError(f"{path}: unknown nlu item keys {sorted(item)}")
    return td


def load_training_dir(data_dir: Path) -> TrainingData:
    """All *.yml / *.yaml files directly under data_dir and its subfolders, except heldout/."""
    td = TrainingData()
    files = sorted(p for p in data_dir.rglob("*") if p.suffix in (".yml", ".yaml")
                   and "heldout" not in p.relative_to(data_dir).parts)
    for p in files:
        td.merge(load_yaml_file(p))
    return td


def load_jsonl(path: Path) -> list[Example]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{n}: {exc}") from exc
        out.append(Example(obj["text"], obj["intent"], list(obj.get("entities", [])), obj.get("style"),
                           {k: v for k, v in obj.items() if k in ("reference_time", "also")} or None))
    return out


def load_examples(path: Path) -> list[Example]:
    if path.is_dir():
        return load_training_dir(path).examples
    if path.suffix in (".jsonl", ".json"):
        return load_jsonl(path)
    return load_yaml_file(path).examples
