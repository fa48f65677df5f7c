"""Rule + lookup entity extraction with normalised values.

All patterns run on textnorm.normalize(text), which keeps offsets, so spans refer to
the original text.  Lookup tables (facility, fee_type, plate_prefix, surname, ...) come
from the lookup sections of nlu/data, so the data and the engine agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from .textnorm import CN_DIGIT_CLASS, NUM_CLASS, digits_value, lower_ascii
from .timex import extract_times

ENTITY_NAMES = (
    "building", "unit", "room", "phone", "plate_number", "person_name",
    "datetime", "facility", "fee_type", "ticket_id",
)
N = f"[{NUM_CLASS}]"
NB = f"(?<![0-9A-Za-z{CN_DIGIT_CLASS}十百])"  # number boundary before
NA = f"(?![0-9{CN_DIGIT_CLASS}十百])"  # number boundary after
PD = f"[0-9{CN_DIGIT_CLASS}]"

DEFAULT_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"


@dataclass
class Lexicon:
    facility: set[str] = field(default_factory=set)
    facility_not: set[str] = field(default_factory=set)
    fee_type: set[str] = field(default_factory=set)
    plate_prefix: set[str] = field(default_factory=lambda: set(DEFAULT_PROVINCES))
    surname: set[str] = field(default_factory=set)
    person_title: set[str] = field(default_factory=set)
    english_name: set[str] = field(default_factory=set)
    person_name: set[str] = field(default_factory=set)


@dataclass
class Ent:
    entity: str
    start: int
    end: int
    value: str
    prio: int

    def as_dict(self) -> dict:
        return {
            "entity": self.entity, "start": self.start, "end": self.end, "value": self.value,
            "confidence_entity": 1.0, "extractor": "GuanjiaRuleExtractor",
        }


def _alt(words: set[str] | list[str]) -> str:
    ws = sorted({w for w in words if w}, key=lambda w: (-len(w), w))
    return "|".join(re.escape(w) for w in ws) or "(?!x)x"


# --------------------------------------------------------------------------- patterns
PHONE_RE = re.compile(rf"(?<![0-9])((?:1|一|幺)[ -]?{PD}(?:[ -]?{PD}){{9}})(?![0-9])")
TICKET_AFTER_RE = re.compile(r"(?<![0-9A-Za-z])([A-Za-z]{0,3}\d{3,16})\s?(号工单|号单|工单)")
TICKET_BEFORE_RE = re.compile(
    r"(工单编号|工单号|工单|报修单号|报修单|投诉单号|投诉单|维修单号|维修单|单号|编号|流水号|ticket\s?#?|tk)"
    r"(\s?(?:是|为|:|#|,|，|：)?\s?)([A-Za-z]{0,3}\d{3,16})(?![0-9])",
    re.I,
)
TICKET_BARE_RE = re.compile(r"(?<![0-9A-Za-z])([A-Z]{1,2}20\d{7,12})(?![0-9])")
COURIER = ("快递", "运单", "物流", "顺丰", "中通", "圆通", "韵达", "申通", "京东", "邮政", "ems", "EMS",
           "包裹", "外卖", "订单", "淘宝", "菜鸟", "极兔")
BLD_SUFFIX = r"(号楼|号栋|号幢|栋楼|幢楼|#楼|#|栋|幢|座|洞|懂|动|号院|号)"
BUILDING_RE = re.compile(rf"{NB}(\d{{1,3}}|[{CN_DIGIT_CLASS}十]{{1,3}}|[A-Za-z])\s?{BLD_SUFFIX}")
UNIT_RE = re.compile(rf"{NB}({N}{{1,3}})\s?(单元)")
ROOM_MARK_RE = re.compile(rf"{NB}({PD}{{3,4}})\s?(室|房间|房|号房|号|户)(?!间|子|卡|楼|工单|单|线|位|车)")
ROOM_BARE_RE = re.compile(rf"(?:\s|的|,|，|-)?({PD}{{3,4}}|{N}{{3,6}})(室|房间|房|号房|号|户)?{NA}")
DASH3_RE = re.compile(r"(?<![0-9A-Za-z.:/])(\d{1,3})\s?-\s?(\d{1,2})\s?-\s?(\d{3,4})(?![0-9.:/])")
DASH2_RE = re.compile(r"(?<![0-9A-Za-z.:/-])(\d{1,2})\s?-\s?(\d{3,4})(?![0-9.:/-])")
DASH2_AFTER_RE = re.compile(r"\s?(\d{1,2})\s?-\s?(\d{3,4})(?![0-9])")
ROOM_CONTEXT_BEFORE = ("楼上", "楼下", "隔壁", "对门", "对面", "我家", "住在", "住", "业主", "房号", "房间号",
                       "门牌号", "门牌", "我是", "是")
ROOM_CONTEXT_AFTER = ("的业主", "业主", "住户", "的住户", "家", "那户", "这户", "的邻居", "邻居")
ROLE_BIGRAMS = {"保安", "门卫", "房东", "公安", "治安", "楼长", "队长", "组长", "网管", "楼管", "城管",
                "主管", "总管", "高管", "水管", "上管", "交管", "物管", "宿管", "机长", "家长", "校长",
                "院长", "科长",
                "多谢", "感谢", "答谢", "道谢", "致谢", "酬谢", "鸣谢", "所长", "部长", "店长",
                "处长", "局长", "会长", "社长", "董事长"}
NAME_TRIGGERS = ("我叫", "名叫", "名字叫", "名字是", "姓名是", "姓名", "联系人", "访客", "来访人", "客人",
                 "朋友", "同事", "司机", "我妈", "我爸", "我老婆", "我老公", "我姐", "我哥", "我弟",
                 "我妹", "我儿子", "我女儿", "亲戚", "表哥", "表姐", "师傅叫", "叫做", "是我", "找", "叫")
NAME_STOP = set("来到去的在是会要等明今后下上周这那和跟、，,。！!？? 电手车号师阿先女老小帮过给让说也就还都"
                "想请把被对从住家里吗呢吧啊呀了着过个点天晚早中午")
SMALL_OLD_BAD = set("区时心孩吃朋友公婆人师家板哥伙姐狗猫鼠车白钱熊方米子实是样年外")


_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
_LATIN_RUN_RE = re.compile(r"[a-z]{2,16}")
# a homophone typo never swaps in one of these (没气 is not 煤气)
FUZZY_STOP = set("没不了的是在有一个这那就也都还很太又才把被给让跟和与或及即几极吗呢吧啊呀哦哈嘛")
REAL_WORD_FREQ = 20  # a window that is itself a common word (开馆, 燃起) is not a typo


class EntityExtractor:
    def __init__(self, lex: Lexicon, pinyin: dict[str, str] | None = None,
                 word_freq: dict[str, int] | None = None,
                 tokenize: Callable[[str], Iterable[str]] | None = None) -> None:
        self.lex = lex
        fac = {lower_ascii(w) for w in lex.facility}
        fac_not = {lower_ascii(w) for w in lex.facility_not}
        fee = {lower_ascii(w) for w in lex.fee_type}
        self._fee_set = fee
        self._fac_set = fac
        self._fac_not = fac_not
        self._lookup_re = re.compile(f"(?:{_alt(fee | fac | fac_not)})")
        prov = "".join(sorted(lex.plate_prefix)) or DEFAULT_PROVINCES
        self._plate_re = re.compile(
            rf"(?<![A-Za-z0-9])([{prov}])\s?([A-Za-z])(?:\s?[·.\- ]\s?|\s)?([A-Za-z0-9]{{5,6}})"
            rf"(?:(?<=\d{{4}})([学警挂领港澳]))?(?![A-Za-z0-9])"
        )
        sur = lex.surname
        single = "".join(sorted(s for s in sur if len(s) == 1))
        double = _alt({s for s in sur if len(s) == 2})
        titles = _alt(lex.person_title)
        self._title_re = re.compile(rf"((?:{double})|[{single}])({titles})") if single else None
        self._small_re = re.compile(rf"([小老])([{single}])") if single else None
        self._sur_re = re.compile(rf"((?:{double})|[{single}])") if single else None
        self._eng_re = re.compile(rf"(?<![A-Za-z])({_alt(lex.english_name)})(?![A-Za-z])")
        self._known_names = re.compile(f"(?:{_alt(lex.person_name)})") if lex.person_name else None
        self._trigger_re = re.compile(f"(?:{_alt(set(NAME_TRIGGERS))})[:：]?\\s?")
        self._single_sur = set(single)
        # homophone/pinyin tolerance for facility and fee words (马捅, 挺车费, wuyefei, 热水qi)
        self._py = pinyin or {}
        self._word_freq = word_freq or {}
        self._tokenize = tokenize
        self._fuzzy: dict[tuple[str, ...], list[str]] = {}
        self._joined: dict[str, str] = {}
        if self._py:
            for w in sorted(fac | fee):
                if not (2 <= len(w) <= 5) or not all("\u4e00" <= c <= "\u9fff" for c in w):
                    continue
                key = tuple(self._py.get(c, "") for c in w)
                if "" in key:
                    continue
                self._fuzzy.setdefault(key, []).append(w)
                self._joined.setdefault("".join(key), w)

    # ------------------------------------------------------------------ helpers
    def extract(self, norm: str, ref: datetime) -> list[dict]:
        low = lower_ascii(norm)
        cands: list[Ent] = []
        cands += self._tickets(norm)
        cands += self._phones(norm)
        cands += self._plates(norm)
        cands += self._addresses(norm)
        cands += [Ent("datetime", s, e, v, 4) for s, e, v in extract_times(norm, ref)]
        cands += self._lookups(low)
        cands += self._persons(norm)
        cands += self._rooms_marked(norm)
        cands.sort(key=lambda c: (c.prio, -(c.end - c.start), c.start))
        taken = bytearray(len(norm) + 1)
        out: list[Ent] = []
        for c in cands:
            if c.entity == "_block":
                if not any(taken[c.start:c.end]):
                    for i in range(c.start, c.end):
                        taken[i] = 1
                continue
            if any(taken[c.start:c.end]):
                continue
            for i in range(c.start, c.end):
                taken[i] = 1
            out.append(c)
        out.sort(key=lambda c: c.start)
        return [c.as_dict() for c in out]

    def _tickets(self, t: str) -> list[Ent]:
        out = []
        if not any(ch.isdigit() for ch in t):
            return out
        def courier(pos: int) -> bool:
            w = t[max(0, pos - 8):pos]
            return any(c in w for c in COURIER)
        for m in TICKET_AFTER_RE.finditer(t):
            if not courier(m.start()):
                out.append(Ent("ticket_id", m.start(), m.end(), m.group(1).upper(), 0))
        for m in TICKET_BEFORE_RE.finditer(t):
            if courier(m.start() + 1) or t[m.start():m.start() + 3] == "单号码":
                continue
            if m.group(1) in ("单号", "编号") and courier(m.start()):
                continue
            ident = m.group(3)
            if m.group(2) == "" and not m.group(1)[0].isascii():
                out.append(Ent("ticket_id", m.start(), m.end(), ident.upper(), 0))
            else:
                out.append(Ent("ticket_id", m.start(3), m.end(3), ident.upper(), 0))
        for m in TICKET_BARE_RE.finditer(t):
            if not courier(m.start()):
                out.append(Ent("ticket_id", m.start(), m.end(), m.group(1).upper(), 1))
        return out

    def _phones(self, t: str) -> list[Ent]:
        out = []
        for m in PHONE_RE.finditer(t):
            v = digits_value(m.group(1))
            if len(v) == 11 and v[0] == "1" and v[1] in "3456789":
                out.append(Ent("phone", m.start(1), m.end(1), v, 1))
        return out

    def _plates(self, t: str) -> list[Ent]:
        out = []
        for m in self._plate_re.finditer(t):
            tail = m.group(3)
            if sum(ch.isdigit() for ch in tail) < 3:
                continue
            end = m.end()
            v = (m.group(1) + m.group(2) + tail + (m.group(4) or "")).upper()
            out.append(Ent("plate_number", m.start(), end, v, 2))
        return out

    def _addresses(self, t: str) -> list[Ent]:
        out: list[Ent] = []
        for m in DASH3_RE.finditer(t):
            out += [Ent("building", m.start(1), m.end(1), m.group(1), 3),
                    Ent("unit", m.start(2), m.end(2), str(int(m.group(2))), 3),
                    Ent("room", m.start(3), m.end(3), m.group(3), 3)]
        for m in BUILDING_RE.finditer(t):
            num, suf = m.group(1), m.group(2)
            rest = t[m.end():m.end() + 8]
            follows_addr = bool(re.match(rf"\s?(?:的|,|，)?\s?(?:{N}{{1,3}}\s?单元|{N}{{3,4}}|\d{{1,2}}\s?-)", rest))
            if suf in ("号", "号院") and not follows_addr:
                continue
            if suf in ("洞", "懂", "动") and not (follows_addr or num.isdigit()):
                continue
            if suf in ("座",) and not num.isascii() and not follows_addr:
                # 一座/两座 are measure words unless an address follows
                continue
            if (suf in ("栋楼", "幢楼", "栋", "幢") and num in ("一", "两", "几", "这") and not follows_addr
                    and re.match(r"楼|房|别墅|的", t[m.end():m.end() + 1])):
                continue
            if num.isascii() and num.isalpha():
                if suf in ("号",):
                    continue
                if m.start() > 0 and t[m.start() - 1].isascii() and t[m.start() - 1].isalpha():
                    continue
                val = num.upper()
            else:
                val = digits_value(num)
                if not val or val == "0":
                    continue
                val = str(int(val))
            end = m.end()
            if suf.endswith("楼") and len(suf) > 1 and t[end:end + 1] in ("道", "梯", "顶", "下", "上", "里", "层"):
                end -= 1  # 5幢楼道: the corridor, not part of the building name
            out.append(Ent("building", m.start(), end, val, 3))
            pos = end
            # 7栋1-202
            dm = DASH2_AFTER_RE.match(t, pos)
            if dm:
                out.append(Ent("unit", dm.start(1), dm.end(1), str(int(dm.group(1))), 3))
                out.append(Ent("room", dm.start(2), dm.end(2), dm.group(2), 3))
                continue
            um = re.compile(rf"\s?(?:的|,|，)?\s?({N}{{1,3}}\s?单元)").match(t, pos)
            if um:
                pos = um.end()
            rm = ROOM_BARE_RE.match(t, pos)
            if rm:
                out.append(self._room(rm))
        for m in UNIT_RE.finditer(t):
            v = digits_value(m.group(1))
            if not v:
                continue
            out.append(Ent("unit", m.start(), m.end(), str(int(v)), 3))
            rm = ROOM_BARE_RE.match(t, m.end())
            if rm:
                out.append(self._room(rm))
        for m in DASH2_RE.finditer(t):
            out += [Ent("building", m.start(1), m.end(1), m.group(1), 5),
                    Ent("room", m.start(2), m.end(2), m.group(2), 5)]
        return out

    @staticmethod
    def _room(rm: re.Match[str]) -> Ent:
        return Ent("room", rm.start(1), rm.end(2) if rm.group(2) else rm.end(1), digits_value(rm.group(1)), 3)

    def _rooms_marked(self, t: str) -> list[Ent]:
        out = []
        for m in ROOM_MARK_RE.finditer(t):
            out.append(Ent("room", m.start(), m.end(), digits_value(m.group(1)), 8))
        # bare 3-4 digit numbers in a room context (楼上602, 1502的业主)
        for m in re.finditer(rf"{NB}(\d{{3,4}}|[{CN_DIGIT_CLASS}]{{3,4}}){NA}", t):
            before = t[max(0, m.start() - 3):m.start()]
            after = t[m.end():m.end() + 3]
            if any(before.endswith(w) for w in ROOM_CONTEXT_BEFORE) or any(
                after.startswith(w) for w in ROOM_CONTEXT_AFTER
            ):
                if re.match(r"\s?(元|块|万|米|平|个|次|天|分|%|年|月|号|毛|度|吨|方|斤|公里)", after):
                    continue
                out.append(Ent("room", m.start(), m.end(), digits_value(m.group(1)), 9))
        return out

    def _fuzzy_matches(self, low: str, covered: bytearray) -> list[tuple[int, int, str]]:
        """Homophone typos (one character swapped for a same-pinyin one) and pinyin spellings."""
        py, out = self._py, []
        n = len(low)
        bounds: set[int] | None = None
        i = 0
        while i < n:
            if covered[i] or not ("\u4e00" <= low[i] <= "\u9fff"):
                i += 1
                continue
            hit = None
            for L in (5, 4, 3, 2):
                if i + L > n or any(covered[i:i + L]):
                    continue
                win = low[i:i + L]
                key = tuple(py.get(c, "") for c in win)
                cands = self._fuzzy.get(key)
                if not cands or self._word_freq.get(win, 0) >= REAL_WORD_FREQ:
                    continue
                for w in cands:
                    diff = [k for k in range(L) if win[k] != w[k]]
                    if len(diff) == 1 and win[diff[0]] not in FUZZY_STOP and win not in self._fac_not:
                        if self._tokenize is not None:
                            if bounds is None:  # a typo never cuts through a real word (自来水|发黄 is not 水阀)
                                bounds, pos = {0}, 0
                                for tok in self._tokenize(low):
                                    pos += len(tok)
                                    bounds.add(pos)
                            if i not in bounds or i + L not in bounds:
                                continue
                        hit = (i, i + L, w)
                        break
                if hit:
                    break
            if hit:
                out.append(hit)
                i = hit[1]
            else:
                i += 1
        # pinyin, whole or mixed with characters: wuyefei, matong, 电ti, 热水qi
        for m in _LATIN_RUN_RE.finditer(low):
            s0, e0 = m.start(), m.end()
            if (s0 > 0 and low[s0 - 1].isascii() and low[s0 - 1].isalnum()) or (
                    e0 < n and low[e0].isascii() and low[e0].isalnum()):
                continue
            best = None
            for a in range(0, 4):
                if s0 - a < 0 or (a and not _CJK_RE.match(low[s0 - a])):
                    break
                for b in range(0, 4):
                    if e0 + b > n or (b and not _CJK_RE.match(low[e0 + b - 1])):
                        break
                    s1, e1 = s0 - a, e0 + b
                    if any(covered[s1:e1]):
                        continue
                    left, right = low[s1:s0], low[e0:e1]
                    if not (left or right) and len(m.group(0)) < 4:
                        continue
                    pys = "".join(py.get(c, "?") for c in left) + m.group(0) + "".join(py.get(c, "?") for c in right)
                    w = self._joined.get(pys)
                    if w and (best is None or e1 - s1 > best[1] - best[0]):
                        best = (s1, e1, w)
            if best:
                out.append(best)
        return out

    def _lookups(self, low: str) -> list[Ent]:
        out: list[Ent] = []
        prev: Ent | None = None
        matches = [(m.start(), m.end(), m.group(0)) for m in self._lookup_re.finditer(low)]
        if self._fuzzy:
            covered = bytearray(len(low) + 1)
            for s, e, _ in matches:
                for k in range(s, e):
                    covered[k] = 1
            fz = self._fuzzy_matches(low, bytearray(len(low) + 1))
            for fs, fe, fw in fz:
                inside = [m for m in matches if fs <= m[0] and m[1] <= fe]
                if any(covered[fs:fe]) and not (inside and all(m[1] - m[0] < fe - fs for m in inside)
                                                and not any(covered[k] for k in range(fs, fe)
                                                            if not any(m[0] <= k < m[1] for m in inside))):
                    continue  # an exact match wins unless the typo form strictly contains it (水电|废)
                matches = [m for m in matches if m not in inside]
                matches.append((fs, fe, fw))
            matches.sort()
        for s, e, w in matches:
            if w in self._fac_not and w not in self._fee_set:
                out.append(Ent("_block", s, e, "", 5))
                prev = None
                continue
            if w.isascii() and (
                (s > 0 and low[s - 1].isascii() and low[s - 1].isalnum())
                or (e < len(low) and low[e].isascii() and low[e].isalpha())
            ):
                continue
            if w in self._fee_set:
                out.append(Ent("fee_type", s, e, w, 5))
                prev = None
                continue
            if w.endswith("卡") and low[e:e + 1] in ("在", "住", "了", "着", "死"):
                e -= 1  # 电梯卡住了: the lift is stuck, not a card
                w = w[:-1]
                if not w or w not in self._fac_set:
                    continue
            if prev is not None and prev.end == s:
                prev.end = e  # compound: 门禁 + 读卡器 -> 门禁读卡器
                continue
            prev = Ent("facility", s, e, w, 6)
            out.append(prev)
        return out

    def _persons(self, t: str) -> list[Ent]:
        out: list[Ent] = []
        if self._title_re is not None:
            for m in self._title_re.finditer(t):
                s = m.start()
                if s > 0 and (t[s - 1:s + 1] in ROLE_BIGRAMS or t[s - 1] == t[s]):
                    continue
                if s > 0 and t[s - 1] in "小老" and t[s - 1:s + 1] not in ("小" + m.group(1), "老" + m.group(1)):
                    pass
                out.append(Ent("person_name", s, m.end(), "", 7))
        if self._small_re is not None:
            for m in self._small_re.finditer(t):
                ch = m.group(2)
                if ch in SMALL_OLD_BAD:
                    continue
                nxt = t[m.end():m.end() + 1]
                if nxt in ("子", "孩", "区", "时", "朋", "伙", "学", "吃", "姐", "哥", "年", "序", "段"):
                    continue
                # 小王师傅: title form wins through length
                out.append(Ent("person_name", m.start(), m.end(), "", 7))
        if self._known_names is not None:
            for m in self._known_names.finditer(t):
                out.append(Ent("person_name", m.start(), m.end(), "", 7))
        for m in self._eng_re.finditer(t):
            out.append(Ent("person_name", m.start(), m.end(), "", 7))
        if self._sur_re is not None:
            for m in self._trigger_re.finditer(t):
                pos = m.end()
                sm = self._sur_re.match(t, pos)
                if not sm:
                    continue
                s = sm.start()
                e = sm.end()
                c1 = t[e:e + 1]
                if not c1 or not ("\u4e00" <= c1 <= "\u9fff") or c1 in NAME_STOP:
                    continue
                e += 1
                c2 = t[e:e + 1]
                c3 = t[e + 1:e + 2]
                if c2 and "\u4e00" <= c2 <= "\u9fff" and c2 not in NAME_STOP and (not c3 or c3 in NAME_STOP
                                                                                  or not "\u4e00" <= c3 <= "\u9fff"):
                    e += 1
                out.append(Ent("person_name", s, e, "", 8))
        for c in out:
            c.value = t[c.start:c.end]
        return out
