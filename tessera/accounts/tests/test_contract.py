"""Bad input on /api/auth/: every reply is a documented 4xx in the envelope, nothing is
half-written, and the OpenAPI document lists every path with the login's two shapes."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.accounts.models import AuthSession, User, VerificationCode
from tessera.accounts.tests.hashers import CountingMD5PasswordHasher

pytestmark = pytest.mark.django_db

ISSUE_PATHS = {
    "/api/auth/signup": "post",
    "/api/auth/verify-otp": "post",
    "/api/auth/login": "post",
    "/api/auth/verify-login": "post",
    "/api/auth/complete-profile": "post",
    "/api/auth/event-interests": "get",
    "/api/auth/register": "post",
    "/api/auth/verify-email": "post",
    "/api/auth/password/forgot": "post",
    "/api/auth/password/reset": "post",
    "/api/auth/password/change": "post",
    "/api/auth/refresh": "post",
    "/api/auth/logout": "post",
    "/api/auth/logout-all": "post",
    "/api/auth/sessions": "get",
    "/api/auth/sessions/{session_id}": "delete",
    "/api/auth/me": "get",
    "/api/auth/me/export": "post",
    "/api/auth/oauth/{provider}/authorize": "get",
    "/api/auth/oauth/{provider}/callback": "post",
    "/api/auth/oauth/{provider}/token": "post",
    "/api/auth/me/email": "post",
    "/api/auth/me/email/confirm": "post",
    "/api/auth/me/phone": "post",
    "/api/auth/me/phone/confirm": "post",
    "/api/auth/me/delete/code": "post",
}


def test_every_auth_path_is_in_the_openapi_document(api: Any) -> None:
    paths = api.get("/api/openapi.json").json()["paths"]

    for path, method in ISSUE_PATHS.items():
        assert method in paths.get(path, {}), path
    assert {"get", "patch", "delete"} <= set(paths["/api/auth/me"])


def test_operation_ids_do_not_depend_on_the_module_a_route_lives_in(api: Any) -> None:
    paths = api.get("/api/openapi.json").json()["paths"]

    ids = {
        f"{method} {path}": operation["operationId"]
        for path, item in paths.items()
        if path.startswith("/api/auth/")
        for method, operation in item.items()
    }
    assert ids["post /api/auth/signup"] == "tessera_accounts_api_signup"
    assert ids["post /api/auth/register"] == "tessera_accounts_api_register"
    assert (
        ids["get /api/auth/oauth/{provider}/authorize"] == "tessera_accounts_api_social_authorize"
    )
    assert ids["delete /api/auth/sessions/{session_id}"] == "tessera_accounts_api_session_delete"
    assert ids["get /api/auth/me"] == "tessera_accounts_api_me"
    assert ids["delete /api/auth/me"] == "tessera_accounts_api_me_delete"
    assert ids["post /api/auth/me/email/confirm"] == "tessera_accounts_api_me_email_confirm"
    assert all(value.startswith("tessera_accounts_api_") for value in ids.values())
    assert len(set(ids.values())) == len(ids) == 29


def test_login_documents_both_bodies_and_both_replies(api: Any) -> None:
    document = api.get("/api/openapi.json").json()
    login = document["paths"]["/api/auth/login"]["post"]
    schemas = document["components"]["schemas"]

    body = login["requestBody"]["content"]["application/json"]["schema"]
    assert sorted(ref["$ref"].rsplit("/", 1)[1] for ref in body["oneOf"]) == [
        "PasswordLoginIn",
        "PhoneIn",
    ]
    assert schemas["PasswordLoginIn"]["required"] == ["email", "password"]
    assert schemas["PhoneIn"]["required"] == ["phoneNumber"]
    data = login["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["data"]
    assert sorted(ref["$ref"].rsplit("/", 1)[1] for ref in data["anyOf"]) == [
        "CodeSentOut",
        "TokenPairOut",
    ]
    assert "429" in login["responses"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": "ada@example.com"},
        {"password": "x"},
        {"phoneNumber": "+27821234567", "password": "x"},
        {"phoneNumber": "+27821234567", "unexpected": True},
        {"email": "ada@example.com", "password": ""},
        {"email": "e" * 300, "password": "x"},
        {"email": "ada@example.com", "password": "p" * 257},
        {"email": ["ada@example.com"], "password": "x"},
    ],
)
def test_login_refuses_other_shapes(api: Any, user: Any, body: dict[str, Any]) -> None:
    response = api.post("/api/auth/login", body)

    assert response.status_code == 422
    assert response.json()["status"] == "error"
    # A field the chosen body does not take is named as unknown; other faults are invalid.
    expected = "unknown_field" if "phoneNumber" in body and len(body) > 1 else "validation_error"
    assert response.json()["error"]["code"] == expected
    assert not AuthSession.objects.exists()
    assert not VerificationCode.objects.exists()


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/auth/signup", {}, "phoneNumber"),
        ("/api/auth/signup", {"phoneNumber": "+2" + "7" * 40}, "phoneNumber"),
        ("/api/auth/verify-otp", {"phoneNumber": "+27821234567"}, "otpCode"),
        ("/api/auth/verify-otp", {"phoneNumber": "+27821234567", "otpCode": "1" * 13}, "otpCode"),
        ("/api/auth/refresh", {}, "refreshToken"),
        ("/api/auth/refresh", {"refreshToken": "r" * 201}, "refreshToken"),
        ("/api/auth/password/reset", {"token": "t"}, "newPassword"),
        ("/api/auth/register", {"email": "a@example.com", "password": "long enough pass"}, "name"),
        ("/api/auth/oauth/github/token", {"accessToken": "a" * 4097}, "accessToken"),
    ],
)
def test_missing_and_oversized_fields_are_422_naming_the_field(
    api: Any, path: str, body: dict[str, Any], field: str
) -> None:
    response = api.post(path, body)

    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]
    assert not User.objects.exists()
    assert not VerificationCode.objects.exists()


def test_an_oversized_body_is_a_413(api: Any) -> None:
    response = api.post(
        "/api/auth/register",
        {"email": "a@example.com", "password": "p" * 2_000_000, "name": "A"},
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert not User.objects.exists()


def test_malformed_json_is_a_400(api: Any) -> None:
    response = api.post("/api/auth/login", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"


def test_unknown_provider_is_a_422(api: Any) -> None:
    response = api.post("/api/auth/oauth/facebook/token", {"accessToken": "x"})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_path_parameter"


def test_registering_a_taken_email_costs_one_hash_like_a_new_one(
    api: Any, user: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.PASSWORD_HASHERS = ["tessera.accounts.tests.hashers.CountingMD5PasswordHasher"]
    calls = CountingMD5PasswordHasher.calls
    body = {"password": "a long enough pass 7", "name": "Someone"}

    calls.clear()
    with django_capture_on_commit_callbacks(execute=True):
        fresh = api.post("/api/auth/register", {**body, "email": "new@example.com"})
    fresh_calls = list(calls)
    calls.clear()
    with django_capture_on_commit_callbacks(execute=True):
        taken = api.post("/api/auth/register", {**body, "email": "ada@example.com"})
    taken_calls = list(calls)

    assert fresh.status_code == taken.status_code == 202
    assert fresh_calls == taken_calls == ["encode"]


def test_a_failed_login_costs_one_hash_whether_or_not_the_account_exists(
    api: Any, user: Any, settings: Any
) -> None:
    settings.PASSWORD_HASHERS = ["tessera.accounts.tests.hashers.CountingMD5PasswordHasher"]
    User.objects.filter(pk=user.pk).update(password="md5$salt$" + "0" * 32)
    calls = CountingMD5PasswordHasher.calls

    calls.clear()
    api.post("/api/auth/login", {"email": "ada@example.com", "password": "wrong"})
    known = list(calls)
    calls.clear()
    api.post("/api/auth/login", {"email": "nobody@example.com", "password": "wrong"})
    unknown = list(calls)

    assert known == unknown == ["encode"]
