"""The monthly shared-income disclosure: ledger import (CSV/XLSX, all or nothing), the text, the schedule."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook
from PIL import Image, ImageFont
from sqlalchemy import select

from backend.clock import FrozenClock
from backend.models import Notice, SharedIncomeLine
from backend.services import disclosure, table_image

CSV = "月份,项目,金额（元）,类型,备注\n2026-11,电梯广告,\"3,000.00\",收入,12部电梯\n2026-11,快递柜场地费,800,,\n" \
      "2026-11,代收代缴税费,380.50,支出,\n"


def _lines(session, community_id):
    return session.scalars(select(SharedIncomeLine).where(SharedIncomeLine.community_id == community_id)
                           .order_by(SharedIncomeLine.id)).all()


def test_import_csv_gbk_and_reimport_replaces_the_month(session, clock, nw, tmp_path):
    path = tmp_path / "ledger.csv"
    path.write_bytes(CSV.encode("gbk"))
    report = disclosure.import_ledger(session, nw.community_id, path, clock)
    assert report.ok and report.rows == 3, report.summary()
    lines = _lines(session, nw.community_id)
    assert [(x.period, x.item, x.kind, x.amount) for x in lines] == [
        ("2026-11", "电梯广告", "income", Decimal("3000.00")), ("2026-11", "快递柜场地费", "income", Decimal("800")),
        ("2026-11", "代收代缴税费", "expense", Decimal("380.50"))]
    path.write_text("月份,项目,金额\n2026年11月,电梯广告,3100\n", encoding="utf-8")
    assert disclosure.import_ledger(session, nw.community_id, path, clock).ok
    assert [(x.item, x.amount) for x in _lines(session, nw.community_id)] == [("电梯广告", Decimal("3100"))]


def test_import_xlsx(session, clock, nw, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["月份", "项目", "金额"])
    sheet.append([datetime(2026, 10, 1), "停车场地租金", 1500.5])
    path = tmp_path / "ledger.xlsx"
    book.save(path)
    report = disclosure.import_ledger(session, nw.community_id, path, clock)
    assert report.ok, report.summary()
    assert [(x.period, x.amount) for x in _lines(session, nw.community_id)] == [("2026-10", Decimal("1500.50"))]


@pytest.mark.parametrize(("content", "says"), [
    ("月份,项目\n2026-11,电梯广告\n", "missing column(s): amount"),
    ("月份,项目,金额\n2026-13,电梯广告,100\n", "line 2: bad month"),
    ("月份,项目,金额\n2026-11,电梯广告,-5\n", "line 2: bad amount"),
    ("月份,项目,金额\n2026-11,电梯广告,abc\n", "line 2: bad amount"),
    ("月份,项目,金额\n2026-11,电梯广告,1.005\n", "line 2: bad amount"),
    ("月份,项目,金额,类型\n2026-11,电梯广告,100,借贷\n", "line 2: bad type"),
    ("月份,项目,金额\n2026-11,,100\n", "line 2: missing item"),
    ("月份,项目,金额\n", "no ledger lines"),
    ("", "the file is empty"),
])
def test_bad_files_import_nothing(session, clock, nw, tmp_path, content, says):
    path = tmp_path / "ledger.csv"
    path.write_text(content, encoding="utf-8")
    report = disclosure.import_ledger(session, nw.community_id, path, clock)
    assert not report.ok and says in report.summary(), report.summary()
    assert _lines(session, nw.community_id) == []


def test_publish_once_with_the_table_as_text(session, clock, nw, tmp_path, settings):
    path = tmp_path / "ledger.csv"
    path.write_text(CSV, encoding="utf-8")
    disclosure.import_ledger(session, nw.community_id, path, clock)
    notice = disclosure.publish(session, clock, nw.community_id, "2026-11", media_dir=settings.media_dir)
    assert notice is not None
    assert (notice.title, notice.kind, notice.category, notice.status, notice.audience) == (
        "2026年11月公共收益公示", "disclosure", "fee", "scheduled", {"community": True, "groups": True})
    for text in ("· 电梯广告：3,000.00元（12部电梯）", "收入合计：3,800.00元", "支出合计：380.50元",
                 "本月公共收益净额：3,419.50元"):
        assert text in notice.body
    assert disclosure.publish(session, clock, nw.community_id, "2026-11", media_dir=settings.media_dir) is None
    assert disclosure.publish(session, clock, nw.community_id, "2026-09", media_dir=settings.media_dir) is None


def test_the_worker_publishes_last_month_from_the_configured_day(session_factory, nw, tmp_path, settings):
    path = tmp_path / "ledger.csv"
    path.write_text(CSV, encoding="utf-8")
    clock = FrozenClock(datetime(2026, 12, 3, 2, 0))  # 10:00 on the 3rd in Shanghai
    with session_factory() as s:
        assert disclosure.import_ledger(s, nw.community_id, path, clock).ok
        s.commit()
    settings.disclosure_day = 5
    assert disclosure.publish_due(session_factory, clock, settings) == 0
    clock.set(datetime(2026, 12, 4, 16, 30))  # 00:30 on the 5th in Shanghai
    assert disclosure.publish_due(session_factory, clock, settings) == 1
    assert disclosure.publish_due(session_factory, clock, settings) == 0  # once a month
    settings.disclosure_day = 0
    clock.set(datetime(2027, 1, 10))
    assert disclosure.publish_due(session_factory, clock, settings) == 0
    with session_factory() as s:
        assert s.scalars(select(Notice.title)).all() == ["2026年11月公共收益公示"]


@pytest.mark.parametrize(("text", "period"), [("2026-11", "2026-11"), ("2026/1", "2026-01"), ("2026年11月", "2026-11"),
                                              ("2026-11-01 00:00:00", "2026-11")])
def test_periods(text, period):
    assert disclosure.parse_period(text) == period


needs_font = pytest.mark.skipif(table_image.cjk_font() is None,
                                reason="no CJK font (scripts/test installs fonts-wqy-microhei)")


@needs_font
def test_the_disclosure_carries_the_table_as_a_png(session, clock, nw, tmp_path, settings):
    path = tmp_path / "ledger.csv"
    path.write_text(CSV, encoding="utf-8")
    disclosure.import_ledger(session, nw.community_id, path, clock)
    notice = disclosure.publish(session, clock, nw.community_id, "2026-11", media_dir=settings.media_dir)
    assert notice is not None and notice.image_path.endswith(".png")
    image = Image.open(settings.media_dir / notice.image_path)
    # title, header band, 2 income lines, total, expense band, 1 line, total, net: 9 rows
    assert image.format == "PNG" and image.width == table_image.WIDTH
    assert image.height >= table_image.PADDING * 2 + table_image.ROW_HEIGHT * 9
    title_strip = image.crop((0, table_image.PADDING, image.width, table_image.PADDING + table_image.TITLE_SIZE))
    assert title_strip.convert("L").getextrema()[0] < 100  # the title is drawn, in dark ink


@needs_font
def test_the_font_draws_chinese_not_empty_boxes():
    font = ImageFont.truetype(str(table_image.cjk_font()), 22)
    drawn = {char: font.getmask(char).getbbox() for char in ("收", "益", "\U0010fffd")}
    assert drawn["收"] and drawn["益"] and drawn["收"] != drawn["\U0010fffd"]
    assert bytes(font.getmask("收")) != bytes(font.getmask("益"))


def test_without_a_cjk_font_the_text_goes_alone(session, clock, nw, tmp_path, settings, monkeypatch):
    monkeypatch.setattr(table_image, "cjk_font", lambda: None)
    path = tmp_path / "ledger.csv"
    path.write_text(CSV, encoding="utf-8")
    disclosure.import_ledger(session, nw.community_id, path, clock)
    notice = disclosure.publish(session, clock, nw.community_id, "2026-11", media_dir=settings.media_dir)
    assert notice is not None and notice.image_path == "" and "收入合计" in notice.body
