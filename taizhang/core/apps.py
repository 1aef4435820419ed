from datetime import timedelta

from django.apps import AppConfig
from django.db.models import fields
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "taizhang.core"
    label = "core"

    def ready(self):
        # Every dropdown's empty choice (Django's own "- Select an option -", not yet in its
        # Chinese catalog) in words of ours, which our catalog translates. Django reads the
        # label when it builds a choice list, so this holds for every form.
        fields.BLANK_CHOICE_LABEL = _("— choose —")

        # Core's own sweep: send the e-mails and webhook posts that are due (and retry failures).
        from .deliveries import deliveries_send
        from .sweeps import records_prune, sweep_register

        sweep_register("deliveries", deliveries_send, every=timedelta(minutes=1), label=_("Send e-mails and webhooks"))
        sweep_register("housekeeping", records_prune, every=timedelta(days=1), label=_("Forget old runs and tasks"))
