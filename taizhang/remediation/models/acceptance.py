"""Acceptance of the work (验收) and re-inspections against rebound (长效管控)."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from taizhang.ledger.models import Target


class Acceptance(models.Model):
    """The HQ office's check of reported completion; a failure sends the target back with reasons."""

    class Decision(models.TextChoices):
        PASSED = "passed", _("passed")
        FAILED = "failed", _("failed")

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="acceptances")
    tenants_cleared = models.BooleanField(_("tenants cleared"), default=False)
    structures_demolished = models.BooleanField(_("structures demolished"), default=False)
    demolished_area = models.DecimalField(_("demolished area (m²)"), max_digits=12, decimal_places=2, null=True,
                                          blank=True, validators=[MinValueValidator(Decimal(0))])
    site_cleaned = models.BooleanField(_("site cleaned"), default=False)
    land_returned = models.BooleanField(_("land returned"), default=False)
    decision = models.CharField(_("decision"), max_length=16, choices=Decision)
    reasons = models.TextField(_("reasons"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided"), auto_now_add=True)

    class Meta:
        ordering = ["target", "-decided_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(demolished_area__gte=0) | models.Q(demolished_area__isnull=True),
                name="acceptance_area_not_negative",
                violation_error_message=_("Demolished area cannot be negative.")),
        ]
        verbose_name = _("acceptance")

    def __str__(self):
        return "%s · %s" % (self.target, self.get_decision_display())


class Inspection(models.Model):
    """A scheduled re-inspection of a closed target; a failed one means rebound."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="inspections")
    due_on = models.DateField(_("due on"))
    done_on = models.DateField(_("done on"), null=True, blank=True)
    passed = models.BooleanField(_("passed"), null=True, blank=True)
    findings = models.TextField(_("findings"), blank=True)
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")

    class Meta:
        ordering = ["target", "due_on", "id"]
        indexes = [models.Index(fields=["done_on", "due_on"], name="inspection_due_idx")]
        verbose_name = _("re-inspection")

    def __str__(self):
        return "%s · %s" % (self.target, self.due_on)
