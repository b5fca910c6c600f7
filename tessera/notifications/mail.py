"""Email through Django's mail API: the console back end by default, SendGrid through
anymail when `SENDGRID_API_KEY` is set, locmem in tests."""

from __future__ import annotations

import smtplib

from anymail.exceptions import AnymailAPIError, AnymailError
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend

from tessera.notifications.errors import (
    PermanentDeliveryError,
    RateLimitedDeliveryError,
    TransientDeliveryError,
)
from tessera.notifications.sms import retry_after_seconds

# SMTP replies that mean "this message will never be accepted as it is".
_PERMANENT_SMTP_ERRORS = (
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPSenderRefused,
    smtplib.SMTPDataError,
    smtplib.SMTPNotSupportedError,
    smtplib.SMTPAuthenticationError,
)


def email_send(
    *,
    to: str,
    subject: str,
    body: str,
    from_email: str | None = None,
    connection: BaseEmailBackend | None = None,
) -> str:
    """Send one plain-text email; return the provider's message id ("" when it has none).

    A batch passes one open `connection` (`mail_connection()`) for all its messages.
    """
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        to=[to],
        connection=connection,
    )
    try:
        message.send(fail_silently=False)
    except AnymailAPIError as exc:
        status = exc.status_code
        if status == 429:
            response = getattr(exc, "response", None)
            headers = getattr(response, "headers", None) or {}
            raise RateLimitedDeliveryError(
                f"The email provider is rate limiting: {exc}",
                retry_after=retry_after_seconds(headers.get("Retry-After")),
            ) from exc
        if status is None or status >= 500:
            raise TransientDeliveryError(f"The email provider failed: {exc}") from exc
        raise PermanentDeliveryError(f"The email provider refused the message: {exc}") from exc
    except AnymailError as exc:
        raise PermanentDeliveryError(f"The email could not be sent: {exc}") from exc
    except _PERMANENT_SMTP_ERRORS as exc:
        raise PermanentDeliveryError(f"The mail server refused the message: {exc}") from exc
    except OSError as exc:  # connection refused, timeouts, SMTPServerDisconnected
        raise TransientDeliveryError(f"The mail server could not be reached: {exc!r}") from exc
    status_info = getattr(message, "anymail_status", None)
    message_id = getattr(status_info, "message_id", None)
    return message_id if isinstance(message_id, str) else ""


def mail_connection() -> BaseEmailBackend:
    """The configured email back end, opened, for sending a batch over one connection (SMTP
    session, HTTP keep-alive); close it when the batch is done."""
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except _PERMANENT_SMTP_ERRORS as exc:
        raise PermanentDeliveryError(f"The mail server refused the sender: {exc}") from exc
    except OSError as exc:
        raise TransientDeliveryError(f"The mail server could not be reached: {exc!r}") from exc
    return connection
