"""Every route, driven by schemathesis from /api/openapi.json through the real WSGI stack:
no 500s, every reply matches its documented schema, status code and content type.

Two runs: each operation alone (`test_every_route_honours_its_schema`), and sequences that
follow the schema's OpenAPI links from what a POST created to the operations on it
(`test_sequences_along_the_links_honour_the_schema`, schemathesis' stateful testing), with
its checks that a created resource can be read and a deleted one cannot. Both are marked
slow; `SCHEMATHESIS_SCENARIOS` sets how many linked sequences the second one runs.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)

from tessera.accounts.tokens import access_token_issue

pytestmark = pytest.mark.slow


schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())

# Not `negative_data_rejection`: inputs are parsed in pydantic's lax mode on purpose ("5" for 5
# in a query string, 0/1 for booleans), which that check counts as a failure.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Linked sequences per run (about 0.5 s each on this machine); raise it for a longer hunt.
SCENARIOS = int(os.environ.get("SCHEMATHESIS_SCENARIOS", "100"))

# The sequences send valid requests only, so that creations succeed and their links are
# followed; invalid input to every operation is the first test's job.
linked_schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())
linked_schema.config.generation.update(modes=[GenerationMode.POSITIVE])


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
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)


class LinkedSequences(linked_schema.as_state_machine()):  # type: ignore[misc]
    """Schemathesis' state machine over the schema's links, each sequence signed in as a
    user of its own (one may delete its account or end its sessions), counting what it did
    (operations called, links followed, replies by status)."""

    token: str = ""
    users: ClassVar[int] = 0
    calls: ClassVar[Counter[str]] = Counter()
    statuses: ClassVar[Counter[int]] = Counter()
    links: ClassVar[Counter[str]] = Counter()

    def step(self, input: Any) -> Any:
        output = super().step(input)
        if input.transition is not None and input.applied_parameters:
            type(self).links[input.transition.id] += 1
        return output

    def setup(self) -> None:
        from tessera.accounts.models import User

        type(self).users += 1
        user = User.objects.create_user(
            email=f"sequence-{type(self).users}@example.com", password="correct horse battery"
        )
        self.token = access_token_issue(user=user)

    def get_call_kwargs(self, case: Any) -> dict[str, Any]:
        return {"headers": {"Authorization": f"Bearer {self.token}"}}

    def after_call(self, response: Any, case: Any) -> None:
        super().after_call(response, case)
        type(self).calls[case.operation.label] += 1
        type(self).statuses[response.status_code] += 1

    def validate_response(
        self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
    ) -> None:
        case.validate_response(
            response,
            checks=[*CHECKS, ensure_resource_availability, use_after_free],
            transport_kwargs=kwargs or None,
            recorder=self.recorder,
        )


def test_sequences_along_the_links_honour_the_schema(db: Any) -> None:
    LinkedSequences.calls.clear()
    LinkedSequences.statuses.clear()
    LinkedSequences.links.clear()
    started = time.monotonic()

    LinkedSequences.run(
        settings=hypothesis_settings(
            max_examples=SCENARIOS,
            stateful_step_count=6,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )

    elapsed = time.monotonic() - started
    calls, links = LinkedSequences.calls, LinkedSequences.links
    print(  # noqa: T201 - the run's figures, for the report (pytest -s)
        f"\nstateful: {SCENARIOS} scenarios, {sum(calls.values())} calls over {len(calls)} "
        f"operations in {elapsed:.0f} s; {sum(links.values())} along {len(links)} links; "
        f"statuses {dict(sorted(LinkedSequences.statuses.items()))}"
    )
    # The links were followed: something was created and then used through them.
    assert sum(links.values()) > 0
    assert LinkedSequences.statuses[201] > 0
    assert 500 not in LinkedSequences.statuses
