from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "taizhang.supervision"
    verbose_name = _("supervision")

    def ready(self):
        from . import snapshots  # noqa: F401  (what the change log records of orders)
