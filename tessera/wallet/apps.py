from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WalletConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tessera.wallet"
    label = "wallet"
    verbose_name = _("Wallet")

    def ready(self) -> None:
        from tessera.core.deletion import deletion_check_register
        from tessera.core.exports import export_contributor_register
        from tessera.payments.hooks import register
        from tessera.wallet import metrics  # noqa: F401 - registers the collectors
        from tessera.wallet.export import account_export
        from tessera.wallet.handlers import (
            DEPOSIT_PURPOSE,
            WITHDRAWAL_PURPOSE,
            WalletDeposits,
            WalletWithdrawals,
        )
        from tessera.wallet.selectors import account_deletion_check

        register(DEPOSIT_PURPOSE, WalletDeposits())
        register(WITHDRAWAL_PURPOSE, WalletWithdrawals())
        export_contributor_register("wallet", account_export)
        deletion_check_register("wallet", account_deletion_check)
