"""Every write on accounts. Other apps call these (and `selectors`), never the models."""

from tessera.accounts.services.contact import (
    EmailChangeSent,
    email_change_confirm,
    email_change_request,
    phone_change_confirm,
    phone_change_request,
)
from tessera.accounts.services.otp import CodeSent, otp_send, otp_verify
from tessera.accounts.services.passwords import (
    Registered,
    account_register,
    email_verification_resend,
    email_verify,
    login_password,
    password_change,
    password_reset_confirm,
    password_reset_request,
    password_reset_send,
)
from tessera.accounts.services.sessions import (
    TokenPair,
    session_end,
    session_refresh,
    session_start,
    sessions_end_all,
    sessions_purge_expired,
)
from tessera.accounts.services.social import (
    AuthorizationStart,
    social_authorization_start,
    social_login,
    social_login_with_code,
    social_login_with_token,
)
from tessera.accounts.services.users import (
    UNSET,
    ProfileChanges,
    account_delete,
    profile_complete,
    profile_update,
    user_create,
    user_deactivate,
)

__all__ = [
    "UNSET",
    "AuthorizationStart",
    "CodeSent",
    "EmailChangeSent",
    "ProfileChanges",
    "Registered",
    "TokenPair",
    "account_delete",
    "account_register",
    "email_change_confirm",
    "email_change_request",
    "email_verification_resend",
    "email_verify",
    "login_password",
    "otp_send",
    "otp_verify",
    "password_change",
    "password_reset_confirm",
    "password_reset_request",
    "password_reset_send",
    "phone_change_confirm",
    "phone_change_request",
    "profile_complete",
    "profile_update",
    "session_end",
    "session_refresh",
    "session_start",
    "sessions_end_all",
    "sessions_purge_expired",
    "social_authorization_start",
    "social_login",
    "social_login_with_code",
    "social_login_with_token",
    "user_create",
    "user_deactivate",
]
