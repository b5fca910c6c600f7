from tessera.payments.tests.fixtures import _payments_settings, handler, sandbox_wire

__all__ = ["_payments_settings", "handler", "sandbox_wire"]
