"""Users searchable by email, phone and name; deactivate and end-all-sessions actions;
sessions, linked accounts and event interests. OTP sends and logins are in the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tessera.accounts import services
from tessera.accounts.models import AuthSession, EventInterest, SocialAccount, User
from tessera.core.context import client_context


class UserCreationAdminForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "phone_number")


class UserChangeAdminForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class AuthSessionInline(admin.TabularInline):
    model = AuthSession
    extra = 0
    can_delete = False
    fields = ("method", "device", "ip_address", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    ordering = ("-last_used_at",)
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SocialAccountInline(admin.TabularInline):
    model = SocialAccount
    extra = 0
    fields = ("provider", "uid", "email", "created_at", "last_login_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = UserCreationAdminForm
    form = UserChangeAdminForm
    ordering = ("-date_joined",)
    list_display = ("email", "phone_number", "name", "is_active", "is_staff", "date_joined")
    list_filter = ("is_active", "is_staff", "is_superuser")
    search_fields = ("email", "phone_number", "name")
    readonly_fields = (
        "id",
        "date_joined",
        "last_login",
        "email_verified_at",
        "phone_verified_at",
        "profile_completed_at",
        "deleted_at",
    )
    filter_horizontal = ("interests", "groups", "user_permissions")
    fieldsets = (
        (None, {"fields": ("id", "email", "phone_number", "password")}),
        (
            _("Profile"),
            {
                "fields": (
                    "name",
                    "language",
                    "birth_date",
                    "gender",
                    "bio",
                    "location",
                    "interests",
                )
            },
        ),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (
            _("Dates"),
            {
                "fields": (
                    "date_joined",
                    "last_login",
                    "email_verified_at",
                    "phone_verified_at",
                    "profile_completed_at",
                    "deleted_at",
                )
            },
        ),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "phone_number", "usable_password", "password1", "password2"),
            },
        ),
    )
    inlines = (AuthSessionInline, SocialAccountInline)
    actions = ("deactivate_users", "end_all_sessions")

    @admin.action(description=_("Deactivate the selected users and end their sessions"))
    def deactivate_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = 0
        for user in queryset.filter(is_active=True):
            services.user_deactivate(user=user, actor=request.user, client=client_context(request))
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d user deactivated.", "%(count)d users deactivated.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("End every session of the selected users"))
    def end_all_sessions(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        ended = 0
        for user in queryset:
            ended += services.sessions_end_all(
                user=user,
                reason=AuthSession.EndReason.ADMIN,
                actor=request.user,
                client=client_context(request),
            )
        self.message_user(
            request,
            ngettext("%(count)d session ended.", "%(count)d sessions ended.", ended)
            % {"count": ended},
            messages.SUCCESS,
        )


@admin.register(AuthSession)
class AuthSessionAdmin(admin.ModelAdmin):
    list_display = ("user", "method", "device", "ip_address", "last_used_at", "revoked_at")
    list_filter = ("method", "revoked_reason")
    search_fields = ("user__email", "user__phone_number", "ip_address")
    readonly_fields = (
        "id",
        "user",
        "method",
        "device",
        "ip_address",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "revoked_reason",
    )
    fields = readonly_fields
    ordering = ("-last_used_at",)
    list_select_related = ("user",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SocialAccount)
class SocialAccountAdmin(admin.ModelAdmin):
    list_display = ("provider", "uid", "user", "email", "last_login_at")
    list_filter = ("provider",)
    search_fields = ("uid", "email", "user__email")
    readonly_fields = ("id", "user", "provider", "uid", "email", "extra_data", "created_at")
    list_select_related = ("user",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(EventInterest)
class EventInterestAdmin(admin.ModelAdmin):
    list_display = ("name", "name_ar", "slug", "position", "is_active")
    list_editable = ("position", "is_active")
    search_fields = ("name", "name_ar", "slug")
    prepopulated_fields = {"slug": ("name",)}
