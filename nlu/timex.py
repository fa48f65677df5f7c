"""Chinese time expressions -> spans + ISO 8601 local values.

Precision follows the contract: YYYY, YYYY-MM, YYYY-Www, YYYY-MM-DD, YYYY-MM-DDTHH:MM.
Works on text already passed through textnorm.normalize (same offsets as the original).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from .textnorm import NUM_CLASS, cn_int

N = f"[{NUM_CLASS}]"

_REL_DAY = {
    "大前天": -3, "前天": -2, "昨天": -1, "昨日": -1, "昨儿个": -1, "昨儿": -1,
    "今天": 0, "今日": 0, "今儿个": 0, "今儿": 0, "当天": 0,
    "明天": 1, "明日": 1, "明儿个": 1, "明儿": 1, "后天": 2, "大后天": 3,
}
# fused day + part of day
_FUSED = {
    "今晚": (0, "晚上"), "今夜": (0, "晚上"), "今早": (0, "早上"), "今晨": (0, "早上"),
    "明晚": (1, "晚上"), "明早": (1, "早上"), "明晨": (1, "早上"), "昨晚": (-1, "晚上"),
    "昨夜": (-1, "晚上"), "前晚": (-2, "晚上"), "后晚": (2, "晚上"),
}
PART_HOUR = {
    "凌晨": 2, "清晨": 8, "早晨": 8, "早上": 8, "一早": 8, "清早": 8, "大清早": 8, "早": 8,
    "上午": 9, "中午": 12, "正午": 12, "午饭后": 13, "下午": 15, "午后": 15, "傍晚": 18,
    "晚上": 20, "晚间": 20, "夜里": 22, "夜间": 22, "半夜": 23, "深夜": 23,
}
_PM_PARTS = {"下午", "午后", "傍晚", "晚上", "晚间", "夜里", "夜间", "半夜", "深夜"}
_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5,
            "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}

_rel = "|".join(sorted(_REL_DAY, key=len, reverse=True))
_fused = "|".join(sorted(_FUSED, key=len, reverse=True))
_part = "|".join(sorted((p for p in PART_HOUR if p != "早"), key=len, reverse=True))
_WK_PREFIX = r"(?P<wkp>下下个?|下个?|上上个?|上个?|这个?|本)?"

DATE_RE = (
    rf"(?P<fused>{_fused})"
    rf"|(?P<rel>{_rel})"
    rf"|{_WK_PREFIX}(?:周|星期|礼拜)(?P<wd>[一二三四五六日天末1-7])"
    rf"|(?P<wkrel>下下个?|下个?|上个?|这个?|本)(?:周|星期|礼拜)(?![一二三四五六日天末1-7])"
    rf"|(?:(?P<y>\d{{4}}|今|明|去)年)?(?P<mo>{N}{{1,2}})月(?P<d>{N}{{1,3}})[日号]"
    rf"|(?P<morel>下个?|上个?|这个?|本)月(?:(?P<mod>{N}{{1,3}})[日号])?"
    rf"|(?:(?P<y2>\d{{4}}|今|明|去)年)?(?P<mo2>{N}{{1,2}})月份?(?!{N}|[日号])"
    rf"|(?P<y3>\d{{4}}|今|明|去|前|后)年(?!{N}{{1,2}}月)"
    rf"|(?P<dom>{N}{{1,3}})[号日](?=\s*(?:{_part}|{N}{{1,2}}点|前|之前|以前|那天|当天|来|过来|到|去|上门|左右))"
)
CLOCK_RE = (
    rf"(?P<h>{N}{{1,3}})\s*(?:点钟|点|时(?!间|候))(?:\s*(?P<half>半)|\s*(?P<q1>一刻)|\s*(?P<q3>三刻)"
    rf"|(?P<mi>[0-5]?\d)分?(?!\d)|(?P<mic>{N}{{1,3}})分)?"
    r"|(?P<hh>\d{1,2}):(?P<mm>\d{2})(?!\d)"
)
_TIMEX_RE = re.compile(
    rf"(?<![0-9])(?:(?P<date>{DATE_RE})\s?)?(?:(?P<part>{_part})\s?)?(?P<clock>{CLOCK_RE})?"
)
_DATE_C = re.compile(DATE_RE)
_HABIT_BEFORE = ("每天", "每", "天天", "一到", "每逢", "每个", "每周", "每到")
_PART_NEXT = set("来到过去上有能可再前之见")
_SMALL_BEFORE = set("有快慢早多好差大小高低轻重点这那些晚一")
_SMALL_AFTER = set("都也儿点吧些")


def _week_start(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _iso_week(d: date) -> str:
    y, w, _ = d.isocalendar()
    return f"{y}-W{w:02d}"


def _year(tok: str | None, ref: date) -> int:
    if tok is None:
        return ref.year
    return {"今": ref.year, "明": ref.year + 1, "去": ref.year - 1, "前": ref.year - 2,
            "后": ref.year + 2}.get(tok) or int(tok)


def _wk_offset(p: str | None) -> int:
    if not p:
        return 0
    if p.startswith("下下"):
        return 2
    if p.startswith("上上"):
        return -2
    if p.startswith("下"):
        return 1
    if p.startswith("上"):
        return -1
    return 0


def _resolve_date(m: re.Match[str], ref: datetime) -> tuple[str, date | None, str | None]:
    """-> (value at date precision, day or None, implied part of day)."""
    r = ref.date()
    g = m.groupdict()
    if g["fused"]:
        off, part = _FUSED[g["fused"]]
        d = r + timedelta(days=off)
        return d.isoformat(), d, part
    if g["rel"]:
        d = r + timedelta(days=_REL_DAY[g["rel"]])
        return d.isoformat(), d, None
    if g["wd"]:
        d = _week_start(r) + timedelta(weeks=_wk_offset(g["wkp"]), days=_WEEKDAY[g["wd"]])
        return d.isoformat(), d, None
    if g["wkrel"]:
        d = _week_start(r) + timedelta(weeks=_wk_offset(g["wkrel"]))
        return _iso_week(d), None, None
    if g["mo"]:
        y = _year(g["y"], r)
        return _safe_date(y, cn_int(g["mo"]), cn_int(g["d"]))
    if g["morel"]:
        off = _wk_offset(g["morel"])
        y, mo = r.year, r.month + off
        while mo > 12:
            y, mo = y + 1, mo - 12
        while mo < 1:
            y, mo = y - 1, mo + 12
        if g["mod"]:
            return _safe_date(y, mo, cn_int(g["mod"]))
        return f"{y:04d}-{mo:02d}", None, None
    if g["mo2"]:
        mo = cn_int(g["mo2"])
        if not 1 <= mo <= 12:
            raise ValueError("month")
        return f"{_year(g['y2'], r):04d}-{mo:02d}", None, None
    if g["y3"]:
        return f"{_year(g['y3'], r):04d}", None, None
    if g["dom"]:
        return _safe_date(r.year, r.month, cn_int(g["dom"]))
    raise ValueError("no date")


def _safe_date(y: int, mo: int, d: int) -> tuple[str, date, None]:
    day = date(y, mo, d)  # raises ValueError when impossible
    return day.isoformat(), day, None


def _clock(m: re.Match[str], part: str | None) -> tuple[int, int]:
    g = m.groupdict()
    if g["hh"] is not None:
        h, mi = int(g["hh"]), int(g["mm"])
    else:
        if len(g["h"]) > 1 and not g["h"].isascii() and not any(c in g["h"] for c in "十百"):
            raise ValueError("vague clock")  # 两三点
        h = cn_int(g["h"])
        mi = 0
        if g["half"]:
            mi = 30
        elif g["q1"]:
            mi = 15
        elif g["q3"]:
            mi = 45
        elif g["mi"]:
            mi = int(g["mi"])
        elif g["mic"]:
            mi = cn_int(g["mic"])
    if part in _PM_PARTS and h < 12 and not (part in {"半夜", "深夜", "夜里"} and h <= 5):
        h += 12
    if part == "中午" and h < 6:
        h += 12
    if h == 24:
        h = 0
    if not (0 <= h <= 23 and 0 <= mi <= 59):
        raise ValueError("clock")
    return h, mi


def extract_times(norm: str, ref: datetime) -> list[tuple[int, int, str]]:
    """Return (start, end, iso value) for each time expression in `norm`."""
    out: list[tuple[int, int, str]] = []
    if not any(c in norm for c in "天日晚早午周星礼拜月年点时夜晨:号凌傍儿"):
        return out
    for m in _TIMEX_RE.finditer(norm):
        if m.end() == m.start():
            continue
        if len(out) >= 24:  # bounded work on pathological input
            break
        date_s, part_s, clock_s = m.group("date"), m.group("part"), m.group("clock")
        start, end = m.start(), m.end()
        # trim a trailing space the optional \s? may have eaten
        while end > start and norm[end - 1] == " ":
            end -= 1
        # a bare part of day is a time only when something happens then (下午有人来);
        # 早上好 is a greeting, 一晚上 a duration, 晚上睡觉 a habit
        if part_s and not date_s and not clock_s and (
            norm[end:end + 1] not in _PART_NEXT or norm[start - 1:start] in ("一", "整", "个")
        ):
            continue
        before = norm[max(0, start - 2):start]
        if any(before.endswith(h) for h in _HABIT_BEFORE):
            continue
        if clock_s and not date_s and not part_s:
            h = m.group("h")
            if h == "一" and not m.group("half") and not m.group("mi") and not m.group("mic"):
                continue  # 一点 is far more often "a little"
            if h is not None and not h.isascii():
                tail = norm[m.end("clock"):m.end("clock") + 1]
                prev = norm[start - 1:start] if start else ""
                if (len(clock_s) <= 2 or clock_s.endswith("点")) and (
                    prev in _SMALL_BEFORE or tail in _SMALL_AFTER
                ):
                    continue
            if h is not None and h.isascii() and len(h) > 2:
                continue
        try:
            day: date | None = ref.date()
            implied = None
            value = None
            if date_s:
                sub = _DATE_C.match(norm, m.start("date"))
                if sub is None:
                    continue
                value, day, implied = _resolve_date(sub, ref)
            part = part_s or implied
            if clock_s:
                cm = re.fullmatch(CLOCK_RE, clock_s)
                if cm is None:
                    continue
                h, mi = _clock(cm, part)
                if day is None:
                    continue
                value = f"{day.isoformat()}T{h:02d}:{mi:02d}"
            elif part and day is not None:
                value = f"{day.isoformat()}T{PART_HOUR[part]:02d}:00"
            if value is None:
                continue
        except (ValueError, KeyError, OverflowError):
            continue
        out.append((start, end, value))
    return out
