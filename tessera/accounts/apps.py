from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tessera.accounts"
    label = "accounts"
    verbose_name = "Accounts"
