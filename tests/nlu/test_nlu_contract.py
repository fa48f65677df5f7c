"""The examples of shared/nlu-contract.md and every entity type with its normalisation."""

from __future__ import annotations

import pytest
from nlu_helpers import REF, spans


def test_contract_headline_example(nlu):
    r = nlu.parse("3号楼2单元1502厨房水管漏水了", REF)
    assert r["text"] == "3号楼2单元1502厨房水管漏水了"
    assert r["intent"]["name"] == "report_repair"
    assert [(e["entity"], e["value"], e["start"], e["end"]) for e in r["entities"]] == [
        ("building", "3", 0, 3), ("unit", "2", 3, 6), ("room", "1502", 6, 10), ("facility", "水管", 12, 14)]
    ranking = r["intent_ranking"]
    assert ranking[0] == r["intent"]
    assert len(ranking) <= 10
    assert [x["confidence"] for x in ranking] == sorted((x["confidence"] for x in ranking), reverse=True)


CASES = [
    ("三号楼二单元一五零二漏水", [("building", "三号楼", "3"), ("unit", "二单元", "2"), ("room", "一五零二", "1502")]),
    ("3-2-1502", [("building", "3", "3"), ("unit", "2", "2"), ("room", "1502", "1502")]),
    ("4-1-0903卫生间漏水", [("building", "4", "4"), ("unit", "1", "1"), ("room", "0903", "0903")]),
    ("7栋1-202灯坏了", [("building", "7栋", "7"), ("unit", "1", "1"), ("room", "202", "202"),
                      ("facility", "灯", "灯")]),
    ("五栋的电梯", [("building", "五栋", "5"), ("facility", "电梯", "电梯")]),
    ("12幢门口", [("building", "12幢", "12")]),
    ("B座电梯", [("building", "B座", "B"), ("facility", "电梯", "电梯")]),
    ("2#楼停电", [("building", "2#楼", "2")]),
    ("我在12楼", []),
    ("住在七零二室", [("room", "七零二室", "702")]),
    ("8号楼幺零零一的马桶", [("building", "8号楼", "8"), ("room", "幺零零一", "1001"), ("facility", "马桶", "马桶")]),
    ("３号楼０９０３", [("building", "３号楼", "3"), ("room", "０９０３", "0903")]),
    ("502房", [("room", "502房", "502")]),
    ("电话13812345678", [("phone", "13812345678", "13812345678")]),
    ("电话138-1234-5678", [("phone", "138-1234-5678", "13812345678")]),
    ("电话 138 1234 5678", [("phone", "138 1234 5678", "13812345678")]),
    ("手机一三八一二三四五六七八", [("phone", "一三八一二三四五六七八", "13812345678")]),
    ("车牌粤B12345", [("plate_number", "粤B12345", "粤B12345")]),
    ("车牌京A·D12345", [("plate_number", "京A·D12345", "京AD12345")]),
    ("车牌沪c 88888", [("plate_number", "沪c 88888", "沪C88888")]),
    ("粤BD12345放行", [("plate_number", "粤BD12345", "粤BD12345")]),
    ("粤B12345D放行", [("plate_number", "粤B12345D", "粤B12345D")]),
    ("找王阿姨", [("person_name", "王阿姨", "王阿姨")]),
    ("李师傅来过", [("person_name", "李师傅", "李师傅")]),
    ("周经理说", [("person_name", "周经理", "周经理")]),
    ("管家小王", [("person_name", "小王", "小王")]),
    ("保安大爷很凶", []),
    ("1024号工单", [("ticket_id", "1024号工单", "1024")]),
    ("工单5512呢", [("ticket_id", "工单5512", "5512")]),
    ("工单号6604", [("ticket_id", "工单号6604", "6604")]),
    ("编号7781", [("ticket_id", "编号7781", "7781")]),
    ("单号R20261123001", [("ticket_id", "单号R20261123001", "R20261123001")]),
    ("工单：5512", [("ticket_id", "5512", "5512")]),
    ("快递单号SF1234567890到哪了", []),
    ("物业费多少", [("fee_type", "物业费", "物业费")]),
    ("停车废多少", [("fee_type", "停车废", "停车废")]),
    ("装修押金怎么退", [("fee_type", "装修押金", "装修押金")]),
    ("门禁读卡器坏了", [("facility", "门禁读卡器", "门禁读卡器")]),
    ("燃气热水器坏了", [("facility", "燃气热水器", "燃气热水器")]),
    ("电ti坏了", [("facility", "电ti", "电ti")]),
    ("楼道很脏", []),
    # homophone typos and pinyin, found through pypinyin rather than listed one by one
    ("暖器不热", [("facility", "暖器", "暖器")]),
    ("插坐没电了", [("facility", "插坐", "插坐")]),
    ("水电废交了吗", [("fee_type", "水电废", "水电废")]),
    ("kongtiao不制冷", [("facility", "kongtiao", "kongtiao")]),
    ("燃qi灶打不着", [("facility", "燃qi灶", "燃qi灶")]),
    # ... but a real word or a cut through one is not a typo
    ("自来水发黄", []),
    ("家里没气了", []),
    ("游泳馆几点开馆", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_entities(nlu, text, expected):
    got = spans(nlu.parse(text, REF))
    assert got == expected


TIMES = [
    ("明天下午三点", "明天下午三点", "2026-11-24T15:00"),
    ("周六上午", "周六上午", "2026-11-28T09:00"),
    ("今晚8点", "今晚8点", "2026-11-23T20:00"),
    ("后天上午十点半左右来", "后天上午十点半", "2026-11-25T10:30"),
    ("下周三", "下周三", "2026-12-02"),
    ("这周", "这周", "2026-W48"),
    ("下个月", "下个月", "2026-12"),
    ("今年", "今年", "2026"),
    ("12月5号", "12月5号", "2026-12-05"),
    ("傍晚来", "傍晚", "2026-11-23T18:00"),
]


@pytest.mark.parametrize(("text", "span", "value"), TIMES)
def test_datetime(nlu, text, span, value):
    got = [(s, v) for e, s, v in spans(nlu.parse(text, REF)) if e == "datetime"]
    assert got == [(span, value)]


@pytest.mark.parametrize("text", ["每天晚上都很吵", "快一点", "三天了", "最近"])
def test_not_datetime(nlu, text):
    assert [e for e in nlu.parse(text, REF)["entities"] if e["entity"] == "datetime"] == []


def test_datetime_without_reference_time(nlu):
    r = nlu.parse("明天下午三点")
    assert r["entities"][0]["entity"] == "datetime"
    assert len(r["entities"][0]["value"]) == 16


@pytest.mark.parametrize(("text", "intent"), [
    ("你好,水管漏了", "report_repair"),
    ("电梯里困人了", "report_emergency"),
    ("物业费多少钱一平", "query_fee"),
    ("谢谢 再见", "goodbye"),
    ("你好", "greet"),
    ("谢谢", "thank"),
    ("算了不报了", "cancel"),
    ("不是", "deny"),
    ("是的", "affirm"),
])
def test_intents(nlu, text, intent):
    assert nlu.parse(text, REF)["intent"]["name"] == intent


@pytest.mark.parametrize(("text", "intent"), [
    ("我想绑定房屋", "bind_home"),
    ("认证业主", "bind_home"),
    ("我是3栋的业主", "bind_home"),
    ("换绑", "bind_home"),
    ("解绑", "bind_home"),
    ("我搬家了", "bind_home"),
    ("转人工", "human_agent"),
    ("找客服", "human_agent"),
    ("我要跟真人说", "human_agent"),
    ("叫你们经理来", "human_agent"),
    ("3栋2单元1502", "inform"),
    ("13912345678", "inform"),
    ("明天下午", "inform"),
    ("王强 两个人", "inform"),
    ("粤B12345", "inform"),
    ("4-1-1101 13900411101", "inform"),
    ("3号楼", "inform"),
    ("好的谢谢", "thank"),
    ("3栋1502 马桶堵了", "report_repair"),
])
def test_new_intents(nlu, text, intent):
    assert nlu.parse(text, REF)["intent"]["name"] == intent


def test_bind_home_with_address_and_phone(nlu):
    r = nlu.parse("帮我绑定下房子 2栋1单元0302 手机13900210302", REF)
    assert r["intent"]["name"] == "bind_home"
    assert [(e["entity"], e["value"]) for e in r["entities"]] == [
        ("building", "2"), ("unit", "1"), ("room", "0302"), ("phone", "13900210302")]


@pytest.mark.parametrize("text", ["3号楼", "5栋", "2单元", "1502", "13900411101", "15800005601", "18612345678"])
def test_form_answers_are_not_strong_intents(nlu, text):
    # a detail typed into a form is never an emergency, a goodbye or a cancel
    assert nlu.parse(text, REF)["intent"]["name"] == "inform"


def test_not_remembering_is_not_cancel(nlu):
    assert nlu.parse("不记得了", REF)["intent"]["name"] not in ("cancel", "report_emergency", "inform")
