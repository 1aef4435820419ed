from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentConfig(AppConfig):
    name = "taizhang.assessment"
    verbose_name = _("assessment")

    def ready(self):
        from . import snapshots  # noqa: F401  (what the change log records of commendations)
