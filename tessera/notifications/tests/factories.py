from __future__ import annotations

import factory

from tessera.notifications.models import (
    Channel,
    Delivery,
    Notification,
    NotificationPreference,
    NotificationTemplate,
)


class NotificationTemplateFactory(factory.django.DjangoModelFactory[NotificationTemplate]):
    class Meta:
        model = NotificationTemplate

    key = factory.Sequence(lambda n: f"test.kind{n}")
    channel = Channel.EMAIL
    language = "en"
    subject = "Hello {{ name }}"
    body = "Body for {{ name }}"


class NotificationFactory(factory.django.DjangoModelFactory[Notification]):
    class Meta:
        model = Notification

    kind = "event.invite"
    title = factory.Sequence(lambda n: f"Notification {n}")
    body = "Something happened."
    data = factory.LazyFunction(dict)


class NotificationPreferenceFactory(factory.django.DjangoModelFactory[NotificationPreference]):
    class Meta:
        model = NotificationPreference

    kind = "*"
    channel = Channel.EMAIL
    enabled = False


class DeliveryFactory(factory.django.DjangoModelFactory[Delivery]):
    class Meta:
        model = Delivery

    kind = "otp.code"
    channel = Channel.SMS
    recipient = "+27821234567"
    body = "Your code is 123456."
    critical = True
