"""The pages the account emails link to (tessera/core/pages.py says what these pages are):

- `/verify-email?email=…&code=…`: confirms the address with its code (a button: a GET
  changes nothing, so mail scanners that open links do not use the code up);
- `/reset-password?token=…`: sets a new password with the emailed token; without a token,
  asks for the address to send a reset link to;
- `/confirm-email-change?email=…&code=…`: shows the code to enter in the app, where the
  person is signed in (confirming needs their session).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tessera.accounts import services
from tessera.core.context import client_context
from tessera.core.errors import ApplicationError
from tessera.core.pages import page_rate_limited, page_render

MAX_FIELD_LENGTH = 254


def _field(request: HttpRequest, name: str) -> str:
    source = request.POST if request.method == "POST" else request.GET
    return (source.get(name) or "").strip()[:MAX_FIELD_LENGTH]


@require_http_methods(["GET", "HEAD", "POST"])
def verify_email(request: HttpRequest) -> HttpResponse:
    email, code = _field(request, "email"), _field(request, "code")
    context: dict[str, object] = {"email": email, "code": code}
    if request.method == "POST":
        limited = page_rate_limited(
            request, rate=settings.AUTH_OTP_VERIFY_IP_RATE, scope="verify-email"
        )
        if limited:
            return page_render(
                request, "accounts/verify_email.html", {**context, "failure": limited}, status=429
            )
        try:
            services.email_verify(email=email, code=code, client=client_context(request))
        except ApplicationError as exc:
            return page_render(
                request,
                "accounts/verify_email.html",
                {**context, "failure": exc.message},
                status=400,
            )
        return page_render(
            request,
            "accounts/verify_email.html",
            {**context, "done": _("Your email address %(email)s is verified.") % {"email": email}},
        )
    return page_render(request, "accounts/verify_email.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def reset_password(request: HttpRequest) -> HttpResponse:
    token = _field(request, "token")
    template = "accounts/reset_password.html"
    if request.method != "POST":
        return page_render(request, template, {"token": token})
    limited = page_rate_limited(
        request, rate=settings.AUTH_PASSWORD_RESET_RATE, scope="reset-password"
    )
    if limited:
        return page_render(request, template, {"token": token, "failure": limited}, status=429)
    if not token:
        return _reset_requested(request, template)
    password, repeated = request.POST.get("password", ""), request.POST.get("password2", "")
    if password != repeated:
        return page_render(
            request,
            template,
            {"token": token, "field_error": _("The two passwords are not the same.")},
            status=400,
        )
    try:
        services.password_reset_confirm(
            token=token, new_password=password, client=client_context(request)
        )
    except ApplicationError as exc:
        field_error = exc.fields.get("newPassword")
        return page_render(
            request,
            template,
            {
                "token": token,
                "failure": exc.message,
                "field_error": field_error,
                "token_spent": not field_error,
            },
            status=400,
        )
    return page_render(
        request,
        template,
        {
            "done": _(
                "Your password was changed and every session signed out. Sign in with the new "
                "password."
            ),
        },
    )


def _reset_requested(request: HttpRequest, template: str) -> HttpResponse:
    email = _field(request, "email")
    try:
        services.password_reset_request(email=email, client=client_context(request))
    except ApplicationError as exc:
        return page_render(request, template, {"email": email, "failure": exc.message}, status=400)
    return page_render(
        request,
        template,
        {
            "email": email,
            "done": _(
                "If an account uses %(email)s, a link to choose a new password is on its way there."
            )
            % {"email": email},
        },
    )


@require_http_methods(["GET", "HEAD"])
def confirm_email_change(request: HttpRequest) -> HttpResponse:
    return page_render(
        request,
        "accounts/confirm_email_change.html",
        {"email": _field(request, "email"), "code": _field(request, "code")},
    )
