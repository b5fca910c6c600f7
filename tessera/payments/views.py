"""HTTP endpoints outside /api/: the webhook intake and the sandbox's checkout page.

`POST /webhooks/<provider>` is for gateways, not API clients, so it is a plain Django view:
no bearer auth, no CSRF (a gateway has no cookie; the signature is the authentication), no
OpenAPI entry. It takes the API's middleware chain (request id, security headers, access
log, metrics; no session, CORS or per-address rate limit: decision 0039) and answers in the
same envelope as the API, so a gateway's dashboard and our logs read alike: 200
`{"status": "success", "data": {"deliveryId", "duplicate"}}` once the delivery is stored,
or an error envelope (401 unsigned or forged, 400 malformed or stale, 404 unknown provider,
413 too large).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from tessera.core.api.handlers import render_error, renders_errors
from tessera.core.envelope import JSON_CONTENT_TYPE, dumps, success_payload
from tessera.core.errors import MethodNotAllowedError, NotFoundError, PayloadTooLargeError
from tessera.core.money import amount_display
from tessera.payments import sandbox, services
from tessera.payments.errors import PaymentsErrorCode, SandboxPurchaseClosedError
from tessera.payments.models import SandboxPurchaseStatus


@csrf_exempt
def webhook_receive(request: HttpRequest, provider: str) -> HttpResponseBase:
    if request.method != "POST":
        response = render_error(
            request, MethodNotAllowedError(_("Webhooks are delivered with POST."))
        )
        response["Allow"] = "POST"
        return response
    return _webhook_receive(request, provider)


@renders_errors
def _webhook_receive(request: HttpRequest, provider: str) -> HttpResponse:
    try:
        too_big = int(request.META.get("CONTENT_LENGTH") or 0) > settings.API_MAX_BODY_BYTES
        body = b"" if too_big else request.body
    except (ValueError, RequestDataTooBig):
        too_big, body = True, b""
    if too_big:
        raise PayloadTooLargeError
    receipt = services.webhook_receive(provider_name=provider, body=body, headers=request.headers)
    if receipt is None:
        raise NotFoundError(
            _("This site takes no webhooks from that provider."),
            code=PaymentsErrorCode.WEBHOOK_PROVIDER_UNKNOWN,
        )
    data = {"deliveryId": receipt.delivery_id, "duplicate": receipt.duplicate}
    message = _("Already received.") if receipt.duplicate else _("Received.")
    return HttpResponse(dumps(success_payload(data, message)), content_type=JSON_CONTENT_TYPE)


def _sandbox_enabled() -> bool:
    return bool(settings.PAYMENTS_PROVIDER == "sandbox")


def _page(request: HttpRequest, purchase: Any, *, status: int = 200, notice: str = "") -> Any:
    language = get_language() or "en"
    context = {
        "purchase": purchase,
        "amount": amount_display(purchase.amount_minor, purchase.currency, language=language),
        "open": purchase.status == SandboxPurchaseStatus.CREATED,
        "status_label": SandboxPurchaseStatus(purchase.status).label,
        "notice": notice,
        "language": language,
        "direction": "rtl" if language == "ar" else "ltr",
        "other_language": "en" if language == "ar" else "ar",
    }
    return render(request, "payments/sandbox_checkout.html", context, status=status)


@csrf_exempt
def sandbox_checkout(request: HttpRequest, purchase_id: str) -> HttpResponse:
    """The sandbox gateway's checkout: GET shows it, POST `action=pay|fail|cancel` acts (no
    CSRF token: the checkout's unguessable id is the capability, as on a gateway's page, and
    a script can pay with one POST). After acting, the person is sent to the order's success
    or failure URL when it has one."""
    if not _sandbox_enabled():
        raise Http404
    purchase = sandbox.purchase_get(purchase_id=purchase_id)
    if purchase is None:
        raise Http404
    if request.method == "GET":
        return _page(request, purchase)
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    action = request.POST.get("action", "")
    if action not in sandbox.ACTIONS:
        return _page(request, purchase, status=400, notice=_("Choose pay, fail or cancel."))
    try:
        purchase = sandbox.purchase_act(purchase_id=purchase.pk, action=action)
    except SandboxPurchaseClosedError:
        purchase.refresh_from_db()
        return _page(request, purchase, status=409, notice=_("This checkout is already closed."))
    target = (
        purchase.success_redirect
        if purchase.status == SandboxPurchaseStatus.PAID
        else purchase.failure_redirect
    )
    if target:
        return HttpResponseRedirect(target, status=303)
    return _page(request, purchase)
