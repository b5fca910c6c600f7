"""Demo events for `make run` (idempotent): a few public events hosted by the demo user,
one of them paid, one the Arabic demo user already has a ticket for."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tessera.accounts.selectors import user_get_by_email
from tessera.events import services
from tessera.events.models import Event

DEMO_MARK = "[demo]"


def load() -> int:
    demo = user_get_by_email(email="demo@tessera.local")
    amal = user_get_by_email(email="amal@tessera.local")
    if (
        demo is None
        or amal is None
        or Event.objects.filter(host=demo, description__startswith=DEMO_MARK).exists()
    ):
        return 0
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    garden = services.venue_create(
        owner=demo,
        name="Company's Garden",
        address="Queen Victoria St, Cape Town",
        latitude=-33.9267,
        longitude=18.4170,
        capacity=300,
    )
    hall = services.venue_create(
        owner=demo,
        name="Old Biscuit Mill",
        address="373 Albert Rd, Woodstock",
        latitude=-33.9275,
        longitude=18.4573,
        capacity=120,
    )
    specs = [
        ("Jazz in the garden", garden, 3, 150, None, False),
        ("Street food market", hall, 5, 100, None, False),
        ("Design talk: cities for people", hall, 9, 80, "150.00", False),
        ("Sunset picnic", garden, 12, 40, None, True),
    ]
    created = 2
    for title, venue, days, capacity, price, approval in specs:
        event = services.event_create(
            host=demo,
            title=title,
            description=f"{DEMO_MARK} {title}, hosted by the demo user.",
            starts_at=now + timedelta(days=days, hours=18 - now.hour),
            ends_at=now + timedelta(days=days, hours=21 - now.hour),
            timezone_name="Africa/Johannesburg",
            capacity=capacity,
            venue_id=venue.pk,
            price=price,
            currency="ZAR" if price else None,
            requires_approval=approval,
        )
        services.event_publish(host=demo, event_id=event.pk)
        created += 1
        if title == "Jazz in the garden":
            services.request_create(user=amal, event_id=event.pk)
            created += 1
    return created
