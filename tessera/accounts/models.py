"""The one user model every product shares, its sign-in sessions, one-time codes and linked
GitHub/Google accounts. Sign-up and login flows live in services."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tessera.accounts.authcache import auth_cache_invalidate
from tessera.core.models import BaseModel
from tessera.files.fields import StoredFileField
from tessera.files.purposes import Purpose as FilePurpose


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    NON_BINARY = "non_binary", _("Non-binary")
    PREFER_NOT_TO_SAY = "prefer_not_to_say", _("Prefer not to say")


class EventInterest(BaseModel):
    """A kind of event people pick on their profile (Loopin's 1 to 5 interests)."""

    slug = models.SlugField(max_length=50, unique=True, verbose_name=_("slug"))
    name = models.CharField(max_length=100, verbose_name=_("name"))
    name_ar = models.CharField(
        max_length=100, blank=True, default="", verbose_name=_("Arabic name")
    )
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))

    class Meta:
        verbose_name = _("event interest")
        verbose_name_plural = _("event interests")
        ordering = ("position", "name")

    def __str__(self) -> str:
        return self.name


# What a user copied into the authentication cache holds instead of the password hash: enough
# for `has_usable_password()`, never a match for `check_password()`.
CACHED_USABLE_PASSWORD = "cached$usable"  # noqa: S105 - a marker, not a password
CACHED_PASSWORD_MARKERS = frozenset({CACHED_USABLE_PASSWORD, "!cached"})


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(
        self, *, email: str | None, phone_number: str | None, password: str | None, **extra: Any
    ) -> User:
        user = self.model(
            email=self.normalize_email(email) if email else None,
            phone_number=phone_number or None,
            **extra,
        )
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(
        self,
        email: str | None = None,
        password: str | None = None,
        *,
        phone_number: str | None = None,
        **extra: Any,
    ) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email=email, phone_number=phone_number, password=password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create(email=email, phone_number=None, password=password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)


class User(BaseModel, AbstractBaseUser, PermissionsMixin):
    """A person. Email and phone number are both optional, each unique when set."""

    # NULL, not "", when absent: unique columns admit any number of NULLs.
    email = models.EmailField(
        max_length=254, unique=True, null=True, blank=True, verbose_name=_("email")
    )
    phone_number = models.CharField(
        max_length=16,
        unique=True,
        null=True,
        blank=True,
        help_text="E.164, for example +27821234567.",
        verbose_name=_("phone number"),
    )
    name = models.CharField(max_length=100, blank=True, default="", verbose_name=_("name"))
    language = models.CharField(
        max_length=8,
        choices=settings.LANGUAGES,
        default="en",
        help_text="Language for messages sent to this user.",
        verbose_name=_("language"),
    )
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))
    is_staff = models.BooleanField(default=False, verbose_name=_("is staff"))
    date_joined = models.DateTimeField(default=timezone.now, verbose_name=_("date joined"))
    email_verified_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("email verified at")
    )
    phone_verified_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("phone verified at")
    )
    birth_date = models.DateField(null=True, blank=True, verbose_name=_("birth date"))
    gender = models.CharField(
        max_length=20, choices=Gender.choices, blank=True, default="", verbose_name=_("gender")
    )
    bio = models.CharField(max_length=500, blank=True, default="", verbose_name=_("bio"))
    location = models.CharField(max_length=100, blank=True, default="", verbose_name=_("location"))
    interests = models.ManyToManyField(
        EventInterest, blank=True, related_name="users", verbose_name=_("interests")
    )
    avatar = StoredFileField(purpose=FilePurpose.AVATAR, verbose_name=_("avatar"))
    profile_completed_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("profile completed at")
    )
    deleted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set when the account was deleted and anonymised.",
        verbose_name=_("deleted at"),
    )

    # The sign-in session of the access token this request came with (set by the verifier).
    auth_session_id: uuid.UUID | None = None
    # The authentication cache's generation for this user and the /me reply it held
    # (`authcache`), so GET /me needs no second cache read.
    auth_generation: str = ""
    auth_cached_me: dict[str, Any] | None = None

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_unique_ci",
                condition=models.Q(email__isnull=False),
                violation_error_message="A user with this email already exists.",
            ),
            models.CheckConstraint(
                condition=~models.Q(email=""), name="accounts_user_email_not_blank"
            ),
            models.CheckConstraint(
                condition=~models.Q(phone_number=""), name="accounts_user_phone_not_blank"
            ),
            models.CheckConstraint(
                condition=models.Q(gender__in=["", *Gender.values]),
                name="accounts_user_gender_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.email or self.phone_number or str(self.pk)

    def clean(self) -> None:
        super().clean()
        if self.email == "":
            self.email = None
        if self.phone_number == "":
            self.phone_number = None

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.password in CACHED_PASSWORD_MARKERS:
            # A copy from the authentication cache carries no password hash: never write
            # its marker over the real one.
            fields = kwargs.get("update_fields")
            if fields is None:
                fields = [f.name for f in self._meta.concrete_fields if not f.primary_key]
            kwargs["update_fields"] = [name for name in fields if name != "password"]
        super().save(*args, **kwargs)
        # Cached copies of this user (authenticated requests) must not outlive a change.
        auth_cache_invalidate(self.pk)

    @property
    def needs_profile_completion(self) -> bool:
        return self.profile_completed_at is None


class ProfilePicture(BaseModel):
    """One of a user's 1 to 6 profile pictures (Loopin), in the order they chose."""

    MAX_PER_USER = 6

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="profile_pictures",
        verbose_name=_("user"),
    )
    file = StoredFileField(
        purpose=FilePurpose.PROFILE_PICTURE,
        on_delete=models.CASCADE,
        null=False,
        blank=False,
        verbose_name=_("file"),
    )
    position = models.PositiveSmallIntegerField(verbose_name=_("position"))

    class Meta:
        verbose_name = _("profile picture")
        verbose_name_plural = _("profile pictures")
        ordering = ("user", "position")
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["user", "position"], name="accounts_profile_picture_position"
            ),
            models.UniqueConstraint(fields=["file"], name="accounts_profile_picture_file"),
            models.CheckConstraint(
                condition=models.Q(position__lt=6), name="accounts_profile_picture_at_most_six"
            ),
        ]

    def __str__(self) -> str:
        return f"picture {self.position} of {self.user_id}"


class AuthSession(BaseModel):
    """One signed-in device: a family of refresh tokens, each replacing the one before.

    Access tokens name their session (`sid`), so ending a session ends its access tokens
    too. A refresh token presented twice ends the whole family (reuse detection).
    """

    class EndReason(models.TextChoices):
        LOGOUT = "logout", _("Logged out")
        LOGOUT_ALL = "logout_all", _("Logged out everywhere")
        ENDED_BY_USER = "ended_by_user", _("Ended from the sessions list")
        REFRESH_REUSE = "refresh_reuse", _("Refresh token reused")
        PASSWORD_CHANGED = "password_changed", _("Password changed or reset")
        ADMIN = "admin", _("Ended by an administrator")
        ACCOUNT_DELETED = "account_deleted", _("Account deleted")
        ACCOUNT_LINKED = "account_linked", _("Social account linked to an unverified email")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="auth_sessions",
        verbose_name=_("user"),
    )
    method = models.CharField(
        max_length=30, help_text="How the session signed in.", verbose_name=_("method")
    )
    device = models.CharField(max_length=200, blank=True, default="", verbose_name=_("device"))
    ip_address = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("IP address"))
    last_used_at = models.DateTimeField(default=timezone.now, verbose_name=_("last used at"))
    expires_at = models.DateTimeField(
        help_text="When its newest refresh token expires.", verbose_name=_("expires at")
    )
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))
    revoked_reason = models.CharField(
        max_length=30,
        choices=EndReason.choices,
        blank=True,
        default="",
        verbose_name=_("revoked reason"),
    )

    class Meta:
        verbose_name = _("sign-in session")
        verbose_name_plural = _("sign-in sessions")
        ordering = ("-last_used_at",)
        indexes: ClassVar[list[Any]] = [
            models.Index(
                fields=["user", "-last_used_at"],
                name="auth_session_user_active_idx",
                condition=models.Q(revoked_at__isnull=True),
            ),
            models.Index(fields=["expires_at"], name="auth_session_expires_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.method} session of {self.user_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class RefreshToken(BaseModel):
    """One refresh token of a session, stored as the SHA-256 of its random value."""

    session = models.ForeignKey(
        AuthSession, on_delete=models.CASCADE, related_name="tokens", verbose_name=_("session")
    )
    token_hash = models.CharField(max_length=64, unique=True, verbose_name=_("token hash"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    used_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was rotated.", verbose_name=_("used at")
    )

    class Meta:
        verbose_name = _("refresh token")
        verbose_name_plural = _("refresh tokens")
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["session", "-created_at"], name="refresh_token_session_idx"),
        ]

    def __str__(self) -> str:
        return f"refresh token {self.pk} of session {self.session_id}"


class VerificationCode(BaseModel):
    """A one-time code or token sent to a phone number or email address, stored hashed.

    Phone codes are short, so their hash is keyed (HMAC with the secret key): a copy of the
    table alone does not give them away. Reset tokens are long random strings.
    """

    class Purpose(models.TextChoices):
        PHONE_SIGNUP = "phone_signup", _("Phone sign-up")
        PHONE_LOGIN = "phone_login", _("Phone login")
        EMAIL_VERIFY = "email_verify", _("Email verification")
        PASSWORD_RESET = "password_reset", _("Password reset")
        EMAIL_CHANGE = "email_change", _("Email change")
        PHONE_CHANGE = "phone_change", _("Phone number change")
        ACCOUNT_DELETE = "account_delete", _("Account deletion")

    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        USED = "used", _("Used")
        BURNED = "burned", _("Too many wrong tries")
        SUPERSEDED = "superseded", _("Replaced by a newer code")

    purpose = models.CharField(max_length=20, choices=Purpose.choices, verbose_name=_("purpose"))
    target = models.CharField(
        max_length=254, help_text="E.164 number or lower-cased email.", verbose_name=_("target")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="verification_codes",
        verbose_name=_("user"),
    )
    code_hash = models.CharField(max_length=64, db_index=True, verbose_name=_("code hash"))
    state = models.CharField(
        max_length=12, choices=State.choices, default=State.ACTIVE, verbose_name=_("state")
    )
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("used at"))
    delivered = models.BooleanField(
        default=True,
        help_text="False when nothing was sent (a login code for a number with no account).",
        verbose_name=_("delivered"),
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("IP address"))

    class Meta:
        verbose_name = _("verification code")
        verbose_name_plural = _("verification codes")
        ordering = ("-created_at",)
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["target", "purpose", "-created_at"], name="verif_code_target_idx"),
        ]
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(
                condition=models.Q(state__in=["active", "used", "burned", "superseded"]),
                name="accounts_verification_code_state_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="used") | models.Q(used_at__isnull=False),
                name="accounts_verification_code_used_has_used_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} code for {self.target} ({self.state})"


class SocialAccount(BaseModel):
    """A GitHub or Google identity linked to a user."""

    class Provider(models.TextChoices):
        GITHUB = "github", _("GitHub")
        GOOGLE = "google", _("Google")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="social_accounts",
        verbose_name=_("user"),
    )
    provider = models.CharField(max_length=20, choices=Provider.choices, verbose_name=_("provider"))
    uid = models.CharField(
        max_length=255, help_text="The provider's id for the person.", verbose_name=_("UID")
    )
    email = models.EmailField(max_length=254, blank=True, default="", verbose_name=_("email"))
    extra_data = models.JSONField(default=dict, blank=True, verbose_name=_("extra data"))
    last_login_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last login at"))

    class Meta:
        verbose_name = _("linked account")
        verbose_name_plural = _("linked accounts")
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["provider", "uid"], name="accounts_social_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.uid}"
