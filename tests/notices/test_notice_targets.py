"""Targets as the office types them."""

from __future__ import annotations

import pytest

from backend.errors import Invalid
from backend.services import notice_targets

CASES = [
    ("全小区", {"community": True}, "全小区住户"),
    ("3栋", {"buildings": ["3"]}, "3栋"),
    ("3号楼", {"buildings": ["3"]}, "3栋"),
    ("A座", {"buildings": ["A"]}, "A栋"),
    ("3栋2单元", {"units": ["3-2"]}, "3栋2单元"),
    ("3栋12层", {"buildings": ["3"], "floors": [12]}, "3栋12层"),
    ("3栋12层、3栋13层", {"buildings": ["3"], "floors": [12, 13]}, "3栋12层、13层"),
    ("12层", {"floors": [12]}, "各楼12层"),
    ("3栋12层、5栋12层", {"buildings": ["3", "5"], "floors": [12]}, "3栋、5栋12层"),
    ("3栋2单元、5栋1单元", {"units": ["3-2", "5-1"]}, "3栋2单元、5栋1单元"),
    ("欠费住户", {"arrears": True}, "欠费住户"),
    ("活动#5", {"event_id": 5}, "活动#5报名者"),
    ("活动#5含候补", {"event_id": 5, "waiting": True}, "活动#5报名者（含候补）"),
    ("活动#5报名者（含候补）", {"event_id": 5, "waiting": True}, "活动#5报名者（含候补）"),
    ("活动#5、活动#5含候补", {"event_id": 5, "waiting": True}, "活动#5报名者（含候补）"),
    ("业主群", {"groups": True}, "业主群"),
    ("工程部", {"departments": ["engineering"]}, "工程部"),
    ("保安", {"departments": ["security"]}, "秩序维护部"),
    ("3栋、5栋和欠费住户", {"buildings": ["3", "5"], "arrears": True}, "3栋、5栋、欠费住户"),
    ("全小区 业主群", {"community": True, "groups": True}, "全小区住户、业主群"),
    ("3栋，3栋", {"buildings": ["3"]}, "3栋"),
]


@pytest.mark.parametrize(("text", "audience", "words"), CASES)
def test_parse_and_describe(text, audience, words):
    assert notice_targets.parse(text) == audience
    assert notice_targets.describe(audience) == words


@pytest.mark.parametrize(("text", "says"), [
    ("火星", "看不懂通知对象「火星」"), ("2单元", "看不懂"), ("3楼", "看不懂"), ("3栋2单元12层", "暂不能按单元内的楼层"),
    ("全小区、厨房", "「厨房」"), ("3栋、5栋12层", "楼栋、单元和楼层请分开"), ("3栋12层、5栋13层", "请分开"),
    ("3栋、3栋2单元", "请分开"), ("12层、3栋12层", "请分开"), ("活动#5、活动#6含候补", "「活动#6含候补」：一条通知只能发给一个活动"),
])
def test_refused_by_name(text, says):
    with pytest.raises(Invalid) as caught:
        notice_targets.parse(text)
    assert says in caught.value.text()


def test_the_waiting_list_in_english():
    assert notice_targets.describe({"event_id": 5, "waiting": True}, "en") == "event #5 sign-ups and waiting list"


def test_nothing_typed_is_no_target():
    assert notice_targets.parse(" 、，") == {}
