"""Every route, driven by schemathesis from /api/openapi.json through the real WSGI stack:
no 500s, every reply matches its documented schema, status code and content type."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tessera.accounts.tokens import access_token_issue

pytestmark = pytest.mark.slow


schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())


@pytest.fixture(autouse=True)
def _no_rate_limit(settings: Any) -> None:
    # The limit would turn a long generated run into 429s; rate limits have their own tests.
    settings.RATE_LIMIT_ENABLED = False


@pytest.fixture(autouse=True)
def _keep_test_connection() -> Iterator[None]:
    # Like Django's test client: a request must not close the connection that holds the
    # test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@hypothesis_settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_every_route_honours_its_schema(case: Any, user: Any, db: Any) -> None:
    token = access_token_issue(user=user)
    # Not `negative_data_rejection`: inputs are parsed in pydantic's lax mode on purpose
    # ("5" for 5 in a query string, 0/1 for booleans), which that check counts as a failure.
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
            response_headers_conformance,
        ],
    )
