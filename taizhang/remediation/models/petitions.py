"""Petitions and complaints (信访) linked to a target."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from taizhang.ledger.models import Target


class Petition(models.Model):
    """A complaint about a target, its handling and reply; may be flagged as a stability risk."""

    class Channel(models.TextChoices):
        LETTER = "letter", _("letter")
        VISIT = "visit", _("visit")
        PHONE = "phone", _("phone (12345)")
        ONLINE = "online", _("online")

    class Status(models.TextChoices):
        RECEIVED = "received", _("received")
        HANDLING = "handling", _("being handled")
        REPLIED = "replied", _("replied")
        # "closed" alone is a target's state (已销账); a petition is closed in another sense.
        CLOSED = "closed", pgettext_lazy("petition status", "closed")

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="petitions")
    petitioner = models.CharField(_("petitioner"), max_length=200)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel)
    received_on = models.DateField(_("received on"))
    content = models.TextField(_("content"))
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.RECEIVED)
    reply = models.TextField(_("reply"), blank=True)
    replied_on = models.DateField(_("replied on"), null=True, blank=True)
    stability_risk = models.BooleanField(_("stability risk"), default=False)

    class Meta:
        ordering = ["target", "-received_on", "-id"]
        verbose_name = _("petition")

    def __str__(self):
        return "%s · %s" % (self.target, self.petitioner)
