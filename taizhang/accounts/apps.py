from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "taizhang.accounts"
    label = "accounts"

    def ready(self):
        # What the change log records of accounts and memberships, for the pages that show it.
        from . import snapshots  # noqa: F401
