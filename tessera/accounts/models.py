"""The one user model every product shares. Sign-up and login flows live in services."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from tessera.core.models import BaseModel


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
    email = models.EmailField(max_length=254, unique=True, null=True, blank=True)
    phone_number = models.CharField(
        max_length=16,
        unique=True,
        null=True,
        blank=True,
        help_text="E.164, for example +27821234567.",
    )
    name = models.CharField(max_length=100, blank=True, default="")
    language = models.CharField(
        max_length=8,
        choices=settings.LANGUAGES,
        default="en",
        help_text="Language for messages sent to this user.",
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
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
        ]

    def __str__(self) -> str:
        return self.email or self.phone_number or str(self.pk)

    def clean(self) -> None:
        super().clean()
        if self.email == "":
            self.email = None
        if self.phone_number == "":
            self.phone_number = None
