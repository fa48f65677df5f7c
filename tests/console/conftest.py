"""The console against the real app: the two-community world of tests/api, every staff member with a password."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from backend.domain import Department, Role
from backend.models import Staff
from backend.services.console_auth import hash_password
from tests.api.conftest import World, app, world  # noqa: F401  (fixtures)

PASSWORD = "correct-horse-9"
_HASH = hash_password(PASSWORD)  # once: scrypt is slow on purpose
# Besides tests/api's staff (manager, eng_lead, tech, tech2, cs): a guard, the customer-service lead, an admin.
EXTRA = {"guard": ("门岗小刘", Role.AGENT, Department.SECURITY),
         "cs_lead": ("客服主管", Role.SUPERVISOR, Department.CUSTOMER_SERVICE),
         "admin": ("公司管理员", Role.ADMIN, Department.MANAGEMENT)}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def people(world, session_factory, clock) -> World:  # noqa: F811
    """Everyone in community a (and b) can sign in with PASSWORD; a has a guard, a cs lead and a company admin."""
    with session_factory() as session, session.begin():
        for place in (world.a, world.b):
            for staff in place.staff.values():
                session.get(Staff, staff.id).password_hash = _HASH  # type: ignore[union-attr]
        for key, (name, role, dept) in EXTRA.items():
            staff = Staff(community_id=world.a.community.id, login=f"a-{key}", name=name, role=role, department=dept,
                          created_at=clock.now(), password_hash=_HASH)
            session.add(staff)
            session.flush()
            world.a.staff[key] = staff
    return world


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, html[:500]
    return found.group(1)


def sign_in(client: TestClient, login: str, password: str = PASSWORD, community: str = "a"):  # type: ignore[no-untyped-def]
    page = client.get("/console/login")
    return client.post("/console/login", data={"login": login, "password": password, "csrf": csrf_of(page.text),
                                               "community": community}, follow_redirects=False)


@pytest.fixture
def console(app, people) -> Iterator[TestClient]:  # noqa: F811
    """A browser-like client signed in as community a's manager."""
    with TestClient(app, base_url="http://testserver") as c:
        assert sign_in(c, "a-manager").status_code == 303
        yield c
