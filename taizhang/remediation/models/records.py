"""People and money, pilots' lessons, and photos."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from taizhang.ledger.models import Target


class Outcome(models.Model):
    """People and money for a target, measured at verification and again at acceptance."""

    class Stage(models.TextChoices):
        VERIFICATION = "verification", _("at verification")
        ACCEPTANCE = "acceptance", _("at acceptance")

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="outcomes")
    stage = models.CharField(_("measured"), max_length=16, choices=Stage)
    tenants_cleared = models.PositiveIntegerField(_("tenants cleared"), default=0)
    people_moved = models.PositiveIntegerField(_("people moved out"), default=0)
    people_employed = models.PositiveIntegerField(_("people helped into work (就业)"), default=0)
    funds_paid = models.DecimalField(_("funds paid (元)"), max_digits=14, decimal_places=2, default=Decimal(0),
                                     validators=[MinValueValidator(Decimal(0))])
    demolished_area = models.DecimalField(_("illegal floor area demolished (m²)"), max_digits=12, decimal_places=2,
                                          default=Decimal(0), validators=[MinValueValidator(Decimal(0))])
    land_recovered = models.DecimalField(_("land recovered (m²)"), max_digits=12, decimal_places=2,
                                         default=Decimal(0), validators=[MinValueValidator(Decimal(0))])
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        ordering = ["target", "stage"]
        constraints = [
            models.UniqueConstraint(fields=["target", "stage"], name="outcome_stage_unique"),
            models.CheckConstraint(condition=models.Q(funds_paid__gte=0) & models.Q(demolished_area__gte=0)
                                   & models.Q(land_recovered__gte=0), name="outcome_not_negative",
                                   violation_error_message=_("Amounts cannot be negative.")),
        ]
        verbose_name = _("people and money")

    def __str__(self):
        return "%s · %s" % (self.target, self.get_stage_display())


class PilotLesson(models.Model):
    """Lessons learned (经验教训) from a pilot target, before scaling out."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="lessons")
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("lessons"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        ordering = ["target", "-recorded_at"]
        verbose_name = _("pilot lesson")

    def __str__(self):
        return self.title


class Photo(models.Model):
    """A photo taken on site; stored outside the static root, served only through the scoped view."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="photos")
    verification = models.ForeignKey("remediation.Verification", null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="photos")
    acceptance = models.ForeignKey("remediation.Acceptance", null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="photos")
    file = models.FileField(upload_to="photos/%Y/%m/")
    # A small JPEG made once on upload (photos.thumbnail_bytes); list pages send this, never the file.
    thumbnail = models.FileField(upload_to="photos/thumbnails/%Y/%m/", blank=True)
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    taken_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    taken_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["target", "uploaded_at"]
        verbose_name = _("photo")

    def __str__(self):
        return self.file.name
