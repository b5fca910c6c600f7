"""SMS providers: one small interface, a registry keyed by name, chosen by `SMS_BACKEND`.

- `console` writes each message to standard output (development);
- `file` appends one JSON line per message to `SMS_FILE_PATH`;
- `memory` keeps messages in an in-process outbox (tests);
- `twilio` sends through Twilio's Messages API.

A provider returns the provider's message id, or raises `PermanentDeliveryError` (sending
again would fail the same way) or `TransientDeliveryError` (worth retrying).
"""

from __future__ import annotations

import json
import re
import sys
import threading
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self, TextIO, TypeVar

import structlog
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from tessera.notifications.errors import (
    PermanentDeliveryError,
    RateLimitedDeliveryError,
    TransientDeliveryError,
)

logger = structlog.get_logger("tessera.notifications.sms")

E164 = re.compile(r"^\+[1-9]\d{6,14}$")

if TYPE_CHECKING:
    import httpx


def is_e164(number: str) -> bool:
    return bool(E164.match(number))


class SmsProvider(ABC):
    """Sends text messages. Subclasses set `name` and register with the registry.

    A batch of messages uses one instance as a context manager (`with provider:`), so a
    provider may keep a connection open across the batch and close it at the end.
    """

    name: ClassVar[str]

    @abstractmethod
    def send(self, *, to: str, body: str) -> str:
        """Send `body` to the E.164 number `to`; return the provider's message id."""

    def close(self) -> None:  # noqa: B027 - an optional hook, most providers keep nothing
        """Release what `send` kept open (nothing by default)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


ProviderT = TypeVar("ProviderT", bound=type[SmsProvider])
_registry: dict[str, type[SmsProvider]] = {}


def sms_provider_register(provider: ProviderT) -> ProviderT:
    """Class decorator: make a provider selectable by its `name` in `SMS_BACKEND`."""
    _registry[provider.name] = provider
    return provider


def sms_provider_names() -> list[str]:
    return sorted(_registry)


def sms_provider_get(name: str | None = None) -> SmsProvider:
    """The configured provider (`SMS_BACKEND`), or the one named."""
    name = name or settings.SMS_BACKEND
    try:
        provider = _registry[name]
    except KeyError:
        raise ImproperlyConfigured(
            f"Unknown SMS_BACKEND {name!r}; choose one of {', '.join(sms_provider_names())}."
        ) from None
    return provider()


@sms_provider_register
class ConsoleSmsProvider(SmsProvider):
    """Development: print the message where the developer is looking."""

    name = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def send(self, *, to: str, body: str) -> str:
        message_id = f"console-{uuid.uuid4().hex}"
        self.stream.write(f"SMS to {to} [{message_id}]\n{body}\n{'-' * 72}\n")
        self.stream.flush()
        logger.info("sms_console", to=to, message_id=message_id)
        return message_id


@sms_provider_register
class FileSmsProvider(SmsProvider):
    """Development and demos: one JSON object per line in `SMS_FILE_PATH`.

    When `SMS_FILE_PATH` is an existing directory the lines go to `sms.jsonl` inside it.
    """

    name = "file"
    _lock = threading.Lock()

    def __init__(self, path: str | Path | None = None) -> None:
        target = Path(path or settings.SMS_FILE_PATH)
        self.path = target / "sms.jsonl" if target.is_dir() else target

    def send(self, *, to: str, body: str) -> str:
        message_id = f"file-{uuid.uuid4().hex}"
        line = {
            "id": message_id,
            "to": to,
            "body": body,
            "sent_at": timezone.now().isoformat(),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
        return message_id


@dataclass(frozen=True)
class SentSms:
    message_id: str
    to: str
    body: str
    sent_at: datetime


@sms_provider_register
class MemorySmsProvider(SmsProvider):
    """Tests: every message lands in the class-level `outbox`, in sending order."""

    name = "memory"
    outbox: ClassVar[list[SentSms]] = []

    def send(self, *, to: str, body: str) -> str:
        message_id = f"memory-{len(self.outbox) + 1}"
        self.outbox.append(SentSms(message_id=message_id, to=to, body=body, sent_at=timezone.now()))
        return message_id


@sms_provider_register
class TwilioSmsProvider(SmsProvider):
    """Twilio's Messages API: a form-encoded POST with HTTP basic auth (account SID, token).

    4xx replies are permanent (a bad number, an unverified sender), except 429 (Twilio's
    rate limit: `RateLimitedDeliveryError`, with its Retry-After), which like 5xx replies
    and network errors is retried. One HTTP connection is kept open for a batch.
    """

    name = "twilio"
    timeout_seconds = 10.0

    def __init__(
        self,
        *,
        account_sid: str | None = None,
        auth_token: str | None = None,
        from_number: str | None = None,
        api_base: str | None = None,
    ) -> None:
        self.account_sid = account_sid or settings.TWILIO_ACCOUNT_SID
        self.auth_token = auth_token or settings.TWILIO_AUTH_TOKEN
        self.from_number = from_number or settings.TWILIO_FROM_NUMBER
        self.api_base = (api_base or settings.TWILIO_API_BASE).rstrip("/")
        missing = [
            setting
            for setting, value in (
                ("TWILIO_ACCOUNT_SID", self.account_sid),
                ("TWILIO_AUTH_TOKEN", self.auth_token),
                ("TWILIO_FROM_NUMBER", self.from_number),
            )
            if not value
        ]
        if missing:
            raise ImproperlyConfigured(f"Twilio SMS needs {', '.join(missing)}.")
        self._client: httpx.Client | None = None

    @property
    def messages_url(self) -> str:
        return f"{self.api_base}/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def send(self, *, to: str, body: str) -> str:
        import httpx  # here, not at the top: it weighs ~20 MB in every web worker

        if self._client is None:
            self._client = httpx.Client(
                auth=(self.account_sid, self.auth_token),
                headers={"Accept": "application/json"},
                timeout=self.timeout_seconds,
            )
        try:
            response = self._client.post(
                self.messages_url, data={"To": to, "From": self.from_number, "Body": body}
            )
        except httpx.TransportError as exc:
            raise TransientDeliveryError(f"Twilio could not be reached: {exc!r}") from exc
        status = response.status_code
        if status == 429:
            raise RateLimitedDeliveryError(
                f"Twilio answered 429: {_twilio_detail(response)}",
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        if status >= 500:
            raise TransientDeliveryError(f"Twilio answered {status}: {_twilio_detail(response)}")
        if not 200 <= status < 300:
            raise PermanentDeliveryError(
                f"Twilio refused the message ({status}): {_twilio_detail(response)}"
            )
        sid = _json_object(response).get("sid")
        if not isinstance(sid, str) or not sid:
            # Twilio accepted the message; sending again would send it twice.
            logger.warning("twilio_reply_without_sid", status=status)
            return ""
        return sid


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _twilio_detail(response: httpx.Response) -> str:
    payload = _json_object(response)
    if "message" in payload:
        code = payload.get("code")
        return f"{payload['message']} (code {code})" if code else str(payload["message"])
    return response.text[:500] or response.reason_phrase


def retry_after_seconds(value: str | None) -> float | None:
    """An HTTP Retry-After header in seconds (a number of seconds, or a date), else None."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - timezone.now()).total_seconds())
