def test_a_host_header_outside_allowed_hosts_is_a_400_not_a_500(api, user):
    response = api.post(
        "/api/auth/login",
        {"email": user.email, "password": "correct horse battery"},
        HTTP_HOST="evil.example",
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
