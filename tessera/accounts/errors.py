"""The accounts module's error codes: every sign-in failure a client can see."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from tessera.core.errors import (
    ApplicationError,
    AuthenticationRequiredError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    RateLimitedError,
)


class InvalidPhoneNumberError(InvalidInputError):
    code = "invalid_phone_number"
    default_message = _("Enter a valid phone number in international form, e.g. +27821234567.")

    def __init__(self, message: Any = None, *, field: str = "phoneNumber") -> None:
        super().__init__(message, fields={field: str(self.default_message)})


class InvalidEmailError(InvalidInputError):
    code = "invalid_email"
    default_message = _("Enter a valid email address.")

    def __init__(self, message: Any = None, *, field: str = "email") -> None:
        super().__init__(message, fields={field: str(self.default_message)})


class WeakPasswordError(InvalidInputError):
    code = "weak_password"
    default_message = _("The password is not strong enough.")


class OtpInvalidError(ApplicationError):
    status_code = 400
    code = "otp_invalid"
    default_message = _("The code is wrong or has expired. Ask for a new one.")


class OtpAttemptsExceededError(ApplicationError):
    status_code = 400
    code = "otp_attempts_exceeded"
    default_message = _("Too many wrong codes. This code no longer works: ask for a new one.")


class OtpResendTooSoonError(RateLimitedError):
    code = "otp_resend_too_soon"
    default_message = _("A code was sent moments ago. Wait before asking for another.")


class OtpLimitReachedError(RateLimitedError):
    code = "otp_limit_reached"
    default_message = _("Too many codes were sent to this number. Try again later.")


class InvalidCredentialsError(AuthenticationRequiredError):
    code = "invalid_credentials"
    default_message = _("The email address or password is wrong.")


class AccountLockedError(RateLimitedError):
    code = "too_many_failed_logins"
    default_message = _("Too many failed sign-in attempts. Try again later.")


class LoginThrottledError(RateLimitedError):
    code = "login_throttled"
    default_message = _(
        "This account had many failed sign-in attempts, so each try must wait a little. "
        "Try again after the time given, or sign in from a device you used before."
    )


class InvalidRefreshTokenError(AuthenticationRequiredError):
    code = "invalid_refresh_token"
    default_message = _("The refresh token is not valid. Sign in again.")


class RefreshTokenReusedError(AuthenticationRequiredError):
    code = "refresh_token_reused"
    default_message = _(
        "This refresh token was already used. Every session it belonged to has been ended: "
        "sign in again."
    )


class InvalidResetTokenError(ApplicationError):
    status_code = 400
    code = "invalid_reset_token"
    default_message = _("The reset link is not valid, was already used or has expired.")


class InvalidVerificationCodeError(ApplicationError):
    status_code = 400
    code = "invalid_verification_code"
    default_message = _("The verification code is wrong, was already used or has expired.")


class WrongPasswordError(ApplicationError):
    status_code = 400
    code = "wrong_password"
    default_message = _("The current password is wrong.")


class SessionNotFoundError(NotFoundError):
    code = "session_not_found"
    default_message = _("No session with this id.")


class UnknownInterestError(InvalidInputError):
    code = "unknown_event_interest"
    default_message = _("One or more event interests do not exist.")


class ProviderNotConfiguredError(NotFoundError):
    code = "provider_not_configured"
    default_message = _("This sign-in provider is not available.")


class RedirectUriNotAllowedError(InvalidInputError):
    code = "redirect_uri_not_allowed"
    default_message = _("This redirect URI is not allowed.")


class InvalidOAuthStateError(ApplicationError):
    status_code = 400
    code = "invalid_oauth_state"
    default_message = _("The sign-in attempt expired or was tampered with. Start again.")


class SocialAuthFailedError(ApplicationError):
    status_code = 400
    code = "social_auth_failed"
    default_message = _("The provider did not accept the sign-in.")


class ProviderUnavailableError(ApplicationError):
    status_code = 502
    code = "provider_unavailable"
    default_message = _("The sign-in provider could not be reached. Try again shortly.")


class AccountDisabledError(AuthenticationRequiredError):
    code = "account_disabled"
    default_message = _("This account is disabled.")


class FileNotUsableError(InvalidInputError):
    code = "file_not_usable"
    default_message = _("One or more files do not exist, are not yours or are not images.")


class PasswordRequiredError(InvalidInputError):
    code = "password_required"
    default_message = _("Enter your current password to confirm this change.")

    def __init__(self, message: Any = None, *, field: str = "currentPassword") -> None:
        super().__init__(message, fields={field: str(self.default_message)})


class AddressUnchangedError(InvalidInputError):
    code = "address_unchanged"
    default_message = _("This is already the address on your account.")

    def __init__(self, message: Any = None, *, field: str) -> None:
        super().__init__(message, fields={field: str(self.default_message)})


class EmailTakenError(ConflictError):
    code = "email_taken"
    default_message = _("This email address now belongs to another account. Nothing was changed.")


class PhoneTakenError(ConflictError):
    code = "phone_taken"
    default_message = _("This phone number now belongs to another account. Nothing was changed.")


class ReauthenticationRequiredError(ApplicationError):
    status_code = 403
    code = "reauthentication_required"
    default_message = _(
        "Confirm it is you: send your password, or a code from POST /api/auth/me/delete/code, "
        "or sign in again and retry within 5 minutes."
    )


class NoPhoneNumberError(ConflictError):
    code = "no_verified_phone_number"
    default_message = _(
        "This account has no verified phone number to send a code to. Confirm with your "
        "password, or sign in again and retry within 5 minutes."
    )
