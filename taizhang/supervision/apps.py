from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "taizhang.supervision"
    verbose_name = _("supervision")

    def ready(self):
        from datetime import timedelta

        from taizhang.core.changelog import replay_register
        from taizhang.core.sweeps import sweep_register

        from . import notices
        from .escalation import orders_sweep
        from .snapshots import ORDER, stored_order_ids, stored_orders

        replay_register(ORDER.object_type, stored=stored_orders, stored_ids=stored_order_ids)
        notices.register()
        # Hourly: a reminder falls due on a day, and a missed run is caught up by the next.
        sweep_register("orders", orders_sweep, every=timedelta(hours=1), label=_("Supervision orders: reminders "
                                                                                 "and referrals"))
