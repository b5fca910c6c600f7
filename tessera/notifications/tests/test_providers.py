"""SMS and email providers, the Twilio and SendGrid adapters over locally served HTTP."""

from __future__ import annotations

import base64
import io
import json
import socket
from typing import Any
from urllib.parse import parse_qs

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from tessera.notifications import services, sms
from tessera.notifications.errors import PermanentDeliveryError, TransientDeliveryError
from tessera.notifications.mail import email_send
from tessera.notifications.models import Delivery
from tessera.notifications.sms import (
    ConsoleSmsProvider,
    FileSmsProvider,
    MemorySmsProvider,
    SmsProvider,
    TwilioSmsProvider,
    sms_provider_get,
    sms_provider_register,
)
from tessera.notifications.tasks import send_delivery
from tessera.notifications.tests.localserver import (
    LocalServer,
    Reply,
    local_server,
    local_smtp_server,
)

# anymail 15 warns that it no longer officially supports SendGrid; the adapter still works
# and these tests pin the request it sends.
pytestmark = pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning")

ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "twilio-auth-token"
FROM_NUMBER = "+15005550006"
MESSAGE_SID = "SM0123456789abcdef0123456789abcdef"
SENDGRID_KEY = "SG.test-key"


def twilio_reply(status: int = 201, **overrides: Any) -> Reply:
    body = {
        "account_sid": ACCOUNT_SID,
        "api_version": "2010-04-01",
        "body": "Your code is 123456.",
        "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": FROM_NUMBER,
        "num_segments": "1",
        "price": None,
        "sid": MESSAGE_SID,
        "status": "queued",
        "to": "+27821234567",
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{MESSAGE_SID}.json",
    }
    body.update(overrides)
    return Reply(status, json.dumps(body).encode())


def twilio_error(status: int, code: int, message: str) -> Reply:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return Reply(status, json.dumps(body).encode())


def twilio_settings(server: LocalServer) -> Any:
    return override_settings(
        SMS_BACKEND="twilio",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_FROM_NUMBER=FROM_NUMBER,
        TWILIO_API_BASE=server.base_url,
    )


def sendgrid_settings(server: LocalServer) -> Any:
    return override_settings(
        EMAIL_BACKEND="anymail.backends.sendgrid.EmailBackend",
        ANYMAIL={"SENDGRID_API_KEY": SENDGRID_KEY, "SENDGRID_API_URL": f"{server.base_url}/v3/"},
    )


def assert_twilio_request(server: LocalServer, *, to: str, body: str) -> None:
    """The request exactly as Twilio's Messages API receives it."""
    for request in server.requests:
        assert request.method == "POST"
        assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
        credentials = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        assert request.headers["authorization"] == f"Basic {credentials}"
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        assert parse_qs(request.body.decode(), strict_parsing=True) == {
            "To": [to],
            "From": [FROM_NUMBER],
            "Body": [body],
        }


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- registry and local providers -------------------------------------------------------------


def test_the_configured_provider_is_chosen_by_name() -> None:
    assert isinstance(sms_provider_get(), MemorySmsProvider)
    assert isinstance(sms_provider_get("console"), ConsoleSmsProvider)
    with override_settings(SMS_BACKEND="file"):
        assert isinstance(sms_provider_get(), FileSmsProvider)


def test_an_unknown_provider_name_is_a_configuration_error() -> None:
    with pytest.raises(ImproperlyConfigured) as caught:
        sms_provider_get("pigeon")

    assert str(caught.value) == (
        "Unknown SMS_BACKEND 'pigeon'; choose one of console, file, memory, twilio."
    )


def test_a_registered_provider_becomes_selectable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sms, "_registry", dict(sms._registry))

    @sms_provider_register
    class LoudProvider(SmsProvider):
        name = "loud"

        def send(self, *, to: str, body: str) -> str:
            return f"{to}:{body.upper()}"

    with override_settings(SMS_BACKEND="loud"):
        assert sms_provider_get().send(to="+27821234567", body="hi") == "+27821234567:HI"
    assert sms.sms_provider_names() == ["console", "file", "loud", "memory", "twilio"]


def test_console_provider_writes_the_message() -> None:
    stream = io.StringIO()

    message_id = ConsoleSmsProvider(stream=stream).send(to="+27821234567", body="Code 1")

    assert message_id.startswith("console-")
    assert stream.getvalue() == f"SMS to +27821234567 [{message_id}]\nCode 1\n{'-' * 72}\n"


def test_file_provider_appends_json_lines(tmp_path: Any) -> None:
    target = tmp_path / "outbox" / "sms.log"

    with override_settings(SMS_FILE_PATH=str(target)):
        first = FileSmsProvider().send(to="+27821234567", body="Code 1")
        second = FileSmsProvider().send(to="+966501234567", body="رمز ٢")

    lines = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [(line["id"], line["to"], line["body"]) for line in lines] == [
        (first, "+27821234567", "Code 1"),
        (second, "+966501234567", "رمز ٢"),
    ]
    assert all(line["sent_at"].endswith("+00:00") for line in lines)


def test_file_provider_writes_into_a_directory(tmp_path: Any) -> None:
    FileSmsProvider(path=tmp_path).send(to="+27821234567", body="Code 1")

    assert json.loads((tmp_path / "sms.jsonl").read_text())["body"] == "Code 1"


def test_memory_provider_keeps_an_outbox(sms_outbox: list[Any]) -> None:
    assert MemorySmsProvider().send(to="+27821234567", body="one") == "memory-1"
    assert MemorySmsProvider().send(to="+27821234568", body="two") == "memory-2"

    assert [(m.message_id, m.to, m.body) for m in sms_outbox] == [
        ("memory-1", "+27821234567", "one"),
        ("memory-2", "+27821234568", "two"),
    ]


# --- Twilio -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_twilio_sends_the_request_twilio_expects(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with (
        local_server([twilio_reply()]) as server,
        twilio_settings(server),
        django_capture_on_commit_callbacks(execute=True),
    ):
        delivery = services.send_sms(to="+27821234567", body="Your code is 123456.")

    assert delivery is not None
    assert len(server.requests) == 1
    assert_twilio_request(server, to="+27821234567", body="Your code is 123456.")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.provider_message_id, delivery.attempts) == (
        "sent",
        MESSAGE_SID,
        1,
    )


@pytest.mark.django_db
def test_twilio_400_fails_the_delivery_without_retrying(
    django_capture_on_commit_callbacks: Any,
) -> None:
    refusal = twilio_error(400, 21211, "The 'To' number +15005550001 is not a valid phone number.")
    with (
        local_server([refusal, twilio_reply()]) as server,
        twilio_settings(server),
        django_capture_on_commit_callbacks(execute=True),
    ):
        delivery = services.send_sms(to="+15005550001", body="Hi")

    assert delivery is not None
    assert len(server.requests) == 1
    assert_twilio_request(server, to="+15005550001", body="Hi")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.sent_at) == ("failed", 1, None)
    assert delivery.last_error == (
        "Twilio refused the message (400): The 'To' number +15005550001 is not a valid phone "
        "number. (code 21211)"
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("eager_retries")
def test_twilio_503_is_retried_until_it_goes_through(
    django_capture_on_commit_callbacks: Any,
) -> None:
    unavailable = twilio_error(503, 20503, "Service Unavailable")
    with (
        local_server([unavailable, unavailable, twilio_reply()]) as server,
        twilio_settings(server),
        django_capture_on_commit_callbacks(execute=True),
    ):
        delivery = services.send_sms(to="+27821234567", body="Your code is 123456.")

    assert delivery is not None
    assert len(server.requests) == 3
    assert_twilio_request(server, to="+27821234567", body="Your code is 123456.")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 3, "")
    assert delivery.provider_message_id == MESSAGE_SID


@pytest.mark.django_db
@pytest.mark.usefixtures("eager_retries")
def test_twilio_503_fails_the_delivery_once_retries_run_out(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with (
        local_server([twilio_error(503, 20503, "Service Unavailable")]) as server,
        twilio_settings(server),
        django_capture_on_commit_callbacks(execute=True),
    ):
        delivery = services.send_sms(to="+27821234567", body="Hi")

    assert delivery is not None
    attempts = send_delivery.max_retries + 1
    assert len(server.requests) == attempts
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", attempts)
    assert delivery.last_error == "Twilio answered 503: Service Unavailable (code 20503)"


def test_twilio_rate_limit_and_network_errors_are_transient() -> None:
    with local_server([twilio_error(429, 20429, "Too Many Requests")]) as server:
        provider = TwilioSmsProvider(
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            from_number=FROM_NUMBER,
            api_base=server.base_url,
        )
        with pytest.raises(TransientDeliveryError) as limited:
            provider.send(to="+27821234567", body="Hi")
    assert str(limited.value) == "Twilio answered 429: Too Many Requests (code 20429)"

    offline = TwilioSmsProvider(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number=FROM_NUMBER,
        api_base=f"http://127.0.0.1:{closed_port()}",
    )
    with pytest.raises(TransientDeliveryError) as unreachable:
        offline.send(to="+27821234567", body="Hi")
    assert str(unreachable.value).startswith("Twilio could not be reached: ConnectError(")


def test_twilio_needs_its_settings() -> None:
    with (
        override_settings(TWILIO_ACCOUNT_SID="", TWILIO_AUTH_TOKEN="", TWILIO_FROM_NUMBER=""),
        pytest.raises(ImproperlyConfigured) as caught,
    ):
        TwilioSmsProvider()

    assert str(caught.value) == (
        "Twilio SMS needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER."
    )


def test_twilio_reply_without_a_sid_counts_as_sent() -> None:
    with local_server([Reply(201, b"not json")]) as server:
        provider = TwilioSmsProvider(
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            from_number=FROM_NUMBER,
            api_base=server.base_url,
        )
        assert provider.send(to="+27821234567", body="Hi") == ""


# --- SendGrid through anymail --------------------------------------------------------------------


@pytest.mark.django_db
def test_sendgrid_receives_the_v3_mail_send_request(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with (
        local_server([Reply(202)]) as server,
        sendgrid_settings(server),
        django_capture_on_commit_callbacks(execute=True),
    ):
        deliveries = services.notify(
            user=user, kind="account.welcome", channels=["email"], context={"name": "Ada"}
        ).deliveries

    assert len(server.requests) == 1
    request = server.requests[0]
    assert (request.method, request.path) == ("POST", "/v3/mail/send")
    assert request.headers["authorization"] == f"Bearer {SENDGRID_KEY}"
    assert request.headers["content-type"] == "application/json"
    payload = json.loads(request.body)
    message_id = payload["personalizations"][0]["custom_args"]["anymail_id"]
    assert payload == {
        "personalizations": [
            {"to": [{"email": "ada@example.com"}], "custom_args": {"anymail_id": message_id}}
        ],
        "from": {"email": "no-reply@tessera.local", "name": "Tessera"},
        "subject": "Welcome to Tessera, Ada",
        "content": [
            {
                "type": "text/plain",
                "value": (
                    "Hello Ada,\n\n"
                    "Your Tessera account is ready. Complete your profile to get the most out of "
                    "it.\n\n"
                    "If you did not create this account, reply to this email and we will look "
                    "into it.\n\n"
                    "The Tessera team"
                ),
            }
        ],
    }
    delivery = Delivery.objects.get(pk=deliveries[0].pk)
    assert (delivery.status, delivery.provider_message_id) == ("sent", message_id)


@pytest.mark.django_db
@pytest.mark.usefixtures("eager_retries")
def test_sendgrid_5xx_is_retried(django_capture_on_commit_callbacks: Any) -> None:
    with (
        local_server([Reply(500, b'{"errors":[{"message":"busy"}]}'), Reply(202)]) as server,
        sendgrid_settings(server),
        django_capture_on_commit_callbacks(execute=True),
    ):
        delivery = services.send_email(to="new@example.com", subject="s", body="b")

    assert delivery is not None
    assert len(server.requests) == 2
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)


@pytest.mark.django_db
def test_sendgrid_4xx_fails_the_delivery_without_retrying(
    django_capture_on_commit_callbacks: Any,
) -> None:
    refusal = Reply(
        400,
        b'{"errors":[{"message":"The from address does not match a '
        b'verified Sender Identity.","field":"from"}]}',
    )
    with (
        local_server([refusal, Reply(202)]) as server,
        sendgrid_settings(server),
        django_capture_on_commit_callbacks(execute=True),
    ):
        delivery = services.send_email(to="new@example.com", subject="s", body="b")

    assert delivery is not None
    assert len(server.requests) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.last_error.startswith(
        "The email provider refused the message: SendGrid API response 400"
    )
    assert "verified Sender Identity" in delivery.last_error


def test_email_to_an_unreachable_provider_is_transient() -> None:
    with (
        override_settings(
            EMAIL_BACKEND="anymail.backends.sendgrid.EmailBackend",
            ANYMAIL={
                "SENDGRID_API_KEY": SENDGRID_KEY,
                "SENDGRID_API_URL": f"http://127.0.0.1:{closed_port()}/v3/",
            },
        ),
        pytest.raises(TransientDeliveryError),
    ):
        email_send(to="new@example.com", subject="s", body="b")


def test_an_unreachable_smtp_server_is_transient() -> None:
    with (
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=closed_port(),
        ),
        pytest.raises(TransientDeliveryError) as caught,
    ):
        email_send(to="new@example.com", subject="s", body="b")

    assert str(caught.value).startswith("The mail server could not be reached: ")


def test_a_recipient_refused_by_the_smtp_server_is_permanent() -> None:
    with (
        local_smtp_server(rcpt_reply="550 5.1.1 No such user") as port,
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=port,
            EMAIL_USE_TLS=False,
        ),
        pytest.raises(PermanentDeliveryError) as caught,
    ):
        email_send(to="nobody@example.com", subject="s", body="b")

    assert str(caught.value) == (
        "The mail server refused the message: {'nobody@example.com': (550, b'5.1.1 No such user')}"
    )
