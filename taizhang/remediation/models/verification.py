"""The daily work on a target: joint verification on site (核查) and its tenants."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from taizhang.core.coordinates import CoordinateSystem
from taizhang.ledger.models import Target


class Verification(models.Model):
    """A joint on-site record by the street sub-command and the rights holder; counts once both confirm."""

    class LandRights(models.TextChoices):
        COLLECTIVE = "collective", _("collective land")
        STATE = "state", _("state-owned land")

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="verifications")
    land_rights = models.CharField(_("land rights"), max_length=16, choices=LandRights, blank=True)
    land_rights_holder = models.CharField(_("land-rights holder"), max_length=200, blank=True)
    rented_floor_area = models.DecimalField(_("rented floor area (m²)"), max_digits=12, decimal_places=2,
                                            null=True, blank=True, validators=[MinValueValidator(Decimal(0))])
    resident_population = models.PositiveIntegerField(_("resident population"), null=True, blank=True)
    business_count = models.PositiveIntegerField(_("businesses"), null=True, blank=True)
    hazards = models.TextField(_("hazards"), blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    # A phone's or a GPS's reading is WGS-84; a point copied from 高德 or 腾讯 maps GCJ-02, from 百度 BD-09.
    coordinate_system = models.CharField(
        _("coordinate system"), max_length=8, choices=CoordinateSystem, default=CoordinateSystem.WGS84,
        help_text=_("WGS-84 for a phone's or a GPS's reading; GCJ-02 for a point copied from 高德 or 腾讯 maps; "
                    "BD-09 from 百度."))
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    street_confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                            on_delete=models.PROTECT, related_name="+")
    street_confirmed_at = models.DateTimeField(null=True, blank=True)
    holder_confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                            on_delete=models.PROTECT, related_name="+")
    holder_confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["target", "-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rented_floor_area__gte=0) | models.Q(rented_floor_area__isnull=True),
                name="verification_area_not_negative",
                violation_error_message=_("Rented floor area cannot be negative.")),
        ]
        verbose_name = _("verification")

    def __str__(self):
        return "%s · %s" % (self.target, self.created_at)

    @property
    def confirmed(self) -> bool:
        return self.street_confirmed_at is not None and self.holder_confirmed_at is not None


class Tenant(models.Model):
    """Someone renting on the site, as found by a verification."""

    class Kind(models.TextChoices):
        PERSON = "person", _("individual")
        BUSINESS = "business", _("business")

    verification = models.ForeignKey(Verification, on_delete=models.CASCADE, related_name="tenants")
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind, default=Kind.PERSON)
    lease_ends_on = models.DateField(_("lease ends"), null=True, blank=True)
    people = models.PositiveIntegerField(_("people"), default=0)

    class Meta:
        ordering = ["verification", "id"]
        verbose_name = _("tenant")

    def __str__(self):
        return self.name
