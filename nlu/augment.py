"""Maintenance tool: write nlu/data/nlu_generated.yml, slot-filled examples with exact spans.

    python -m nlu.augment

Templates pair address, time, plate, name, fee and ticket forms (regional suffixes, Chinese
numerals, full-width digits, dashed addresses) with hand-written phrasings, so the entity spans
come from the slots, not from the extractor.  Deterministic (fixed seed).  Never fed from the
held-out files.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

OUT = Path(__file__).resolve().parent / "data" / "nlu_generated.yml"
CN = "零一二三四五六七八九"
FW = str.maketrans("0123456789", "０１２３４５６７８９")


def cn_digits(n: str) -> str:
    return "".join(CN[int(c)] for c in n)


def cn_num(n: int) -> str:
    if n < 10:
        return CN[n]
    if n < 20:
        return "十" + (CN[n % 10] if n % 10 else "")
    return CN[n // 10] + "十" + (CN[n % 10] if n % 10 else "")


def ent(span: str, name: str, value: str | None = None) -> str:
    if value is None or value == span:
        return f"[{span}]({name})"
    return "[" + span + "]" + json.dumps({"entity": name, "value": value}, ensure_ascii=False)


def address(r: random.Random) -> str:
    b = r.randint(1, 28)
    u = r.randint(1, 6)
    room = f"{r.randint(1, 33)}{r.randint(1, 4):02d}"
    style = r.randrange(9)
    if style == 0:
        return dashed(r)
    suffix = r.choice(["号楼", "栋", "幢", "#楼", "号", "座", "栋楼", "洞", "懂"])
    if suffix == "座":
        bs, bv = r.choice("ABCDEF") + "座", None
    elif style in (1, 2):
        bs = cn_num(b) + (suffix if suffix in ("号楼", "栋", "幢", "栋楼") else "栋")
        bv = str(b)
    elif style == 3:
        bs, bv = (str(b) + suffix).translate(FW), str(b)
    else:
        bs, bv = str(b) + suffix, str(b)
    if bv is None:
        bv = bs[0]
    parts = [ent(bs, "building", bv)]
    need_room = suffix in ("号", "洞", "懂")
    if r.random() < 0.6 or need_room:
        if r.random() < 0.6 and not need_room:
            us = (cn_num(u) if style in (1, 2) else str(u)) + "单元"
            parts.append(ent(us, "unit", str(u)))
        rs = cn_digits(room) if style == 1 else room.translate(FW) if style == 3 else room
        rs += r.choice(["", "", "", "室", "号"])
        parts.append(ent(rs, "room", room))
    return "".join(parts)


def dashed(r: random.Random) -> str:
    b, u, room = r.randint(1, 28), r.randint(1, 6), f"{r.randint(1, 33)}{r.randint(1, 4):02d}"
    return f"{ent(str(b), 'building')}-{ent(str(u), 'unit')}-{ent(room, 'room')}"


FAULTS = {
    "水管": ["漏水了", "爆了个小口子 在渗水", "接头滴水"], "水龙头": ["关不紧", "拧不动了", "一直滴水"],
    "马桶": ["堵了", "冲不下去", "水箱一直流水"], "下水道": ["堵了", "反味", "下水特别慢"],
    "地漏": ["返水", "反臭味"], "热水器": ["打不着火", "不出热水", "显示故障码"],
    "燃气灶": ["点不着", "打火没反应"], "空调": ["不制冷", "滴水", "开不了机"], "暖气": ["不热", "摸着冰凉"],
    "电梯": ["坏了", "不动了 里面没人", "门关不上", "异响很大", "按钮失灵"], "门禁": ["刷卡没反应", "开不了门"],
    "单元门": ["关不上", "锁坏了"], "楼道灯": ["不亮", "一直闪"], "声控灯": ["不亮"], "路灯": ["不亮了"],
    "插座": ["没电", "松了"], "电闸": ["一直跳"], "窗户": ["关不严", "关不上"], "防盗门": ["锁坏了"],
    "道闸": ["抬不起来"], "充电桩": ["充不进电", "刷卡没反应"], "快递柜": ["打不开"], "油烟机": ["不转了"],
    "排气扇": ["不转"], "晾衣架": ["摇不动"], "可视对讲": ["没声音"], "监控": ["黑屏了"], "门锁": ["坏了"],
}
REPAIR_T = ["{a}{f}{x}", "{a}的{f}{x} 麻烦派人来修", "{a} {f}{x} 师傅啥时候能来", "你好 我是{a}的 家里{f}{x}",
            "{f}{x} {a}", "报修 {a} {f}{x}", "{a}{f}{x} 好几天了 赶紧修一下", "{a}那边{f}{x} 帮忙看看"]
EMERG_T = ["{a}有人被困在{f}里了 快来", "{a}着火了 楼道里全是烟", "{a}家里{g}味很大 快来人",
           "{a}水管爆了 水哗哗往外喷", "快来人 {a}楼下有人晕倒了", "{a}有人在撬门 快叫保安",
           "救命 {a}{f}里有人 出不来", "{a}楼道冒烟了 快点来"]
COMPLAINT_T = ["{a}天天半夜吵 管管吧", "{a}装修太吵了 中午都不停", "{a}门口堆满了杂物 消防隐患",
               "{a}楼下有车占着消防通道 {p}", "有辆车{p}天天停我车位 我住{a}", "{a}的邻居养狗不拴绳",
               "{a}楼道里的垃圾好几天没人收", "我是{a}的 楼上往下扔垃圾"]
VISIT_T = ["{t}我朋友来 车牌{p}", "{n}{t}过来 帮忙登记一下", "{t}有车进来 {p} 麻烦放行", "登记访客 {n} {t}",
           "我家亲戚{n}{t}到 {a}", "{t}有搬家车进来 车牌{p}", "车牌{p} {t}到 是来找我的", "{t}有个师傅来装空调 叫{n}"]
FEE_T = ["{fee}多少钱", "{fee}怎么交", "{fee}交了没有 帮我查一下", "我家{fee}欠了多少", "{a}的{fee}交到哪个月了",
         "{fee}为什么涨了", "{fee}能开发票吗", "{t}交的{fee}怎么没到账", "{fee}在哪交 微信行吗", "{fee}是按什么标准收的"]
STATUS_T = ["{k}处理到哪了", "{k}怎么还没人来", "查一下{k}的进度", "{k}有人接了吗", "{t}报的修 {k} 还没动静",
            "我的{f}报修 {k} 啥时候来人", "催一下{k}"]
BIND_T = ["帮我绑定下房子 {a} 手机{ph}", "绑定房屋 {a}", "我是{a}的业主", "认证业主 {a} {ph}", "我是{a}的租户 想绑定一下",
          "你好 我住{a} 帮我认证一下", "{a} {n} 申请绑定", "我是{a}业主{n} 电话{ph}", "换绑到{a}", "我搬到{a}了 帮我换绑",
          "业主认证 {a}", "登记房屋 {a} {ph}", "我是{a}的 要绑定房子"]
INFORM_T = ["{a}", "{a} {ph}", "{ph}", "{t}", "{n} 两个人", "{p}", "{n} {ph}", "{a} {n}", "{n} {t}", "车牌{p}",
            "{t} {n} 三个人", "电话{ph}", "{a} {n} {ph}", "手机号{ph}", "{t}吧", "是{a}", "{n} {p}"]
FEES = ["物业费", "停车费", "水费", "电费", "燃气费", "公摊费", "暖气费", "车位费", "装修押金", "维修基金", "滞纳金",
        "垃圾清运费", "物业管理费", "临时停车费", "门禁卡押金", "取暖费", "电梯费", "二次供水费"]
NAMES = ["王芳", "李强", "张丽", "刘洋", "陈静", "赵磊", "孙阿姨", "周师傅", "吴先生", "郑女士", "小刘", "老张", "黄经理",
         "Lisa", "Kevin", "马丽娟", "欧阳明"]
TIMES = ["明天上午", "明天下午三点", "今晚八点", "后天", "周六上午", "下周一", "今天下午两点半", "明早九点", "这周日",
         "12月3号", "后天晚上七点", "周五下午"]
PROV = "粤京沪苏浙鲁川鄂湘豫闽皖"


def plate(r: random.Random) -> tuple[str, str]:
    p = r.choice(PROV) + r.choice("ABCDEFGHJK")
    tail = "".join(r.choice("0123456789" if i % 2 == 0 or r.random() < 0.6 else "ABCDEFGHJKLMN") for i in range(5))
    if r.random() < 0.2:
        tail = r.choice("DF") + tail
    sep = r.choice(["", "", "·", " "])
    return p + sep + tail, p + tail


def ticket(r: random.Random) -> str:
    n = str(r.randint(1000, 99999))
    k = r.randrange(5)
    if k == 0:
        return ent(n + "号工单", "ticket_id", n)
    if k == 1:
        return ent("工单" + n, "ticket_id", n)
    if k == 2:
        return ent("工单号" + n, "ticket_id", n)
    if k == 3:
        return ent("编号" + n, "ticket_id", n)
    rid = f"R2026{r.randint(1, 12):02d}{r.randint(1, 28):02d}{r.randint(1, 999):03d}"
    return ent("单号" + rid, "ticket_id", rid)


def phone(r: random.Random) -> tuple[str, str]:
    v = r.choice(["13", "15", "18", "17", "19"]) + "".join(r.choice("0123456789") for _ in range(9))
    k = r.randrange(6)
    span = v if k < 3 else f"{v[:3]} {v[3:7]} {v[7:]}" if k == 3 else f"{v[:3]}-{v[3:7]}-{v[7:]}" if k == 4 \
        else v.translate(FW)
    return span, v


def fill(r: random.Random, t: str) -> str:
    f = r.choice(list(FAULTS))
    if "被困在{f}" in t or "{f}里有人" in t:
        f = "电梯"  # people are trapped in lifts, not in corridor lights
    a = dashed(r) if r.random() < 0.12 else address(r)
    ps, pv = plate(r)
    phs, phv = phone(r) if "{ph}" in t else ("", "")
    return t.format(ph=ent(phs, "phone", phv), a=a, f=ent(f, "facility"), x=r.choice(FAULTS[f]), g=ent(r.choice(["燃气", "煤气", "天然气"]), "facility"),
                    p=ent(ps, "plate_number", pv), n=ent(r.choice(NAMES), "person_name"),
                    t=ent(r.choice(TIMES), "datetime"), fee=ent(r.choice(FEES), "fee_type"), k=ticket(r))


def main() -> None:
    r = random.Random(20261123)
    plan = [("report_repair", REPAIR_T, 110), ("report_emergency", EMERG_T, 40), ("file_complaint", COMPLAINT_T, 45),
            ("register_visitor", VISIT_T, 60), ("query_fee", FEE_T, 60), ("check_ticket_status", STATUS_T, 40),
            ("bind_home", BIND_T, 45), ("inform", INFORM_T, 70)]
    lines = ['version: "3.1"', "nlu:"]
    for intent, temps, n in plan:
        seen: set[str] = set()
        lines += [f"- intent: {intent}", "  examples: |"]
        while len(seen) < n:
            s = fill(r, r.choice(temps))
            if s in seen:
                continue
            seen.add(s)
            lines.append("    - " + s)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
