"""Targets as the office types them ("全小区", "3栋", "3栋2单元", "3栋12层", "欠费住户", "业主群", "工程部") -> audience.

Used by the chat form and `guanjia notice send --to`. Several targets are separated by "，", "、", spaces or
"和"; an unrecognised one is refused by name, so a typo never silently narrows or widens the audience.
"活动#5" is event 5's sign-ups, "活动#5含候补" also its waiting list; one event per notice.
"""

from __future__ import annotations

import re
from typing import Any

from backend.catalogue import name, register
from backend.domain import Department
from backend.errors import Invalid

COMMUNITY_WORDS = ("全小区", "全体住户", "全体业主", "所有住户", "所有业主", "全部住户", "全体", "全部", "所有人", "小区")
ARREARS_WORDS = ("欠费住户", "欠费业主", "欠费户", "欠费")
GROUP_WORDS = ("业主群", "住户群", "群")
DEPARTMENT_WORDS: tuple[tuple[Department, tuple[str, ...]], ...] = (
    (Department.SECURITY, ("秩序", "安保", "保安")),
    (Department.ENGINEERING, ("工程", "维修")),
    (Department.CUSTOMER_SERVICE, ("客服",)),
    (Department.ENVIRONMENT, ("环境", "保洁", "绿化")),
    (Department.MANAGEMENT, ("管理处", "综合")),
)
FLOOR = r"(?P<f>[0-9]{1,3})(?:层|楼层|F|f)"
PLACE = re.compile(r"(?P<b>[0-9A-Za-z]{1,8})(?:号楼|栋|幢|座|号)?(?:(?P<u>[0-9]{1,3})单元)?(?:" + FLOOR + ")?")
FLOOR_ONLY = re.compile(FLOOR)
EVENT = re.compile(r"(?:活动|event)\s*#?(?P<id>[0-9]{1,9})(?:报名者|报名的|报名住户|的报名者)?"
                   r"(?P<waiting>[（(]?含候补[)）]?)?")  # 含候补: and those on the waiting list
SEPARATORS = re.compile(r"[，,、；;\s]+|和|及|以及")

register({
    "notices.targets.mixed": ("「{what}」：楼栋、单元和楼层请分开发通知（或写成同一楼栋的几层，如「3栋12层、3栋13层」）。",
                              "\"{what}\": send buildings, units and floors as separate notices (or floors of one "
                              "building, e.g. 3栋12层、3栋13层)."),
    "notices.targets.unit_floor": ("「{what}」：暂不能按单元内的楼层发送，请写「3栋12层」或「3栋2单元」。",
                                   "\"{what}\": a floor within a unit is not supported; use 3栋12层 or 3栋2单元."),
    "notices.targets.two_events": ("「{what}」：一条通知只能发给一个活动的报名者，请分开发送。",
                                   "\"{what}\": a notice goes to one event's sign-ups; send one per event."),
    "notices.targets.unknown": ("看不懂通知对象「{what}」。可以写：全小区、3栋、3栋2单元、3栋12层、12层、欠费住户、活动#5、"
                                "业主群、工程部。", "Unknown target \"{what}\". Try: 全小区, 3栋, 3栋2单元, 3栋12层, "
                                "12层, 欠费住户, 活动#5, 业主群, 工程部."),
})


def _department(token: str) -> str | None:
    for department, words in DEPARTMENT_WORDS:
        if any(w in token for w in words):
            return department.value
    return None


def _add(audience: dict[str, Any], key: str, value: Any) -> None:
    items = audience.setdefault(key, [])
    if value not in items:
        items.append(value)


def parse(text: str) -> dict[str, Any]:
    """The audience the typed targets describe; raises Invalid naming the first token it cannot read.

    Places narrow each other in an audience (buildings x units x floors), so typed places must form one such
    selection: several buildings (3栋、5栋), several units (3栋2单元、3栋3单元), or the same floors of some
    buildings (3栋12层、3栋13层; 3栋12层、5栋12层; 12层 for every building). A mixture that would mean
    something else (3栋、5栋12层) is refused."""
    audience: dict[str, Any] = {}
    places: list[tuple[str, str, str, str]] = []  # (token, building, unit, floor)
    for raw in SEPARATORS.split(text.strip()):
        token = raw.strip("。.!！")
        if not token:
            continue
        event = EVENT.fullmatch(token)
        floor_only = FLOOR_ONLY.fullmatch(token)
        place = None if floor_only else PLACE.fullmatch(token)
        if token in COMMUNITY_WORDS:
            audience["community"] = True
        elif token in ARREARS_WORDS:
            audience["arrears"] = True
        elif token in GROUP_WORDS:
            audience["groups"] = True
        elif event:
            if audience.get("event_id") not in (None, int(event["id"])):
                raise Invalid(token, key="notices.targets.two_events", what=token[:30])
            audience["event_id"] = int(event["id"])
            if event["waiting"]:
                audience["waiting"] = True
        elif floor_only:
            places.append((token, "", "", str(int(floor_only["f"]))))
        elif place and (place["u"] or place["f"] or token != place["b"] or token.isdigit()):
            if place["u"] and place["f"]:  # no unit-and-floor selector: never widen it silently
                raise Invalid(token, key="notices.targets.unit_floor", what=token[:30])
            places.append((token, place["b"].upper(), place["u"] or "", str(int(place["f"])) if place["f"] else ""))
        elif (department := _department(token)) and (token.endswith(("部", "员工", "人员", "同事", "群")) or len(token) <= 4):
            _add(audience, "departments", department)
        else:
            raise Invalid(token, key="notices.targets.unknown", what=token[:30])
    audience.update(_places(places))
    return audience


def _places(places: list[tuple[str, str, str, str]]) -> dict[str, Any]:
    if not places:
        return {}
    floors = [p for p in places if p[3]]
    units = [p for p in places if p[2]]
    if floors:
        buildings = {p[1] for p in floors}
        pairs = {(p[1], p[3]) for p in floors}
        product = {(b, f) for b in buildings for f in {p[3] for p in floors}}
        if len(floors) != len(places) or pairs != product or ("" in buildings and len(buildings) > 1):
            raise Invalid(places[0][0], key="notices.targets.mixed", what="、".join(p[0] for p in places)[:60])
        out: dict[str, Any] = {"floors": sorted({int(p[3]) for p in floors})}
        return {"buildings": sorted(buildings), **out} if buildings != {""} else out
    if units:
        if len(units) != len(places):
            raise Invalid(places[0][0], key="notices.targets.mixed", what="、".join(p[0] for p in places)[:60])
        return {"units": list(dict.fromkeys(f"{p[1]}-{p[2]}" for p in units))}
    return {"buildings": list(dict.fromkeys(p[1] for p in places))}


def describe(audience: dict[str, Any], lang: str = "zh") -> str:
    """The audience in words, for previews and lists: 1栋、2栋2单元、欠费住户."""
    zh = lang != "en"
    parts: list[str] = []
    if audience.get("community"):
        parts.append("全小区住户" if zh else "all residents")
    places = [f"{b}栋" if zh else f"building {b}" for b in audience.get("buildings", [])]
    for unit in audience.get("units", []):
        b, _, u = unit.partition("-")
        places.append(f"{b}栋{u}单元" if zh else f"building {b} unit {u}")
    floors = audience.get("floors", [])
    if floors:
        levels = "、".join(f"{f}层" for f in floors) if zh else "floors " + ", ".join(str(f) for f in floors)
        within = ("、".join(places) or "各楼") if zh else (", ".join(places) or "every building")
        places = [f"{within}{levels}" if zh else f"{within}: {levels}"]
    parts += places
    if audience.get("arrears"):
        parts.append("欠费住户" if zh else "households in arrears")
    if audience.get("event_id"):
        event, waiting = audience["event_id"], bool(audience.get("waiting"))
        if zh:
            parts.append(f"活动#{event}报名者" + ("（含候补）" if waiting else ""))
        else:
            parts.append(f"event #{event} sign-ups" + (" and waiting list" if waiting else ""))
    parts += [name(f"dept.{d}", lang) for d in audience.get("departments", [])]
    if audience.get("groups"):
        parts.append("业主群" if zh else "owners' groups")
    return ("、" if zh else ", ").join(parts)
