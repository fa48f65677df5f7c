"""Long fuzz run: the strategies of tests/fuzz with many more examples, fresh randomness, figures printed.

Runs `pytest tests/fuzz` with GUANJIA_FUZZ_EXAMPLES (every bounded test's example count scales from its CI
value of 25), GUANJIA_FUZZ_RANDOM=1 (new examples each run, not the fixed CI ones) and hypothesis's
statistics, then prints per test: examples run, wall time, examples per second, and the verdict.
A failure is reported unshrunk unless --shrink (shrinking costs minutes).

    .venv/bin/python bench/fuzz.py [--examples 1000] [--databases sqlite,postgresql] [--shrink] [-k EXPR]

The CI run (25 examples, fixed seeds) takes < 60 s per database; --examples 1000 takes about 40x that.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_LINE = re.compile(r"^(tests/fuzz/\S+::\S+):$")  # hypothesis's statistics, one block per test
PASSING = re.compile(r"- during generate phase \(([\d.]+) seconds\):\s*$")
EXAMPLES_LINE = re.compile(r"- (\d+) passing, (\d+) failing, and (\d+) invalid test cases")
VERDICT = re.compile(r"^(PASSED|FAILED|XFAIL|ERROR|SKIPPED) (tests/fuzz/\S+)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--shrink", action="store_true")
    parser.add_argument("-k", dest="keyword", default="")
    args = parser.parse_args()
    env = {**os.environ, "GUANJIA_FUZZ_EXAMPLES": str(args.examples), "GUANJIA_FUZZ_RANDOM": "1",
           "GUANJIA_TEST_DATABASES": args.databases, "GUANJIA_FUZZ_SHRINK": "1" if args.shrink else "0"}
    command = [sys.executable, "-m", "pytest", "tests/fuzz", "-p", "no:cacheprovider", "-rA", "-v",
               "--hypothesis-show-statistics", "--durations=0"] + (["-k", args.keyword] if args.keyword else [])
    started = time.monotonic()
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    figures: dict[str, dict[str, float]] = {}
    current = ""
    for line in run.stdout.splitlines():
        if match := TEST_LINE.match(line.strip()):
            current = match.group(1)
            figures.setdefault(current, {"examples": 0, "seconds": 0.0})
        elif current and (match := EXAMPLES_LINE.search(line)):
            figures[current]["examples"] += sum(int(g) for g in match.groups())
        elif current and (match := PASSING.search(line)):
            figures[current]["seconds"] += float(match.group(1))
    verdicts = {m.group(2): m.group(1) for line in run.stdout.splitlines() if (m := VERDICT.match(line))}
    print(f"fuzz: {args.examples} examples per bounded test (CI: 25), databases {args.databases}, "
          f"wall {wall:.0f} s")
    print(f"{'test':<92} {'examples':>9} {'gen s':>7} {'ex/s':>7}  verdict")
    for name in sorted(set(figures) | set(verdicts)):
        f = figures.get(name, {"examples": 0, "seconds": 0.0})
        rate = f["examples"] / f["seconds"] if f["seconds"] else 0.0
        print(f"{name.removeprefix('tests/fuzz/'):<92} {int(f['examples']):>9} {f['seconds']:>7.1f} {rate:>7.1f}  {verdicts.get(name, '?')}")
    if run.returncode != 0:
        print(run.stdout[-20000:])
        print(run.stderr[-5000:], file=sys.stderr)
    return run.returncode


if __name__ == "__main__":
    raise SystemExit(main())
