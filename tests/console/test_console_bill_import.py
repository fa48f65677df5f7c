"""Bills through the console's import page: an error first (line-numbered, nothing written), then a good file.

Runs once the events work's billing service (backend/services/billing.py) is merged; skipped before.
"""

from __future__ import annotations

import pytest

from backend.models import Bill
from tests.console.conftest import csrf_of

pytest.importorskip("backend.services.billing")


def _upload(console, name: str, data: bytes, kind: str):  # type: ignore[no-untyped-def]
    csrf = csrf_of(console.get("/console/imports").text)
    return console.post("/console/imports/preview", data={"csrf": csrf, "kind": kind}, files={"file": (name, data)})


def test_bill_file_with_an_error_then_a_good_one(console, people, session_factory):
    head = "楼栋,单元,房号,费用类型,账期,金额\n"
    bad = (head + "3,2,1502,物业费,2026-11,275.80\n3,2,1502,物业费,2026-12,abc\n").encode()
    r = _upload(console, "bills.csv", bad, "bills")
    assert r.status_code == 422 and 'data-line="3"' in r.text
    good = bad.replace(b"abc", b"275.80")
    r = _upload(console, "bills.csv", good, "bills")
    assert r.status_code == 200 and 'id="confirm"' in r.text, r.text[-3000:]
    with session_factory() as session:
        assert session.query(Bill).count() == 0  # the preview wrote nothing
    token = r.text.split('name="token" value="')[1].split('"')[0]
    done = console.post("/console/imports/confirm", data={"csrf": csrf_of(r.text), "kind": "bills", "token": token,
                                                          "suffix": ".csv"})
    assert done.status_code == 200 and "已导入" in done.text
    with session_factory() as session:
        assert session.query(Bill).filter_by(household_id=people.a.household.id).count() == 2
