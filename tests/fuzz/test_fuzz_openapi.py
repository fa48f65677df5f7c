"""schemathesis against the app's /openapi.json: every operation, a few generated requests each, authenticated
with the admin token, and no answer is a 5xx.

schemathesis's own pytest plugin (parametrize / from_fixture) fails under pytest 9 ('Function' object has no
attribute '_nodeid'), so the operations are walked here with its Python API and hypothesis directly."""

from __future__ import annotations

import pytest
from hypothesis import given

from tests.fuzz.conftest import bounded

schemathesis = pytest.importorskip("schemathesis")  # the [test] extra; absent in a bare install
from schemathesis.checks import not_a_server_error  # noqa: E402

pytestmark = pytest.mark.filterwarnings("error")
OPENAPI_EXAMPLES = 3  # per operation (~50 operations)


def test_no_operation_answers_5xx(app, fuzz_settings):
    """Each operation's requests are generated from its schema (valid and edge values); none may answer 5xx."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {fuzz_settings.admin_token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30  # the REST API, the web chat, the webhooks, /model/parse

    statuses: list[int] = []
    for operation in operations:
        @bounded(examples=OPENAPI_EXAMPLES)
        @given(case=operation.as_strategy())
        def call(case) -> None:
            statuses.append(case.call_and_validate(headers=headers, checks=[not_a_server_error]).status_code)

        call()
    assert len(statuses) >= 2 * len(operations)
    assert sum(200 <= s < 300 for s in statuses) >= 10  # the token works: not everything refused
