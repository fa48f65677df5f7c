"""The office's FAQ: entries matched by similarity (jieba tokens + rapidfuzz) over question and keywords."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import Forbidden
from backend.models import Community, FaqEntry, Staff
from backend.services import permissions
from backend.services.permissions import Perm

THRESHOLD = 62.0  # below this the question goes to customer service as an inquiry
_STOP = frozenset(
    ["的", "了", "吗", "呢", "吧", "啊", "呀", "么", "嘛", "我", "你", "您", "我们", "请问", "请", "问", "一下", "想", "要", "是", "在", "有", "可以", "能", "怎么", "怎样", "如何", "什么", "哪里", "哪儿", "几", "多少", "小区", "物业", "需要", "办", "这个", "那个", "还", "和", "跟", "去"]
)
_PUNCT = re.compile(r"[\s,.!?;:，。！？；：、~～()（）“”\"'《》]+")


@dataclass(frozen=True)
class Match:
    entry: FaqEntry
    score: float


def tokens(text: str) -> list[str]:
    return list(_tokens(text))


@lru_cache(maxsize=4096)  # every question is scored against every entry: cut each text once
def _tokens(text: str) -> tuple[str, ...]:
    import jieba

    words = jieba.lcut_for_search(_PUNCT.sub(" ", text.lower()))
    return tuple(w for w in words if w.strip() and w not in _STOP)


def score(text: str, entry: FaqEntry) -> float:
    from rapidfuzz import fuzz

    query = tokens(text)
    if not query:
        return 0.0
    keywords = [k for k in entry.keywords.split() if k]
    target = tokens(entry.question) + [k.lower() for k in keywords]
    overlap = fuzz.token_set_ratio(" ".join(query), " ".join(target))
    whole = fuzz.partial_ratio(_PUNCT.sub("", text), _PUNCT.sub("", entry.question)) if len(text) >= 4 else 0.0
    hits = sum(1 for k in keywords if len(k) >= 2 and k.lower() in text.lower())
    return max(overlap * 0.8, whole * 0.9, min(100.0, 55.0 + 15.0 * hits) if hits else 0.0)


def match(session: Session, community_id: int, text: str, threshold: float = THRESHOLD) -> Match | None:
    """The best active entry for the question, or None when none is good enough."""
    entries = session.scalars(select(FaqEntry).where(FaqEntry.community_id == community_id,
                                                     FaqEntry.active.is_(True)))
    best = max((Match(e, score(text, e)) for e in entries), key=lambda m: m.score, default=None)
    return best if best is not None and best.score >= threshold else None


DEMO_FAQ: tuple[tuple[str, str, str], ...] = (
    ("物业服务中心的办公时间是几点？",
     "物业服务中心（3号楼一层）每天 8:30–18:00 办公，节假日照常；夜间和紧急情况请拨打24小时值班电话。",
     "办公时间 上班 下班 几点 营业 前台 服务中心 办公室 开门 关门"),
    ("装修需要办理什么手续？",
     "装修前请业主携带身份证、房产证明和施工方案到服务中心办理装修登记，签署装修管理协议，领取装修许可证张贴在门口；"
     "施工人员需办理出入证。",
     "装修 手续 申请 装修许可 许可证 备案 报备 开工 施工证 出入证"),
    ("装修施工可以在什么时间进行？",
     "工作日 8:30–12:00、14:00–18:00 可以施工；周末和法定节假日禁止电钻、切割等噪音作业。",
     "装修 周末 装修时间 施工时间 电钻 敲墙 几点装修 噪音作业"),
    ("垃圾分类投放时间是什么时候？",
     "每天 7:00–9:00、18:00–21:00 在各楼栋垃圾房定时定点投放：厨余垃圾、可回收物、有害垃圾、其他垃圾分开投放；"
     "大件和装修垃圾请预约清运。",
     "垃圾 扔垃圾 倒垃圾 垃圾分类 投放 垃圾房 厨余 可回收 几点扔"),
    ("快递在哪里取？",
     "快递统一放在南门快递驿站（每天 8:00–21:00）和各楼栋快递柜；大件可请驿站送货上门。",
     "快递 包裹 驿站 快递柜 取件 取快递 丰巢 菜鸟"),
    ("停车卡怎么办理？",
     "携带行驶证、身份证和房产证明（或租赁合同）到服务中心办理停车登记，审核后开通门禁识别；访客车辆请提前登记车牌。",
     "停车卡 月卡 车位 办卡 停车 车辆登记 门禁识别 车牌"),
    ("停车费多少钱？",
     "停车费标准：地面车位月租 150 元/月，地下车位月租 300 元/月，产权车位管理费 60 元/月；访客车辆 2 小时内免费，之后 5 元/小时。"
     "缴费可在服务中心前台或公众号「生活缴费」办理。",
     "停车费 挺车费 停车 车位费 月租 多少钱 收费标准 临停 地下车位 地面车位"),
    ("物业费怎么收？标准是多少？",
     "物业费按建筑面积收取，住宅 2.80 元/㎡/月，按月出账；可在服务中心前台、公众号「生活缴费」或银行转账缴纳。"
     "绑定房屋后可以直接问我您家的欠费和缴费记录。",
     "物业费 标准 单价 多少钱一平 收费标准 怎么收 每平米"),
    ("小区可以养宠物吗？",
     "可以。犬只需办理犬证并接种疫苗，出门必须拴绳、及时清理粪便，禁止带入电梯高峰期和儿童游乐区。",
     "养狗 宠物 狗证 犬证 遛狗 拴绳 养猫 狗"),
    ("停水停电会提前通知吗？",
     "计划停水停电会提前24小时在各单元公告栏和本服务号发布通知；突发停水停电请拨打值班电话了解抢修进度。",
     "停水 停电 通知 检修 断水 断电 没水 没电 计划停水"),
    ("门禁卡丢了怎么补办？",
     "带身份证到服务中心挂失并补办门禁卡，旧卡即时注销，补办当场可取。",
     "门禁卡 补办 丢了 门卡 钥匙卡 挂失 新卡 门禁"),
    ("房屋出租需要登记吗？",
     "需要。房屋出租后请业主带租赁合同和租户身份证到服务中心登记，租户可凭登记办理门禁卡和停车卡。",
     "出租 租客 租户 登记 备案 租房"),
    ("电动车在哪里充电？",
     "电动车请在各楼栋旁的集中充电棚扫码充电，严禁推入楼道和电梯、飞线充电。",
     "电动车 充电 充电桩 电瓶车 充电棚 飞线"),
    ("访客来访怎么登记？",
     "直接告诉我访客姓名和来访时间（例如「明天下午张阿姨来」），我会生成通行码和二维码，访客到门岗出示即可。",
     "访客 登记 来访 通行码 朋友来 门岗"),
)


def seed_demo_faq(session: Session, community: Community, now: datetime | None = None) -> int:
    """Add the demo FAQ entries the community lacks (matched by question); returns how many were added."""
    have = set(session.scalars(select(FaqEntry.question).where(FaqEntry.community_id == community.id)))
    added = 0
    for question, answer, keywords in DEMO_FAQ:
        if question in have:
            continue
        session.add(FaqEntry(community_id=community.id, question=question, answer=answer, keywords=keywords,
                             active=True, updated_at=now or community.created_at))
        added += 1
    session.flush()
    return added


# ---- editing: the answers residents are given, so only customer-service leads and the project manager --------

FIELDS = ("question", "answer", "keywords", "active")


def _may_edit(editor: Staff | None, community_id: int) -> None:
    """`editor` None is the operator (admin token); anyone else needs faq.write in that community."""
    if editor is not None and not permissions.allowed(editor, Perm.FAQ_WRITE, permissions.community(community_id)):
        raise Forbidden()


def create(session: Session, editor: Staff | None, community_id: int, now: datetime, **values: object) -> FaqEntry:
    _may_edit(editor, community_id)
    entry = FaqEntry(community_id=community_id, updated_at=now, **{k: v for k, v in values.items() if k in FIELDS})
    session.add(entry)
    session.flush()
    return entry


def update(session: Session, editor: Staff | None, entry: FaqEntry, now: datetime, **values: object) -> FaqEntry:
    _may_edit(editor, entry.community_id)
    for key, value in values.items():
        if key in FIELDS and value is not None:
            setattr(entry, key, value)
    entry.updated_at = now
    session.flush()
    return entry


def delete(session: Session, editor: Staff | None, entry: FaqEntry) -> None:
    _may_edit(editor, entry.community_id)
    session.delete(entry)
    session.flush()
