"""Sentry, only when SENTRY_DSN is set."""

from config.settings.env import env

SENTRY_DSN = env.str("SENTRY_DSN", default="")

if SENTRY_DSN:  # pragma: no cover - needs a DSN
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="development"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        send_default_pii=False,
        integrations=[DjangoIntegration(), CeleryIntegration()],
    )
