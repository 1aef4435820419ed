from django.apps import AppConfig


class RemediationConfig(AppConfig):
    name = "taizhang.remediation"
    label = "remediation"

    def ready(self):
        # The declarations of what the change log records of each remediation record: a
        # target's history page (in the ledger, which cannot import remediation) reads them.
        from . import snapshots  # noqa: F401
