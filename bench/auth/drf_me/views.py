"""GET /api/auth/me as the template seed would write it: a ModelSerializer with camelCase
field names, nested interests and pictures, the same envelope keys as Tessera's reply."""

from datetime import UTC, datetime
from typing import Any

from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from tessera.accounts.models import EventInterest, ProfilePicture, User


class EventInterestSerializer(serializers.ModelSerializer):
    nameAr = serializers.CharField(source="name_ar")  # noqa: N815

    class Meta:
        model = EventInterest
        fields = ("id", "slug", "name", "nameAr")


class FileRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    purpose = serializers.CharField()
    status = serializers.CharField()
    contentType = serializers.CharField(source="content_type")  # noqa: N815
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)


class MeSerializer(serializers.ModelSerializer):
    emailVerified = serializers.SerializerMethodField()  # noqa: N815
    phoneNumber = serializers.CharField(source="phone_number", allow_null=True)  # noqa: N815
    phoneVerified = serializers.SerializerMethodField()  # noqa: N815
    role = serializers.SerializerMethodField()
    birthDate = serializers.DateField(source="birth_date", allow_null=True)  # noqa: N815
    gender = serializers.SerializerMethodField()
    eventInterests = EventInterestSerializer(source="interests", many=True)  # noqa: N815
    avatar = FileRefSerializer(allow_null=True)
    profilePictures = serializers.SerializerMethodField()  # noqa: N815
    needsProfileCompletion = serializers.BooleanField(source="needs_profile_completion")  # noqa: N815
    hasPassword = serializers.SerializerMethodField()  # noqa: N815
    dateJoined = serializers.DateTimeField(source="date_joined")  # noqa: N815

    class Meta:
        model = User
        fields = (
            "id",
            "email",
            "emailVerified",
            "phoneNumber",
            "phoneVerified",
            "name",
            "language",
            "role",
            "birthDate",
            "gender",
            "bio",
            "location",
            "eventInterests",
            "avatar",
            "profilePictures",
            "needsProfileCompletion",
            "hasPassword",
            "dateJoined",
        )

    def get_emailVerified(self, user: User) -> bool:  # noqa: N802
        return user.email_verified_at is not None

    def get_phoneVerified(self, user: User) -> bool:  # noqa: N802
        return user.phone_verified_at is not None

    def get_role(self, user: User) -> str:
        return "admin" if user.is_superuser else "staff" if user.is_staff else "user"

    def get_gender(self, user: User) -> str | None:
        return user.gender or None

    def get_profilePictures(self, user: User) -> list[Any]:  # noqa: N802
        pictures = ProfilePicture.objects.filter(user=user).select_related("file")
        return FileRefSerializer([p.file for p in pictures.order_by("position")], many=True).data

    def get_hasPassword(self, user: User) -> bool:  # noqa: N802
        return user.has_usable_password()


class MeView(APIView):
    def get(self, request: Any) -> Response:
        return Response(
            {
                "status": "success",
                "data": MeSerializer(request.user).data,
                "message": "OK",
                "timestamp": datetime.now(tz=UTC).isoformat().replace("+00:00", "Z"),
            }
        )
