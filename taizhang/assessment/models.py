"""What goes into a cadre's performance record (实绩档案) beside the orders and the outcomes
of referrals, which supervision keeps: the HQ office's commendations."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from taizhang.campaigns.models import Campaign, OrgUnit
from taizhang.supervision.models import Order


class Commendation(models.Model):
    """A commendation recorded by the HQ office for a person of a unit (speech: 推进有力、成效显著的，
    组织部门要将有关成绩纳入干部的实绩档案), perhaps for one order."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="commendations")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="commendations",
                               verbose_name=_("person"))
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="commendations", verbose_name=_("unit"))
    text = models.TextField(_("for what"))
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT, related_name="commendations",
                              verbose_name=_("supervision order"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = _("commendation")

    def __str__(self):
        return "%s: %s" % (self.person_id, self.text[:20])
