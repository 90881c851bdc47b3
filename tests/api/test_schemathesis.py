"""Schemathesis fuzzes every operation of /api/schema/ in-process; no answer may be a 5xx.

The schema is loaded from the WSGI app and each operation gets a bounded
number of generated requests (positive and negative), sent with an admin's
token so the handlers run rather than stopping at 401. Some rows exist so
detail URLs can hit real objects. Bounded to finish well inside two minutes.
"""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode

from opcms.wsgi import application

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 25


@pytest.fixture
def keep_test_connection():
    """Calling the WSGI app directly fires request_finished, whose close_old_connections would
    drop PostgreSQL's connection mid-test (autocommit is off inside the test transaction).
    Django's test client disconnects it the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_no_operation_answers_with_a_server_error(
    admin_user, world, settings, keep_test_connection
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "1000000/minute", "anon": "1000000/minute"},
    }
    headers = {"Authorization": f"Bearer {RefreshToken.for_user(admin_user).access_token}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application, headers=headers)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    failures = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode, headers)
            except Exception as exc:  # collect all, report together
                failures.append(
                    f"{operation.method.upper()} {operation.path} [{mode.value}]: {exc}"
                )

    assert not failures, "\n\n".join(failures)


def _fuzz(operation, mode, headers):
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        response = case.call(headers=headers)
        case.validate_response(response, checks=[not_a_server_error])

    run()
