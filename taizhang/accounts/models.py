"""Who belongs to which unit, in which role; a user's profile; a sheet of users being imported."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from taizhang.campaigns.models import Campaign, OrgUnit


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
    # The unit's head (负责人): sees the unit's performance record (实绩档案) besides their own.
    is_head = models.BooleanField(_("head of the unit"), default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "role"], name="membership_unique"),
        ]
        verbose_name = _("membership")

    def __str__(self):
        return "%s · %s · %s" % (self.user, self.unit, self.get_role_display())


class Profile(models.Model):
    """What Taizhang keeps of a user beside Django's account: a phone, and whether the next
    login must first set a new password (after a reset, or a temporary password)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                related_name="profile")
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    must_change_password = models.BooleanField(_("must set a new password"), default=False)
    password_changed_at = models.DateTimeField(_("password set"), null=True, blank=True)

    class Meta:
        verbose_name = _("profile")

    def __str__(self):
        return str(self.user)


class UserImportUpload(models.Model):
    """A sheet of users uploaded for import, kept between its dry run and its application."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(_("file name"), max_length=255)
    data = models.BinaryField()
    # user name -> [id, name, phone, active] of each account the file names as its dry run saw
    # it (None: no such account then): applying refuses a row whose account changed since.
    seen = models.JSONField(default=dict)
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)

    class Meta:
        verbose_name = _("uploaded sheet of users")

    def __str__(self):
        return self.filename
