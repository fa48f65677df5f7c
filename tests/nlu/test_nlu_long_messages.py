"""Long resident posts: sentence-level reading, a second request, calibrated confidence."""

from __future__ import annotations

from nlu_helpers import REF

from nlu.builtin import segments
from nlu.evaluate import reliability

TWO_REQUESTS = "我家卫生间水管漏水了，麻烦派师傅来看看。另外楼下邻居天天半夜吵，说了也不听，请物业管一管！"


def test_second_request_is_offered(nlu):
    r = nlu.parse(TWO_REQUESTS, REF)
    names = [x["name"] for x in r["intent_ranking"][:3]]
    assert {"report_repair", "file_complaint"} <= set(names)
    second = next(x for x in r["intent_ranking"] if x["name"] != r["intent"]["name"])
    assert second["confidence"] >= 0.1  # a real probability, not a rounding leftover
    reqs = r["requests"]
    assert reqs[0]["name"] == r["intent"]["name"]
    assert {x["name"] for x in reqs} == {"report_repair", "file_complaint"}
    for x in reqs:
        assert 0 <= x["start"] < x["end"] <= len(TWO_REQUESTS)
        assert 0.0 < x["confidence"] <= 1.0


def test_one_request_has_no_requests_key(nlu):
    assert "requests" not in nlu.parse("3号楼2单元1502厨房水管漏水了", REF)
    long_one = "我家的暖气从供暖开始就不热，摸着只有一点点温度，屋里才十五度，麻烦来人看看放放气。"
    assert "requests" not in nlu.parse(long_one, REF)


def test_request_at_the_end_of_a_long_post(nlu):
    text = ("我们楼的电梯这个月坏了四次，每次都是业主被困在里面才有人来，维保公司明显不合格，"
            "物业却一直续约，强烈要求物业更换维保单位并公开维保记录。")
    assert nlu.parse(text, REF)["intent"]["name"] == "file_complaint"


def test_segments():
    assert segments("水管漏了") == []
    text = "楼道灯坏了好几天了。麻烦派人来换一下！另外物业费多少钱？"
    spans = segments(text)
    assert len(spans) == 3
    assert "".join(text[s:e] for s, e in spans) == text


def test_temperature_is_fitted(nlu):
    assert 0.25 <= nlu.temperature <= 4.0
    assert nlu.temperature != 1.0


def test_reliability_bins_and_ece():
    rel = reliability([0.95, 0.95, 0.55, 0.55], [True, True, True, False])
    assert [(b["n"], b["accuracy"]) for b in rel["bins"]] == [(2, 0.5), (2, 1.0)]
    assert abs(rel["ece"] - (0.5 * 0.05 + 0.5 * 0.05)) < 1e-9
