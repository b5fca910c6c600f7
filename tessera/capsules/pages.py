"""`/invitation`: where a capsule invitation (email or SMS) to someone without an account
leads (tessera/core/pages.py says what these pages are).

It says how to receive the capsule: sign up with the address or number it was sent to and
prove it; the capsule is then in the new account's inbox. For an email invitation the page
signs the person up itself (name and password; the verification email follows, whose link
opens `/verify-email`). A phone number is proven with a code texted to the app's sign-up.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tessera.accounts import services as accounts
from tessera.core.context import client_context
from tessera.core.errors import ApplicationError
from tessera.core.pages import page_rate_limited, page_render

TEMPLATE = "capsules/invitation.html"
MAX_FIELD_LENGTH = 254


def _field(request: HttpRequest, name: str) -> str:
    source = request.POST if request.method == "POST" else request.GET
    return (source.get(name) or "").strip()[:MAX_FIELD_LENGTH]


@require_http_methods(["GET", "HEAD", "POST"])
def invitation(request: HttpRequest) -> HttpResponse:
    context: dict[str, object] = {
        "email": _field(request, "email"),
        "phone": _field(request, "phone"),
        "name": _field(request, "name"),
    }
    if request.method != "POST":
        return page_render(request, TEMPLATE, context)
    limited = page_rate_limited(request, rate=settings.AUTH_REGISTER_RATE, scope="invitation")
    if limited:
        return page_render(request, TEMPLATE, {**context, "failure": limited}, status=429)
    try:
        registered = accounts.account_register(
            email=str(context["email"]),
            password=request.POST.get("password", ""),
            name=str(context["name"]),
            client=client_context(request),
        )
    except ApplicationError as exc:
        return page_render(
            request,
            TEMPLATE,
            {**context, "failure": exc.message, "field_errors": exc.fields},
            status=400,
        )
    return page_render(
        request,
        TEMPLATE,
        {
            **context,
            "done": _(
                "Almost there: we sent a code to %(email)s. Open the link in that email to "
                "verify the address, then sign in: the capsule is in your inbox."
            )
            % {"email": registered.email},
        },
    )
