"""Who belongs to which unit, in which role."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from taizhang.campaigns.models import OrgUnit


class Membership(models.Model):
    """A user's role in one org unit; the scoping rule reads nothing else."""

    class Role(models.TextChoices):
        LEADER = "leader", _("command leader")
        OFFICE = "office", _("HQ office")
        GROUP = "group", _("working-group member")
        STREET = "street", _("street sub-command staff")
        UNIT = "unit", _("rights-unit staff")
        DISCIPLINE = "discipline", _("discipline inspection")
        LIAISON = "liaison", _("liaison leader")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "role"], name="membership_unique"),
        ]
        verbose_name = _("membership")

    def __str__(self):
        return "%s · %s · %s" % (self.user, self.unit, self.get_role_display())
