"""The ledger: one row per target (整治对象)."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taizhang.accounts.scoping import editable_q, visible_q
from taizhang.campaigns.models import Campaign, OrgUnit, TargetType
from taizhang.core.coordinates import CoordinateSystem


class TargetQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(visible_q(user))

    def editable_by(self, user):
        return self.filter(editable_q(user))


class Target(models.Model):
    """A site to clear: exactly one street and one ownership system."""

    class State(models.TextChoices):
        REGISTERED = "registered", _("registered")
        VERIFIED = "verified", _("verified")
        PLAN_APPROVED = "plan_approved", _("plan approved")
        IN_REMEDIATION = "in_remediation", _("in remediation")
        COMPLETION_REPORTED = "completion_reported", _("completion reported")
        CLOSED = "closed", _("closed")
        REBOUND = "rebound", _("rebound")
        ON_HOLD = "on_hold", _("on hold")

    class Flag(models.TextChoices):
        """Situations the priority rules look at (the speech's safety angle and major projects)."""

        BLOCKS_MAJOR_PROJECT = "blocks_major_project", _("blocks a major project")
        INSTABILITY = "instability", _("instability")
        SAFETY_HAZARD = "safety_hazard", _("major safety hazard")
        ENVIRONMENT = "environment", _("environmental mess")
        PETITION_RISK = "petition_risk", _("petition flagged as a stability risk")

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="targets")
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=200)
    target_type = models.ForeignKey(
        TargetType, on_delete=models.PROTECT, related_name="targets", verbose_name=_("type"))
    street = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="street_targets",
        limit_choices_to={"kind": OrgUnit.Kind.STREET}, verbose_name=_("street"))
    community = models.CharField(_("community"), max_length=100, blank=True)
    system = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="system_targets",
        limit_choices_to={"kind": OrgUnit.Kind.SYSTEM}, verbose_name=_("ownership system"))
    land_rights_unit = models.CharField(_("land-rights unit"), max_length=200, blank=True)
    property_rights_unit = models.CharField(_("property-rights unit"), max_length=200, blank=True)
    responsible_unit = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="unit_targets",
        limit_choices_to={"kind": OrgUnit.Kind.RIGHTS_UNIT}, verbose_name=_("responsible unit"))
    address = models.CharField(_("address"), max_length=300, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    # The system the longitude and latitude are given in (a GPS's, 高德's, 百度's): kept as
    # given; a map converts (core.coordinates).
    coordinate_system = models.CharField(_("coordinate system"), max_length=8, choices=CoordinateSystem,
                                         default=CoordinateSystem.WGS84)
    land_area = models.DecimalField(
        _("land area (m²)"), max_digits=12, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal(0))])
    rented_floor_area = models.DecimalField(
        _("rented floor area (m²)"), max_digits=12, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal(0))])
    resident_population = models.PositiveIntegerField(_("resident population"), null=True, blank=True)
    business_count = models.PositiveIntegerField(_("businesses"), null=True, blank=True)
    hazards = models.TextField(_("hazards"), blank=True)
    priority_tags = models.CharField(_("priority tags"), max_length=300, blank=True)
    is_pilot = models.BooleanField(_("pilot"), default=False)
    registered_on = models.DateField(_("registered on"), null=True, blank=True)
    flags = models.JSONField(_("situation flags"), default=list, blank=True)
    # Derived from the preset's priority rules by ledger.priorities; stored to filter and sort.
    priority_reasons = models.JSONField(_("priority reasons"), default=list, blank=True)
    priority_rank = models.PositiveSmallIntegerField(_("priority"), default=0)
    state = models.CharField(_("state"), max_length=24, choices=State, default=State.REGISTERED)
    # On hold: the state to return to, why, and when to look again.
    held_from = models.CharField(_("held from"), max_length=24, choices=State, blank=True)
    hold_reason = models.TextField(_("reason for hold"), blank=True)
    hold_review_on = models.DateField(_("review hold on"), null=True, blank=True)
    # Bumped by every write; an import row carrying an older version is a conflict.
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = TargetQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "code"], name="target_code_unique",
                                    violation_error_message=_("This code is already in the ledger.")),
            models.CheckConstraint(
                condition=models.Q(land_area__gte=0) | models.Q(land_area__isnull=True),
                name="target_land_area_not_negative",
                violation_error_message=_("Land area cannot be negative.")),
            models.CheckConstraint(
                condition=models.Q(rented_floor_area__gte=0) | models.Q(rented_floor_area__isnull=True),
                name="target_rented_area_not_negative",
                violation_error_message=_("Rented floor area cannot be negative.")),
        ]
        indexes = [
            models.Index(fields=["campaign", "street", "code"], name="target_street_idx"),
            models.Index(fields=["campaign", "system", "code"], name="target_system_idx"),
            models.Index(fields=["campaign", "responsible_unit", "code"], name="target_unit_idx"),
            models.Index(fields=["campaign", "state"], name="target_state_idx"),
            models.Index(fields=["campaign", "-priority_rank", "code"], name="target_priority_idx"),
            # The ledger page's other sorts, so that a page of 50 is read in order, not sorted.
            models.Index(fields=["campaign", "resident_population"], name="target_population_idx"),
            models.Index(fields=["campaign", "rented_floor_area"], name="target_area_idx"),
            models.Index(fields=["campaign", "updated_at"], name="target_updated_idx"),
        ]
        verbose_name = _("target")
        verbose_name_plural = _("targets")

    def __str__(self):
        return "%s %s" % (self.code, self.name)

    def get_absolute_url(self):
        return reverse("ledger:target", args=[self.pk])


# Done (已销账): closed after a passed acceptance. The one definition of done: the ledger's
# "done" filter, the home page's share and the command room's progress, forecasts and warnings
# all read it. A rebound takes a target out of it from the day it rebounds (it is no longer
# closed) until it is closed again.
DONE_STATES = (Target.State.CLOSED,)


class ImportUpload(models.Model):
    """A file uploaded for import, kept between its dry run and its application."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(_("file name"), max_length=255)
    data = models.BinaryField()
    # code -> version of each target the file names as its dry run saw it (None: not in the ledger then).
    seen_versions = models.JSONField(default=dict)
    # The system of the file's coordinates where a row's 坐标系 cell is blank, as the page gave it.
    coordinate_system = models.CharField(max_length=8, choices=CoordinateSystem, default=CoordinateSystem.WGS84)
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)

    class Meta:
        verbose_name = _("uploaded file")

    def __str__(self):
        return self.filename


class DemoDatabase(models.Model):
    """Marks a database the demo set-up created itself: the only kind it ever writes demo data to."""

    # One row at most: the mark belongs to the database, not to a campaign.
    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    created_at = models.DateTimeField(_("demo database created at"), default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="demo_database_one_row",
                                   violation_error_message=_("A database has at most one demo mark.")),
        ]
        verbose_name = _("demo database mark")

    def __str__(self):
        return "demo database created at %s" % self.created_at.isoformat()
