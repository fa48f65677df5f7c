"""POST /model/parse through FastAPI, and the Typer CLI."""

from __future__ import annotations

import json

from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from nlu import api
from nlu.cli import app as cli_app


def _client(nlu) -> TestClient:
    app = FastAPI()
    app.include_router(api.make_router(lambda: nlu))
    return TestClient(app)


def test_model_parse_route(nlu):
    c = _client(nlu)
    r = c.post("/model/parse", json={"text": "3号楼2单元1502厨房水管漏水了", "message_id": "m1"})
    assert r.status_code == 200
    body = r.json()
    assert list(body)[:4] == ["text", "intent", "entities", "intent_ranking"]
    assert body["intent"]["name"] == "report_repair"
    assert body["message_id"] == "m1"
    assert [(e["entity"], e["start"], e["end"], e["value"]) for e in body["entities"]][:3] == [
        ("building", 0, 3, "3"), ("unit", 3, 6, "2"), ("room", 6, 10, "1502")]
    assert "粤B" in c.post("/model/parse", json={"text": "粤B12345"}).text  # raw UTF-8, not \\u escapes


def test_model_parse_bad_bodies(nlu):
    c = _client(nlu)
    for body in (b"", b"not json", b"[]", b'{"text": null}', b'{"text": 12}', b'{}'):
        r = c.post("/model/parse", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 200
        assert "intent" in r.json()


def test_default_router_override(nlu):
    app = FastAPI()
    app.include_router(api.router)
    app.dependency_overrides[api.get_nlu] = lambda: nlu
    r = TestClient(app).post("/model/parse", json={"text": "你好"})
    assert r.json()["intent"]["name"] == "greet"


def test_cli_parse(nlu, nlu_cache_dir):
    res = CliRunner().invoke(cli_app, ["parse", "明天下午三点我妈来", "--time", "2026-11-23T10:00",
                                       "--cache-dir", str(nlu_cache_dir)])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert {"entity": "datetime", "value": "2026-11-24T15:00"}.items() <= out["entities"][0].items()


def test_cli_eval_jsonl(nlu, nlu_cache_dir, tmp_path):
    f = tmp_path / "e.jsonl"
    rows = [{"text": "电梯坏了", "intent": "report_repair", "style": "one_word",
             "entities": [{"entity": "facility", "start": 0, "end": 2, "value": "电梯"}]},
            {"text": "你好", "intent": "greet", "entities": [], "style": "one_word"}]
    f.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    res = CliRunner().invoke(cli_app, ["eval", str(f), "--cache-dir", str(nlu_cache_dir)])
    assert res.exit_code == 0, res.output
    assert "intent accuracy: 1.0000" in res.output
    assert "intent macro-F1: 1.0000" in res.output
    assert "facility" in res.output and "one_word" in res.output
    assert "confusion" in res.output
    assert "reliability" in res.output and "ECE: " in res.output


def test_cli_eval_yaml(nlu, nlu_cache_dir, tmp_path):
    f = tmp_path / "e.yml"
    f.write_text('version: "3.1"\nnlu:\n- intent: query_fee\n  examples: |\n    - [物业费](fee_type)多少钱\n',
                 encoding="utf-8")
    res = CliRunner().invoke(cli_app, ["eval", str(f), "--cache-dir", str(nlu_cache_dir)])
    assert res.exit_code == 0, res.output
    assert "examples: 1" in res.output
