"""Composing notices: every refusal, scheduling, cancelling, the report, the export, and what residents do."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from backend.errors import IllegalMove, Invalid, NotFound
from backend.models import Notice, NoticeDelivery
from backend.services import notice_text, notices
from backend.services.notices import Draft, Upload

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def draft(**changes) -> Draft:
    values = dict(title="停水通知", body="12月5日 9:00-17:00 1栋停水检修。", category="outage",
                  audience={"buildings": ["1"]})
    values.update(changes)
    return Draft(**values)


def refusal(session, clock, nw, tmp_path, **changes) -> str:
    with pytest.raises(Invalid) as caught:
        notices.create(session, clock, nw.community_id, draft(**changes), created_by=None, media_dir=tmp_path)
    assert session.query(Notice).count() == 0
    return caught.value.text()


@pytest.mark.parametrize(("changes", "says"), [
    ({"audience": {}}, "请选择通知对象"),
    ({"audience": {"buildings": ["1"], "units": []}, "title": ""}, "标题不能为空"),
    ({"body": "   "}, "正文不能为空"),
    ({"audience": {"buildings": ["2"], "floors": [9]}}, "没有匹配到任何人"),
    ({"audience": {"buildings": ["9"]}}, "小区里没有9栋"),
    ({"audience": {"units": ["1-7"]}}, "小区里没有1栋7单元"),
    ({"audience": {"community": "yes"}}, "community 须为 true 或 false"),
    ({"body": "很长" * 2000}, "正文 4000 字，超过 Telegram"),
    ({"title": "标" * 101}, "标题最多 100 字"),
    ({"category": "gossip"}, "类别须为"),
    ({"scheduled_at": "PAST"}, "已经过去"),
    ({"scheduled_at": "FAR"}, "不能超过一年"),
    ({"expires_at": "PAST"}, "有效期须晚于发送时间"),
    ({"image": Upload("notice.png", b"MZ\x90\x00 not an image")}, "「notice.png」不是图片"),
    ({"image": Upload("big.png", PNG + b"\x00" * notices.MAX_IMAGE_BYTES)}, "超过 10MB 上限"),
])
def test_refusals_say_why_and_store_nothing(session, clock, nw, tmp_path, changes, says):
    times = {"PAST": clock.now() - timedelta(hours=1), "FAR": clock.now() + timedelta(days=400)}
    changes = {k: times.get(v, v) if isinstance(v, str) else v for k, v in changes.items()}
    assert says in refusal(session, clock, nw, tmp_path, **changes)


def test_muted_by_everyone_is_nobody(session, clock, nw, tmp_path):
    resident = session.get(type(nw.world.residents["2"]), nw.rid("2"))
    notices.mute(session, clock, resident, "fee")
    assert "1 位住户已关闭此类通知" in refusal(session, clock, nw, tmp_path, category="fee",
                                                audience={"arrears": True})


def test_a_scheduled_notice_with_image_and_attachment(session, clock, nw, tmp_path):
    when = clock.now() + timedelta(hours=2)
    notice, checked = notices.create(
        session, clock, nw.community_id,
        draft(urgent=True, scheduled_at=when, expires_at=when + timedelta(days=1), image=Upload("a.png", PNG),
              attachment=Upload("停水范围.PDF", b"%PDF-1.4")),
        created_by=nw.world.staff["cs1"].id, media_dir=tmp_path)
    assert (notice.status, notice.scheduled_at, notice.urgent, notice.audience) == (
        "scheduled", when, True, {"buildings": ["1"]})
    assert (tmp_path / notice.image_path).read_bytes() == PNG and notice.image_path.endswith(".png")
    assert notice.attachment_path.endswith(".pdf")
    assert (checked.count.residents, checked.count.reachable) == (3, 2)


def test_now_means_now_and_a_long_text_is_cut_for_wechat_as_the_sender_cuts_it(session, clock, nw, tmp_path):
    notice, checked = notices.create(session, clock, nw.community_id, draft(body="停水。\n" * 500),
                                     created_by=None, media_dir=tmp_path)
    assert notice.scheduled_at == clock.now()
    text = notice_text.text(notice)  # what the broadcast engine renders: heading, body, expiry
    assert text.startswith("【停水停电/设施维护】停水通知\n\n停水。")
    parts = notice_text.wechat_parts(text)
    assert checked.wechat_parts == len(parts) == 3  # 5,000 bytes and the heading
    assert all(len(p.encode()) <= notice_text.WECHAT_PART_BYTES for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")
    with_template = checked.wechat({"notice": "TPL"})
    assert with_template.as_dict()["outside_window"] == "template_link"
    assert "分 3 条收到" in with_template.describe() and "模板消息" in with_template.describe()
    assert "cannot be reached" in checked.wechat({}).describe("en")
    short, short_checked = notices.create(session, clock, nw.community_id, draft(), created_by=None,
                                          media_dir=tmp_path)
    assert short_checked.wechat_parts == 1 and "收到 1 条消息" in short_checked.wechat({"notice": "T"}).describe()
    # Each notice has its own unguessable page token from the start.
    assert len(notice.page_token) == 32 and notice.page_token != short.page_token
    assert notices.page_url("https://wy.example.com/", short) == f"https://wy.example.com/n/{short.page_token}"


def test_the_page_is_served_only_while_the_notice_is_live(session, clock, nw, tmp_path):
    later, _ = notices.create(session, clock, nw.community_id,
                              draft(scheduled_at=clock.now() + timedelta(hours=1),
                                    expires_at=clock.now() + timedelta(hours=3)),
                              created_by=None, media_dir=tmp_path)
    assert notices.for_page(session, clock, later.page_token) == (None, "unknown")  # not published yet
    clock.advance(hours=1)
    assert notices.for_page(session, clock, later.page_token) == (later, "")
    clock.advance(hours=2)
    assert notices.for_page(session, clock, later.page_token) == (later, "expired")
    cancelled, _ = notices.create(session, clock, nw.community_id, draft(), created_by=None, media_dir=tmp_path)
    notices.cancel(session, clock, cancelled)
    assert notices.for_page(session, clock, cancelled.page_token) == (cancelled, "cancelled")
    for bad in ("", "x", "a" * 65, "../../etc/passwd", later.page_token[:-1] + "!", "b" * 32):
        assert notices.for_page(session, clock, bad) == (None, "unknown")


def test_cancel_only_before_sending(session, clock, nw, tmp_path):
    notice, _ = notices.create(session, clock, nw.community_id, draft(), created_by=None, media_dir=tmp_path)
    assert notices.cancel(session, clock, notice).status == "cancelled"
    with pytest.raises(IllegalMove, match="cancelled"):
        notices.cancel(session, clock, notice)
    sending, _ = notices.create(session, clock, nw.community_id, draft(), created_by=None, media_dir=tmp_path)
    sending.status = "sending"
    session.flush()
    with pytest.raises(IllegalMove) as caught:
        notices.cancel(session, clock, sending)
    assert "发送中" in caught.value.text()


def _deliveries(session, clock, nw, notice) -> None:
    now = clock.now()
    rows = [
        (nw.rid("1"), "wechat", "wx-1", "sent", "customer_service", ""),
        (nw.rid("1"), "web", "web-1", "sent", "push", ""),
        (nw.rid("五楼"), "telegram", "501", "failed", "private", "Forbidden: bot was blocked by the user"),
        (nw.rid("六楼"), "none", f"resident:{nw.rid('六楼')}", "unreachable", "", "blocked"),
    ]
    for resident_id, channel, chat, status, via, error in rows:
        session.add(NoticeDelivery(notice_id=notice.id, resident_id=resident_id, channel=channel, chat_id=chat,
                                   status=status, via=via, error=error, next_attempt_at=now,
                                   sent_at=now if status == "sent" else None))
    session.add(NoticeDelivery(notice_id=notice.id, group_id=None, staff_id=nw.world.staff["guard1"].id,
                               channel="wecom", chat_id="guard1", status="sent", next_attempt_at=now, sent_at=now))
    notice.status = "sent"
    session.flush()


def test_report_and_exports(session, clock, nw, tmp_path):
    notice, _ = notices.create(session, clock, nw.community_id, draft(), created_by=None, media_dir=tmp_path)
    _deliveries(session, clock, nw, notice)
    resident = session.get(type(nw.world.residents["1"]), nw.rid("1"))
    notices.acknowledge(session, clock, resident, notice.id)
    report = notices.report(session, notice)
    assert report.as_dict() == {
        "notice_id": notice.id, "status": "sent", "deliveries": 5, "by_status": {"sent": 3, "failed": 1,
                                                                                "unreachable": 1},
        "sent_by_channel": {"wechat": 1, "web": 1, "wecom": 1}, "wechat_via": {"customer_service": 1},
        "residents": 3, "residents_reached": 1,
        "acknowledged": 1, "not_reached": 2,
        "reasons": {"Forbidden: bot was blocked by the user": 1, "blocked": 1}, "awaiting_owner_confirm": 0,
    }
    assert sorted(r.name for r in report.not_reached) == ["五楼", "六楼"]
    rows = list(csv.reader(io.StringIO(notices.export_csv(notices.record(session, notice)).decode("utf-8-sig"))))
    assert rows[0] == list(notices.EXPORT_HEADER) and len(rows) == 6
    assert rows[1][:5] == ["住户", "住户1", "1-1-0101", "wechat", "已送达"] and rows[1][7]  # acknowledged
    assert rows[-1][:5] == ["员工", "保安一", "秩序维护部", "wecom", "已送达"]
    sheet = load_workbook(io.BytesIO(notices.export_xlsx(notices.record(session, notice)))).worksheets[0]
    values = [[c or "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert values == rows


def test_export_cells_never_run_as_formulas():
    row = notices.RecordRow("住户", "=HYPERLINK(\"x\")", "", "web", "sent", "", None, None, "")
    assert "'=HYPERLINK" in notices.export_csv([row]).decode("utf-8-sig")


def test_acknowledge_only_ones_own(session, clock, nw, tmp_path):
    notice, _ = notices.create(session, clock, nw.community_id, draft(), created_by=None, media_dir=tmp_path)
    _deliveries(session, clock, nw, notice)
    stranger = session.get(type(nw.world.residents["2"]), nw.rid("2"))
    with pytest.raises(NotFound):
        notices.acknowledge(session, clock, stranger, notice.id)
    other = session.get(type(nw.world.residents["1"]), nw.other.residents["1"].id)
    with pytest.raises(NotFound):
        notices.acknowledge(session, clock, other, notice.id)
    mine = session.get(type(nw.world.residents["1"]), nw.rid("1"))
    notices.acknowledge(session, clock, mine, notice.id)
    notices.acknowledge(session, clock, mine, notice.id)  # twice: still fine, first time kept
    acked = session.query(NoticeDelivery).filter(NoticeDelivery.resident_id == mine.id).all()
    assert len(acked) == 2 and all(d.acked_at == clock.now() for d in acked)


def test_current_notices_of_a_resident(session, clock, nw, tmp_path):
    residents = {k: session.get(type(r), r.id) for k, r in nw.world.residents.items()}
    outage, _ = notices.create(session, clock, nw.community_id, draft(expires_at=clock.now() + timedelta(hours=8)),
                               created_by=None, media_dir=tmp_path)
    tip, _ = notices.create(session, clock, nw.community_id,
                            draft(title="天冷", category="tip", audience={"community": True}),
                            created_by=None, media_dir=tmp_path)
    later, _ = notices.create(session, clock, nw.community_id, draft(scheduled_at=clock.now() + timedelta(hours=1)),
                              created_by=None, media_dir=tmp_path)
    for n in (outage, tip, later):
        n.status = "sent" if n is not later else "scheduled"
    session.flush()
    clock.advance(minutes=5)
    assert [n.id for n in notices.current_for(session, clock, residents["1"])] == [tip.id, outage.id]
    assert [n.id for n in notices.current_for(session, clock, residents["2"])] == [tip.id]
    assert [n.id for n in notices.current_for(session, clock, residents["1"], category="outage")] == [outage.id]
    clock.advance(hours=9)
    assert [n.id for n in notices.current_for(session, clock, residents["1"], category="outage")] == []


def test_mute_and_unmute(session, clock, nw):
    resident = session.get(type(nw.world.residents["1"]), nw.rid("1"))
    assert notices.mute(session, clock, resident, "event") is True
    assert notices.mute(session, clock, resident, "event") is False
    assert notices.muted(session, resident) == ["event"]
    with pytest.raises(Invalid) as caught:
        notices.mute(session, clock, resident, "safety")
    assert "不能关闭" in caught.value.text()
    assert notices.unmute(session, resident, "event") is True
    assert notices.unmute(session, resident, "event") is False
    assert notices.muted(session, resident) == []
