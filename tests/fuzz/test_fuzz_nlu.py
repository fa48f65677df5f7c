"""The NLU on any unicode (lone surrogates, emoji, control characters, huge strings), in-process and over
POST /model/parse: never raises, never 5xx, always the Rasa-shaped dict with spans inside the text."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from nlu.api import MAX_JSON_DEPTH
from tests.fuzz.conftest import bounded
from tests.fuzz.strategies import any_text, nested, text_json_bodies

pytestmark = pytest.mark.filterwarnings("error")


def assert_rasa_shaped(result: dict[str, Any], text: str) -> None:
    assert result["text"] == text
    intent = result["intent"]
    assert isinstance(intent["name"], str) and intent["name"]
    assert 0.0 <= intent["confidence"] <= 1.0 and math.isfinite(intent["confidence"])
    ranking = result["intent_ranking"]
    assert isinstance(ranking, list)
    confidences = [r["confidence"] for r in ranking]
    assert confidences == sorted(confidences, reverse=True)
    assert not ranking or ranking[0]["name"] == intent["name"]
    for entity in result["entities"]:
        start, end = entity["start"], entity["end"]
        assert isinstance(start, int) and isinstance(end, int)
        assert 0 <= start < end <= len(text), (entity, len(text))
        assert text[start:end].strip(), entity  # the span covers what was recognised, not blanks
        assert isinstance(entity["entity"], str) and entity["entity"]
        assert entity.get("value") is not None


@bounded(examples=60)
@given(text=any_text())
@example(text="\ud800")
@example(text="3号楼2单元1502\udfff漏水了😀" * 3)
@example(text="电梯坏了" * 25_000)
def test_nlu_parse_never_raises_and_spans_are_inside_the_text(nlu, text):
    assert_rasa_shaped(nlu.parse(text), text)


def _posted_text(body: bytes) -> str:
    try:
        value = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        return ""
    text = value.get("text", "") if isinstance(value, dict) else ""
    return text if isinstance(text, str) else ("" if text is None else str(text))


@bounded()
@given(body=text_json_bodies(any_text(6)))
@example(body=b'{"text":"\\ud800"}')
@example(body=nested(100_000))
@example(body=b'{"text":"hi","message_id":"\\udc00","x":' + b"[" * 5000 + b"]" * 5000 + b"}")
def test_model_parse_over_http_answers_a_parse_or_4xx_on_one_connection(client, body):
    response = client.post("/model/parse", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code < 500, response.text[:300]
    if response.status_code == 200:
        result = json.loads(response.content.decode("utf-8"))  # strict UTF-8: no surrogate leaked out
        posted = _posted_text(body)
        scrubbed = posted.replace("\x00", "\ufffd").encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        assert_rasa_shaped(result, scrubbed)
    assert response.headers.get("connection", "keep-alive") != "close"


@bounded(examples=5)
@given(depth=st.integers(30, 3000))
def test_model_parse_survives_nesting_just_below_and_above_the_cap(client, depth):
    body = '{"text":"电梯坏了","message_id":'.encode() + b"[" * depth + b"]" * depth + b"}"
    response = client.post("/model/parse", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    assert response.json()["text"] == ("电梯坏了" if depth < MAX_JSON_DEPTH else "")  # too deep: empty text
