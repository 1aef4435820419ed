"""The target's timeline: one event per workflow step (remediation.workflow takes them)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taizhang.ledger.models import Target


class TransitionEvent(models.Model):
    """One step of a target along the workflow: who moved it, when, from where to where, why."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(_("from"), max_length=24, choices=Target.State)
    to_state = models.CharField(_("to"), max_length=24, choices=Target.State)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("time"), default=timezone.now)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        # Kept from when the ledger owned it (moved by state only: no row was copied).
        db_table = "ledger_transitionevent"
        ordering = ["target", "at", "id"]
        indexes = [models.Index(fields=["to_state", "at"], name="transition_to_state_idx")]
        verbose_name = _("transition")

    def __str__(self):
        return "%s: %s → %s" % (self.target_id, self.from_state, self.to_state)
