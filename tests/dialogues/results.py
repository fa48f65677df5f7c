"""Turn the JSON lines written under GUANJIA_DIALOGUE_REPORT into the tables of RESULTS.md.

    GUANJIA_DIALOGUE_REPORT=/tmp/sqlite.jsonl GUANJIA_TEST_DATABASES=sqlite .venv/bin/python -m pytest tests/dialogues
    .venv/bin/python -m tests.dialogues.results /tmp/sqlite.jsonl [/tmp/postgresql.jsonl]
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict


def load(paths: list[str]) -> list[dict]:
    rows: list[dict] = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            rows += [json.loads(line) for line in f if line.strip()]
    return rows


def render(rows: list[dict]) -> str:
    dbs = sorted({r["db"] for r in rows})
    by_file: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        by_file[r["file"]][r["db"]].append(r)
    out = ["| file | " + " | ".join(f"{db} pass/total" for db in dbs) + " |",
           "|---|" + "---|" * len(dbs)]
    for name in sorted(by_file):
        cells = [f"{sum(r['ok'] for r in by_file[name][db])}/{len(by_file[name][db])}" for db in dbs]
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    totals = []
    for db in dbs:
        mine = [r for r in rows if r["db"] == db]
        passed = [r for r in mine if r["ok"]]
        avg = sum(r["turns"] for r in passed) / len(passed) if passed else 0.0
        totals.append(f"{len(passed)}/{len(mine)} ({100 * len(passed) / len(mine):.0f}%), {avg:.1f} turns/goal")
    out.append("| **all** | " + " | ".join(totals) + " |")
    out += ["", "## Failing tables", ""]
    first = dbs[0]
    others = {(r["file"], r["name"]): r for r in rows if r["db"] != first}
    for name in sorted(by_file):
        failed = [r for r in by_file[name][first] if not r["ok"]]
        if not failed:
            continue
        out += [f"### {name} ({len(failed)} failing)", ""]
        for r in failed:
            other = others.get((r["file"], r["name"]))
            note = "" if other is None or not other["ok"] else " (passes on the other database)"
            out.append(f"- `{r['name']}`{note}: {r['why']}")
        out.append("")
    differ = [k for k, r in others.items() if any(x["ok"] != r["ok"] for x in by_file[k[0]][first] if x["name"] == k[1])]
    if differ:
        out += ["Differ between databases: " + ", ".join(f"{f}::{n}" for f, n in differ), ""]
    return "\n".join(out)


if __name__ == "__main__":
    print(render(load(sys.argv[1:])))
