"""Bad input always yields a valid parse in bounded time."""

from __future__ import annotations

import time

import pytest
from nlu_helpers import REF

BAD = ["", " ", "   \t\n ", "\x00\x01\x02\x1b[31m", "😂😂😂🙏", "🔥" * 500, "<script>alert('x')</script>",
       "'; DROP TABLE tickets; --", "SELECT * FROM users WHERE 1=1", "<div><b>水管</b>漏了</div>",
       "Ｈｅｌｌｏ，ｗｏｒｌｄ", "مرحبا 你好 привет", "\u200b\u200b\ufeff", "漏" * 100_000, "a" * 100_000,
       "1" * 100_000, "3号楼" * 30_000, "\ud800", "明天" * 5000 + "下午三点"]


def _valid(r: dict, text: str) -> None:
    assert r["text"] == text
    assert isinstance(r["intent"]["name"], str) and 0.0 <= r["intent"]["confidence"] <= 1.0
    assert r["intent_ranking"] and r["intent_ranking"][0] == r["intent"]
    assert len(r["intent_ranking"]) <= 10
    for e in r["entities"]:
        assert 0 <= e["start"] < e["end"] <= len(text)
        assert isinstance(e["value"], str)


@pytest.mark.parametrize("text", BAD, ids=range(len(BAD)))
def test_bad_input(nlu, text):
    t0 = time.perf_counter()
    r = nlu.parse(text, REF)
    assert time.perf_counter() - t0 < 0.5
    _valid(r, text)


@pytest.mark.parametrize("text", ["", " ", "😂😂😂", "\x00\x01", "。。。"])
def test_nothing_fits_is_out_of_scope(nlu, text):
    assert nlu.parse(text, REF)["intent"]["name"] == "out_of_scope"


def test_non_string_input(nlu):
    assert nlu.parse(None)["text"] == ""  # type: ignore[arg-type]


def test_long_message_point_at_end(nlu):
    text = "我跟你说 " + "这个小区真的是让人很无语 " * 300 + "厨房水管漏水了 赶紧派人来修"
    r = nlu.parse(text, REF)
    assert r["intent"]["name"] == "report_repair"


def test_deterministic(nlu):
    a = nlu.parse("楼上天天半夜跺脚 吵得睡不着", REF)
    b = nlu.parse("楼上天天半夜跺脚 吵得睡不着", REF)
    assert a == b
