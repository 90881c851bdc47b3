"""The one error format {"code", "message", "fields"} across failures, throttling and limits."""

import pytest

pytestmark = pytest.mark.django_db


def test_validation_errors_name_the_fields_in_chinese(client_for, ops_user):
    response = client_for(ops_user).post("/api/customers/create/", {"name": ""}, format="json")

    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "invalid"
    assert body["message"] == "提交的数据有误，请检查各字段"
    assert set(body["fields"]) == {"company_id", "name"}
    assert body["fields"]["company_id"] == ["该字段是必填项。"]


def test_malformed_json_is_a_parse_error(client_for, ops_user):
    response = client_for(ops_user).post(
        "/api/customers/create/", data="{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "parse_error",
        "message": "请求体不是有效的 JSON",
        "fields": {},
    }


def test_non_json_bodies_are_refused(client_for, ops_user):
    response = client_for(ops_user).post(
        "/api/customers/create/", data="a=1", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_wrong_method_answers_405_in_the_format(client_for, ops_user):
    response = client_for(ops_user).delete("/api/customers/")

    assert response.status_code == 405
    assert response.json()["message"] == "不支持该请求方法"


def test_unknown_api_urls_answer_json_404(client_for, ops_user):
    response = client_for(ops_user).get("/api/nothing-here/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_bodies_over_the_limit_are_refused_with_413(client_for, ops_user, settings):
    settings.OPCMS_API_MAX_BODY_BYTES = 1024 * 1024
    body = {"records": [{"company_id": 1, "source_ref": "x" * 1000}] * 1100}

    response = client_for(ops_user).post("/api/usage/ingest/", body, format="json")

    assert response.status_code == 413
    assert response.json() == {
        "code": "payload_too_large",
        "message": "请求体过大：上限为 1 MB，请分批提交",
        "fields": {},
    }


def test_the_default_body_limit_is_10_mb(settings):
    assert settings.OPCMS_API_MAX_BODY_BYTES == 10 * 1024 * 1024


def test_a_lying_content_length_cannot_slip_past_the_limit(ops_user, settings):
    from io import BytesIO

    from rest_framework.exceptions import APIException

    from accounts.api.parsers import LimitedJSONParser

    settings.OPCMS_API_MAX_BODY_BYTES = 10

    class Request:
        META = {"CONTENT_LENGTH": "5"}

    with pytest.raises(APIException) as raised:
        LimitedJSONParser().parse(BytesIO(b'{"a": "0123456789"}'), None, {"request": Request()})

    assert raised.value.status_code == 413


def test_throttling_is_per_user_and_answers_429(client_for, ops_user, sales_user, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "3/minute", "anon": "3/minute"},
    }
    ops = client_for(ops_user)
    statuses = [ops.get("/api/jobs/").status_code for _ in range(4)]

    throttled = ops.get("/api/jobs/")
    other_user = client_for(sales_user).get("/api/jobs/")

    assert statuses == [200, 200, 200, 429]
    assert throttled.json()["code"] == "throttled"
    assert throttled.json()["message"].startswith("请求过于频繁，请在")
    assert "Retry-After" in throttled.headers
    assert other_user.status_code == 200


def test_unexpected_errors_answer_500_in_the_format(client_for, ops_user, monkeypatch):
    from customers.api import views

    def boom(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(views, "customer_create", boom)

    response = client_for(ops_user).post(
        "/api/customers/create/", {"company_id": 5, "name": "甲"}, format="json"
    )

    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    assert "bug" not in response.content.decode()


def test_a_services_non_field_error_is_reported_as_non_field_errors(
    client_for, ops_user, monkeypatch
):
    from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

    from customers.api import views

    def refuse(**kwargs):
        raise ValidationError({NON_FIELD_ERRORS: ["该客户已停用，不能修改"]})

    monkeypatch.setattr(views, "customer_create", refuse)

    response = client_for(ops_user).post(
        "/api/customers/create/", {"company_id": 7, "name": "甲"}, format="json"
    )

    assert response.json()["fields"] == {"non_field_errors": ["该客户已停用，不能修改"]}
