from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class RemediationConfig(AppConfig):
    name = "taizhang.remediation"
    label = "remediation"

    def ready(self):
        # The declarations of what the change log records of each remediation record: a
        # target's history page (in the ledger, which cannot import remediation) reads them.
        from datetime import timedelta

        from taizhang.core.sweeps import sweep_register

        from . import reminders, snapshots  # noqa: F401

        reminders.register()
        sweep_register("inspections", reminders.inspections_sweep, every=timedelta(hours=6),
                       label=gettext_lazy("Re-inspections due: the streets told"))
