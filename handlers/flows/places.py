"""Reading where and what from a resident's words: public places, categories, the household named."""

from __future__ import annotations

import re

from backend.models import Household
from backend.services import binding
from handlers.context import Context

PUBLIC_PLACES = (
    "电梯", "楼道", "走廊", "楼梯", "车库", "停车场", "地库", "地下室", "大门", "单元门", "门禁", "路灯", "花园",
    "广场", "健身", "垃圾", "公共", "小区", "大堂", "门厅", "消防通道", "绿化", "草坪", "喷泉", "围墙", "外墙",
    "天台", "楼顶", "顶楼", "泳池", "会所", "儿童乐园", "游乐", "岗亭", "道闸", "充电桩", "快递柜", "监控",
    "电ti", "dianti", "menjin", "信报箱", "消防栓", "灭火器",
)
# Places that belong to one building: without a building named, "which building?" is asked
IN_A_BUILDING = ("电梯", "楼道", "走廊", "楼梯", "单元门", "门禁", "大堂", "门厅", "天台", "楼顶", "顶楼", "电ti",
                 "dianti", "menjin", "信报箱", "消防栓", "灭火器")
HOME_WORDS = ("家里", "我家", "屋里", "室内", "家中", "房间", "厨房", "卫生间", "厕所", "客厅", "卧室", "阳台", "洗手间",
              "楼上漏", "天花板", "窗户", "书房", "浴室", "我们家", "家的",
              "my home", "my flat", "my apartment", "at home", "kitchen", "bathroom", "toilet", "bedroom",
              "living room", "balcony")

# (category code, words) — first match wins; order matters (gas before general pipes).
CATEGORY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("gas", ("燃气", "煤气", "天然气", "然气", "gas")),
    ("lift", ("电梯", "电ti", "dianti", "lift", "elevator")),
    ("access_control", ("门禁", "门锁", "对讲", "可视", "menjin", "刷卡", "门卡", "道闸", "door lock", "intercom",
                        "access card")),
    ("plumbing", ("水管", "漏水", "渗水", "下水", "马桶", "堵", "水龙头", "龙头", "地漏", "水表", "水压", "没水",
                  "停水", "水泵", "暖气", "滴水", "leak", "sink", "tap", "pipe", "toilet", "drain", "faucet",
                  "water")),
    ("electrical", ("电", "灯", "插座", "跳闸", "开关", "停电", "线路", "电表", "light", "socket", "power",
                    "switch", "electric")),
)

_PUBLIC_SPAN = re.compile(
    r"([0-9A-Za-z一二三四五六七八九十]+(?:号楼|栋|幢|座|#)?)?(?:[0-9一二三四五六七八九十]+单元)?的?"
    r"(?:" + "|".join(PUBLIC_PLACES) + r")"
)


def category_for(text: str, facility: str | None, public: bool) -> str:
    words = f"{facility or ''} {text}".lower()
    for code, keys in CATEGORY_WORDS:
        if any(k in words for k in keys):
            return code
    return "public_facility" if public else "general_repair"


def public_where(ctx: Context) -> str | None:
    """The public place named, with its building when the message names one apart ("电梯…3号楼")."""
    place = public_place(ctx.text)
    building = ctx.entities("building")
    if place and building and not precise(place):
        span = ctx.text[int(building[0].get("start", 0)):int(building[0].get("end", 0))]
        return f"{span}{place}" if span else place
    return place


def needs_building(place: str) -> bool:
    """A place inside some building (a corridor, a lift) named without the building."""
    return not precise(place) and any(p in place for p in IN_A_BUILDING)


def own_building_label(ctx: Context) -> str:
    """"3号楼2单元" for a bound resident: where their corridor or lift is."""
    own = ctx.household
    if own is None:
        return ""
    from backend.models import Building, Unit

    b, u = ctx.session.get(Building, own.building_id), ctx.session.get(Unit, own.unit_id)
    return f"{b.code}号楼{u.code}单元" if b and u else ""


def building_id(ctx: Context) -> int | None:
    """The building the message names, or the resident's own when a building-bound place was assumed."""
    from sqlalchemy import select

    from backend.models import Building

    code = ctx.entity("building")
    if code:
        return ctx.session.scalar(select(Building.id).where(
            Building.community_id == ctx.community.id, Building.code == code.upper()))
    return None


def public_place(text: str) -> str | None:
    """The public place named in the text ("3号楼电梯"), or None."""
    if not any(p in text for p in PUBLIC_PLACES):
        return None
    match = _PUBLIC_SPAN.search(text)
    return match.group(0) if match else None


_REQUEST_WORDS = re.compile(
    r"(我要|我想|想要|需要|帮我|麻烦|请|你好|您好|在吗|师傅|物业|管家|一下|报修|维修|修理|修|投诉|建议|紧急|求助|"
    r"登记|了|吧|呢|啊|呀|的|[\s,.!?，。！？、~～])"
)


def says_what(text: str, facility: str | None = None) -> bool:
    """Does the text describe the problem, beyond 'I want to report a repair'?"""
    return bool(facility) or len(_REQUEST_WORDS.sub("", text)) >= 2


_ADDRESS = re.compile(
    r"[0-9A-Za-z一二三四五六七八九十]+(号楼|栋|幢|座|#|单元|室|房|号)|\d+-\d+(-\d+)?|1[3-9]\d{9}|\d{3,4}")
_CONTENT = re.compile(r"[\u3400-\u9fffA-Za-z]")


def without_address(text: str) -> str:
    """The text with addresses, rooms and phones taken out (what is left says what is wrong, if anything)."""
    return _ADDRESS.sub("", text)


FILLERS = re.compile(
    r"那个|这个|就是|然后|还有|什么|怎么|一下|随便|没有|没事|可以|不行|好的|好吧|是的|对的|不是|不用|知道|"
    r"明白|收到|谢谢|你好|您好|哈哈|呵呵|嗯嗯|[呃嗯啊哦噢哎诶唉喂哈呀吧呢吗嘛了的得地着过好行对是有没不]"
)


def substance(text: str) -> str:
    """What is left of a message without addresses, phones, fillers, request words and punctuation."""
    return "".join(_CONTENT.findall(FILLERS.sub("", _REQUEST_WORDS.sub("", without_address(text)))))


def name_like(text: str) -> bool:
    """Could this short answer be a person's name (张阿姨, 李师傅, Mike), not a filler or a number?"""
    return len(_CONTENT.findall(FILLERS.sub("", text))) >= 2


def has_words(text: str) -> bool:
    """At least two letters or characters: not only digits, emoji or punctuation."""
    return len(_CONTENT.findall(text)) >= 2


def precise(text: str) -> bool:
    """Does the place name a building (or more)?"""
    return bool(re.search(r"[0-9A-Za-z一二三四五六七八九十]+(号楼|栋|幢|座|#|单元)|\d+-\d+", text))


def mentions_home(text: str) -> bool:
    text = text.lower()
    return any(w in text for w in HOME_WORDS)


def household_named(ctx: Context) -> tuple[Household | None, bool]:
    """The household the message names by building/unit/room, and whether any address part was named."""
    b, u, r = ctx.entity("building"), ctx.entity("unit"), ctx.entity("room")
    if not (b or u or r):
        return None, False
    own = ctx.household
    if own is not None:
        from backend.models import Building, Unit

        ob = ctx.session.get(Building, own.building_id)
        ou = ctx.session.get(Unit, own.unit_id)
        b = b or (ob.code if ob else None)
        u = u or (ou.code if ou else None)
        r = r or own.room
    if not (b and u and r):
        return None, True
    return binding.find_household(ctx.session, ctx.community.id, b, u, r), True
