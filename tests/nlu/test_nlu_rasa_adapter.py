"""The Rasa adapter against a fake Rasa server on 127.0.0.1, including fall-back when it is down/slow."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from nlu import load_nlu
from nlu.rasa_http import RasaHTTPNLU

RASA_REPLY = {
    "text": "电梯坏了",
    "intent": {"name": "report_repair", "confidence": 0.91, "id": 123},
    "entities": [{"entity": "facility", "start": 0, "end": 2, "value": "电梯", "confidence_entity": 0.99,
                  "extractor": "DIETClassifier", "processors": []}],
    "intent_ranking": [{"name": "file_complaint", "confidence": 0.05, "id": 2},
                       {"name": "report_repair", "confidence": 0.91, "id": 123}],
    "text_tokens": [[0, 2], [2, 4]],
}


class FakeRasa(BaseHTTPRequestHandler):
    delay = 0.0
    requests: list = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeRasa.requests.append((self.path, body))
        time.sleep(FakeRasa.delay)
        reply = dict(RASA_REPLY, text=body["text"])
        data = json.dumps(reply).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up (the slow-server test)
            pass

    def log_message(self, *args):
        pass


@pytest.fixture()
def fake_rasa():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), FakeRasa)
    FakeRasa.delay = 0.0
    FakeRasa.requests = []
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_parses_through_rasa(fake_rasa, nlu_cache_dir):
    n = load_nlu(fake_rasa, cache_dir=nlu_cache_dir, timeout=1.0)
    assert isinstance(n, RasaHTTPNLU)
    r = n.parse("电梯坏了")
    assert FakeRasa.requests == [("/model/parse", {"text": "电梯坏了"})]
    assert r["intent"] == {"name": "report_repair", "confidence": 0.91}
    assert [x["name"] for x in r["intent_ranking"]] == ["report_repair", "file_complaint"]
    assert r["entities"] == [{"entity": "facility", "value": "电梯", "start": 0, "end": 2,
                              "confidence_entity": 0.99, "extractor": "DIETClassifier"}]


def test_falls_back_when_down(nlu_cache_dir):
    n = load_nlu(f"http://127.0.0.1:{_free_port()}", cache_dir=nlu_cache_dir, timeout=0.3)
    t0 = time.perf_counter()
    r = n.parse("3号楼2单元1502厨房水管漏水了")
    assert time.perf_counter() - t0 < 3
    assert r["intent"]["name"] == "report_repair"
    assert r["entities"][0]["extractor"] == "GuanjiaRuleExtractor"


def test_falls_back_when_slow(fake_rasa, nlu_cache_dir):
    FakeRasa.delay = 1.0
    n = load_nlu(fake_rasa, cache_dir=nlu_cache_dir, timeout=0.2)
    t0 = time.perf_counter()
    r = n.parse("电梯里困人了")
    assert time.perf_counter() - t0 < 0.9
    assert r["intent"]["name"] == "report_emergency"
    # while marked down, it does not wait again
    t0 = time.perf_counter()
    n.parse("你好")
    assert time.perf_counter() - t0 < 0.1
