"""Shared helpers for the NLU tests."""

from __future__ import annotations

from datetime import datetime

REF = datetime(2026, 11, 23, 10, 0)  # a Monday


def spans(result: dict) -> list[tuple[str, str, str]]:
    t = result["text"]
    return [(e["entity"], t[e["start"]:e["end"]], e["value"]) for e in result["entities"]]
