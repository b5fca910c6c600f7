"""The wallet in the admin. The ledger is read-only; money moves by hand only through
"Make an adjustment" (staff with `wallet.make_adjustment`): a balanced transfer with a
reason, audited."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tessera.core.context import client_context
from tessera.core.errors import ApplicationError
from tessera.core.money import amount_format, amount_parse, currency_check
from tessera.wallet import services
from tessera.wallet.models import (
    AccountKind,
    Direction,
    LedgerAccount,
    LedgerCheck,
    LedgerEntry,
    LedgerTransfer,
    WalletTransaction,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "currency", "owner", "balance")
    list_filter = ("kind", "currency")
    search_fields = ("owner__email", "id")
    list_select_related = ("owner",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[LedgerAccount]:
        return super().get_queryset(request).annotate(entries_total=Sum("entries__amount_minor"))

    @admin.display(description=_("balance"))
    def balance(self, obj: Any) -> str:
        # A wallet's column; a platform account's sum of entries.
        minor = obj.balance_minor if obj.balance_minor is not None else obj.entries_total or 0
        return f"{amount_format(minor, obj.currency)} {obj.currency}"


class EntryInline(admin.TabularInline):
    model = LedgerEntry
    fields = ("account", "amount_minor", "currency", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LedgerTransfer)
class LedgerTransferAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "reference", "description", "created_by")
    list_filter = ("kind", "created_at")
    search_fields = ("reference", "description", "id")
    date_hierarchy = "created_at"
    inlines = (EntryInline,)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "transfer", "account", "amount_minor", "currency")
    list_filter = ("currency", "account__kind", "created_at")
    search_fields = ("transfer__reference", "account__owner__email")
    list_select_related = ("transfer", "account")


@admin.register(LedgerCheck)
class LedgerCheckAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "ok", "wallets_checked", "entries_checked", "problems")
    list_filter = ("ok",)
    date_hierarchy = "started_at"

    @admin.display(description=_("problems"))
    def problems(self, obj: LedgerCheck) -> int:
        return len(obj.balance_mismatches) + len(obj.unbalanced_transfers)


class AdjustmentForm(forms.Form):
    user_email = forms.EmailField(label=_("User's email"))
    direction = forms.ChoiceField(label=_("Direction"), choices=Direction.choices)
    amount = forms.CharField(
        label=_("Amount"), max_length=32, help_text=_('A decimal string, such as "25.00".')
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=[])
    counter_account = forms.ChoiceField(
        label=_("Counter account"),
        choices=[
            (AccountKind.ADJUSTMENTS, AccountKind.ADJUSTMENTS.label),
            (AccountKind.FEES, AccountKind.FEES.label),
        ],
        help_text=_("The platform's account on the other side of the transfer."),
    )
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea, min_length=10, max_length=500
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [(code, code) for code in settings.MONEY_CURRENCIES]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        email = data.get("user_email")
        if email:
            user = get_user_model().objects.filter(email__iexact=email).first()
            if user is None:
                self.add_error("user_email", gettext("No user has this email."))
            data["user"] = user
        if data.get("amount") and data.get("currency"):
            try:
                data["amount_minor"] = amount_parse(
                    data["amount"], currency_check(data["currency"])
                )
            except ApplicationError as exc:
                self.add_error("amount", exc.message)
        return data


@admin.register(WalletTransaction)
class WalletTransactionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "kind", "direction", "amount", "status", "completed_at")
    list_filter = ("kind", "status", "direction", "currency", "created_at")
    search_fields = ("id", "user__email", "description", "idempotency_key")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    exclude = ("idempotency_key",)
    change_list_template = "admin/wallet/wallettransaction_change_list.html"

    @admin.display(description=_("amount"))
    def amount(self, obj: WalletTransaction) -> str:
        return f"{amount_format(obj.amount_minor, obj.currency)} {obj.currency}"

    def get_urls(self) -> list[Any]:
        return [
            path(
                "adjust/",
                self.admin_site.admin_view(self.adjust_view),
                name="wallet_wallettransaction_adjust",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        extra_context = {
            **(extra_context or {}),
            "can_adjust": request.user.has_perm(services.ADJUSTMENT_PERMISSION),
        }
        return super().changelist_view(request, extra_context)

    def adjust_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm(services.ADJUSTMENT_PERMISSION):
            raise PermissionDenied
        form = AdjustmentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                tx = services.ledger_adjust(
                    actor=request.user,
                    user_id=data["user"].pk,
                    currency=data["currency"],
                    amount_minor=data["amount_minor"],
                    direction=data["direction"],
                    reason=data["reason"],
                    counter_account=data["counter_account"],
                    client=client_context(request),
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
                for name, message in exc.fields.items():
                    form.add_error(None, f"{name}: {message}")
            else:
                self.message_user(
                    request,
                    gettext("Adjusted %(email)s's wallet: %(direction)s %(amount)s %(currency)s.")
                    % {
                        "email": data["user"].email,
                        "direction": Direction(data["direction"]).label,
                        "amount": amount_format(tx.amount_minor, tx.currency),
                        "currency": tx.currency,
                    },
                    level=messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:wallet_wallettransaction_change", args=[tx.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Make an adjustment"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/wallet/adjust.html", context)
