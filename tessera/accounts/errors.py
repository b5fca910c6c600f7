"""The accounts module's error codes: every sign-in failure a client can see."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from tessera.core.errors import (
    ApplicationError,
    AuthenticationRequiredError,
    ConflictError,
    ErrorCode,
    InvalidInputError,
    NotFoundError,
    RateLimitedError,
)


class AccountsErrorCode(ErrorCode):
    INVALID_PHONE_NUMBER = "invalid_phone_number"
    INVALID_EMAIL = "invalid_email"
    WEAK_PASSWORD = "weak_password"
    OTP_INVALID = "otp_invalid"
    OTP_ATTEMPTS_EXCEEDED = "otp_attempts_exceeded"
    OTP_RESEND_TOO_SOON = "otp_resend_too_soon"
    OTP_LIMIT_REACHED = "otp_limit_reached"
    INVALID_CREDENTIALS = "invalid_credentials"
    TOO_MANY_FAILED_LOGINS = "too_many_failed_logins"
    INVALID_REFRESH_TOKEN = "invalid_refresh_token"
    REFRESH_TOKEN_REUSED = "refresh_token_reused"
    INVALID_RESET_TOKEN = "invalid_reset_token"
    INVALID_VERIFICATION_CODE = "invalid_verification_code"
    WRONG_PASSWORD = "wrong_password"
    SESSION_NOT_FOUND = "session_not_found"
    UNKNOWN_EVENT_INTEREST = "unknown_event_interest"
    PROVIDER_NOT_CONFIGURED = "provider_not_configured"
    REDIRECT_URI_NOT_ALLOWED = "redirect_uri_not_allowed"
    INVALID_OAUTH_STATE = "invalid_oauth_state"
    SOCIAL_AUTH_FAILED = "social_auth_failed"
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    ACCOUNT_DISABLED = "account_disabled"
    FILE_NOT_USABLE = "file_not_usable"
    PASSWORD_REQUIRED = "password_required"
    ADDRESS_UNCHANGED = "address_unchanged"
    EMAIL_TAKEN = "email_taken"
    PHONE_TAKEN = "phone_taken"
    LOGIN_THROTTLED = "login_throttled"
    REAUTHENTICATION_REQUIRED = "reauthentication_required"
    NO_VERIFIED_PHONE_NUMBER = "no_verified_phone_number"


class InvalidPhoneNumberError(InvalidInputError):
    code = AccountsErrorCode.INVALID_PHONE_NUMBER
    default_message = _("Enter a valid phone number in international form, e.g. +27821234567.")

    def __init__(self, message: Any = None, *, field: str = "phoneNumber") -> None:
        super().__init__(message, fields={field: str(self.default_message)})


class InvalidEmailError(InvalidInputError):
    code = AccountsErrorCode.INVALID_EMAIL
    default_message = _("Enter a valid email address.")

    def __init__(self, message: Any = None, *, field: str = "email") -> None:
        super().__init__(message, fields={field: str(self.default_message)})


class WeakPasswordError(InvalidInputError):
    code = AccountsErrorCode.WEAK_PASSWORD
    default_message = _("The password is not strong enough.")


class OtpInvalidError(ApplicationError):
    status_code = 400
    code = AccountsErrorCode.OTP_INVALID
    default_message = _("The code is wrong or has expired. Ask for a new one.")


class OtpAttemptsExceededError(ApplicationError):
    status_code = 400
    code = AccountsErrorCode.OTP_ATTEMPTS_EXCEEDED
    default_message = _("Too many wrong codes. This code no longer works: ask for a new one.")


class OtpResendTooSoonError(RateLimitedError):
    code = AccountsErrorCode.OTP_RESEND_TOO_SOON
    default_message = _("A code was sent moments ago. Wait before asking for another.")


class OtpLimitReachedError(RateLimitedError):
    code = AccountsErrorCode.OTP_LIMIT_REACHED
    default_message = _("Too many codes were sent to this number. Try again later.")


class InvalidCredentialsError(AuthenticationRequiredError):
    code = AccountsErrorCode.INVALID_CREDENTIALS
    default_message = _("The email address or password is wrong.")


class AccountLockedError(RateLimitedError):
    code = AccountsErrorCode.TOO_MANY_FAILED_LOGINS
    default_message = _("Too many failed sign-in attempts. Try again later.")


class LoginThrottledError(RateLimitedError):
    code = AccountsErrorCode.LOGIN_THROTTLED
    default_message = _(
        "This account had many failed sign-in attempts, so each try must wait a little. "
        "Try again after the time given, or sign in from a device you used before."
    )


class InvalidRefreshTokenError(AuthenticationRequiredError):
    code = AccountsErrorCode.INVALID_REFRESH_TOKEN
    default_message = _("The refresh token is not valid. Sign in again.")


class RefreshTokenReusedError(AuthenticationRequiredError):
    code = AccountsErrorCode.REFRESH_TOKEN_REUSED
    default_message = _(
        "This refresh token was already used. Every session it belonged to has been ended: "
        "sign in again."
    )


class InvalidResetTokenError(ApplicationError):
    status_code = 400
    code = AccountsErrorCode.INVALID_RESET_TOKEN
    default_message = _("The reset link is not valid, was already used or has expired.")


class InvalidVerificationCodeError(ApplicationError):
    status_code = 400
    code = AccountsErrorCode.INVALID_VERIFICATION_CODE
    default_message = _("The verification code is wrong, was already used or has expired.")


class WrongPasswordError(ApplicationError):
    status_code = 400
    code = AccountsErrorCode.WRONG_PASSWORD
    default_message = _("The current password is wrong.")


class SessionNotFoundError(NotFoundError):
    code = AccountsErrorCode.SESSION_NOT_FOUND
    default_message = _("No session with this id.")


class UnknownInterestError(InvalidInputError):
    code = AccountsErrorCode.UNKNOWN_EVENT_INTEREST
    default_message = _("One or more event interests do not exist.")


class ProviderNotConfiguredError(NotFoundError):
    code = AccountsErrorCode.PROVIDER_NOT_CONFIGURED
    default_message = _("This sign-in provider is not available.")


class RedirectUriNotAllowedError(InvalidInputError):
    code = AccountsErrorCode.REDIRECT_URI_NOT_ALLOWED
    default_message = _("This redirect URI is not allowed.")


class InvalidOAuthStateError(ApplicationError):
    status_code = 400
    code = AccountsErrorCode.INVALID_OAUTH_STATE
    default_message = _("The sign-in attempt expired or was tampered with. Start again.")


class SocialAuthFailedError(ApplicationError):
    status_code = 400
    code = AccountsErrorCode.SOCIAL_AUTH_FAILED
    default_message = _("The provider did not accept the sign-in.")


class ProviderUnavailableError(ApplicationError):
    status_code = 502
    code = AccountsErrorCode.PROVIDER_UNAVAILABLE
    default_message = _("The sign-in provider could not be reached. Try again shortly.")


class AccountDisabledError(AuthenticationRequiredError):
    code = AccountsErrorCode.ACCOUNT_DISABLED
    default_message = _("This account is disabled.")


class FileNotUsableError(InvalidInputError):
    code = AccountsErrorCode.FILE_NOT_USABLE
    default_message = _("One or more files do not exist, are not yours or are not images.")


class PasswordRequiredError(InvalidInputError):
    code = AccountsErrorCode.PASSWORD_REQUIRED
    default_message = _("Enter your current password to confirm this change.")

    def __init__(self, message: Any = None, *, field: str = "currentPassword") -> None:
        super().__init__(message, fields={field: str(self.default_message)})


class AddressUnchangedError(InvalidInputError):
    code = AccountsErrorCode.ADDRESS_UNCHANGED
    default_message = _("This is already the address on your account.")

    def __init__(self, message: Any = None, *, field: str) -> None:
        super().__init__(message, fields={field: str(self.default_message)})


class EmailTakenError(ConflictError):
    code = AccountsErrorCode.EMAIL_TAKEN
    default_message = _("This email address now belongs to another account. Nothing was changed.")


class PhoneTakenError(ConflictError):
    code = AccountsErrorCode.PHONE_TAKEN
    default_message = _("This phone number now belongs to another account. Nothing was changed.")


class ReauthenticationRequiredError(ApplicationError):
    status_code = 403
    code = AccountsErrorCode.REAUTHENTICATION_REQUIRED
    default_message = _(
        "Confirm it is you: send your password, or a code from POST /api/auth/me/delete/code, "
        "or sign in again and retry within 5 minutes."
    )


class NoPhoneNumberError(ConflictError):
    code = AccountsErrorCode.NO_VERIFIED_PHONE_NUMBER
    default_message = _(
        "This account has no verified phone number to send a code to. Confirm with your "
        "password, or sign in again and retry within 5 minutes."
    )
