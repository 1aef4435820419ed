"""A campaign and its organisation, all declared by a preset file."""

from django.core.validators import URLValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from taizhang.core.coordinates import Box


class GroupDuty(models.TextChoices):
    """What a working group may be charged with beyond its own ledger view, by the preset's
    `[[groups]] duties` key (not by the group's name, which a preset may word its own way)."""

    LEGAL = "legal", _("the legal path (leases, notices, court steps)")
    PETITIONS = "petitions", _("petitions and stability risks")


# Days a petition may stay open when the preset says nothing (`[petitions] open_limit_days`):
# the State Council's 信访条例 (2005) gives 60 days to handle a petition. Not from the speech.
PETITION_OPEN_LIMIT_DAYS = 60
# Supervision orders (督办单) where a preset says nothing of them: the speech sets no figures.
SUPERVISION_DEFAULTS = {
    "number_format": "督〔{year}〕{number}号", "yellow_within_days": 3, "extensions_max": 2,
    "remind_before_days": [3, 1], "remind_after_days": [1, 3, 7], "refer_after_reminders": 3,
    "refer_after_extensions": 2, "refer_after_overdue_days": 10, "outcomes": ["约谈", "通报批评", "诫勉", "问责"],
}

# Where a campaign's points may lie when its preset gives no `[map] bounds` (WGS-84 west,
# south, east, north): Beijing's municipality, with a margin, for a district whose name says
# 北京; otherwise China, as the GCJ-02 formulas bound it. Generous: a point outside is a typo
# or swapped columns, not a site at the district's edge.
DEFAULT_BOXES = (("北京", Box(115.3, 39.3, 117.6, 41.2)),)
CHINA = Box(72.004, 0.8293, 137.8347, 55.8271)


class Campaign(models.Model):
    """One rectification campaign, loaded from a preset; several can live side by side."""

    slug = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    district = models.CharField(_("district"), max_length=100, blank=True)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    target_total = models.PositiveIntegerField(_("targets in the baseline"), null=True, blank=True)
    # Label aliases as officials write them: {"古城": "古城街道", "集体": "集体经济系统"}.
    aliases = models.JSONField(_("label aliases"), default=dict, blank=True)
    # Rules later capabilities read (pilot quota, priority rules, slogans): kept as the
    # preset gives them, so a second campaign can bring its own.
    rules = models.JSONField(_("rules"), default=dict, blank=True)
    preset_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["starts_on", "slug"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")

    def __str__(self):
        return self.name

    def resolve_label(self, text: str) -> str:
        """The canonical label for what an official typed (古城 -> 古城街道)."""
        return self.aliases.get(text, text)

    def petition_open_limit_days(self) -> int:
        """Days a petition may stay open before it is overdue (the preset's, or the default)."""
        return self.rules.get("petitions", {}).get("open_limit_days", PETITION_OPEN_LIMIT_DAYS)

    def supervision_rules(self) -> dict:
        """The preset's `[supervision]` rules, each key falling back to SUPERVISION_DEFAULTS."""
        return SUPERVISION_DEFAULTS | (self.rules.get("supervision") or {})

    def map_box(self) -> Box:
        """The WGS-84 rectangle the campaign's points must lie in (the preset's `[map] bounds`)."""
        bounds = (self.rules.get("map") or {}).get("bounds")
        if bounds:
            return Box(*bounds)
        return next((box for word, box in DEFAULT_BOXES if word in self.district), CHINA)

    def street_outlines(self) -> dict[str, list[list[float]]]:
        """{street code: [[longitude, latitude], ...]} (WGS-84) for the streets the preset outlines."""
        return (self.rules.get("map") or {}).get("outlines") or {}

    def duty_groups(self, duty: str) -> list[str]:
        """The codes of the working groups the preset charges with `duty` (a GroupDuty)."""
        return self.rules.get("group_duties", {}).get(duty, [])


class LabelAlias(models.Model):
    """A word offices write for a known label, mapped by the HQ office from an import's check
    (a preset's aliases are the campaign's `aliases`; these outlive a reload of it)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="label_aliases")
    # The ledger column the word is written in, by its field name (street, target_type, flags …).
    column = models.CharField(_("column"), max_length=32)
    # As the import compares labels: NFKC, single spaces, case folded.
    text = models.CharField(_("written as"), max_length=200)
    # What it stands for: the code of the unit or target type, or of the situation flag.
    value = models.CharField(_("stands for"), max_length=64)

    class Meta:
        ordering = ["campaign", "column", "text"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "column", "text"], name="labelalias_unique",
                                    violation_error_message=_("This word is already mapped in this column.")),
        ]
        verbose_name = _("label alias")
        verbose_name_plural = _("label aliases")

    def __str__(self):
        return "%s: %s → %s" % (self.column, self.text, self.value)


class Phase(models.Model):
    """A dated phase of the campaign (survey, remediation, consolidation)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="phases")
    number = models.PositiveSmallIntegerField(_("number"))
    name = models.CharField(_("name"), max_length=100)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    tasks = models.JSONField(_("tasks"), default=list, blank=True)

    class Meta:
        ordering = ["campaign", "number"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "number"], name="phase_number_unique"),
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="phase_dates_ordered",
                violation_error_message=_("A phase cannot end before it starts."),
            ),
        ]

    def __str__(self):
        return self.name


class Milestone(models.Model):
    """A pledged date: the share of the ledger required done by then, and the stretch goal."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="milestones")
    due_on = models.DateField(_("due on"))
    title = models.CharField(_("title"), max_length=200)
    required_pct = models.PositiveSmallIntegerField(_("required %"), null=True, blank=True)
    stretch_pct = models.PositiveSmallIntegerField(_("stretch %"), null=True, blank=True)

    class Meta:
        ordering = ["campaign", "due_on"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "due_on"], name="milestone_date_unique"),
        ]

    def __str__(self):
        return self.title


class OrgUnit(models.Model):
    """A unit of the campaign: HQ, its office, a working group, a street, a system, a rights unit."""

    class Kind(models.TextChoices):
        COMMAND = "command", _("command (指挥部)")
        OFFICE = "office", _("HQ office")
        GROUP = "group", _("working group")
        STREET = "street", _("street sub-command")
        SYSTEM = "system", _("ownership system")
        RIGHTS_UNIT = "unit", _("rights unit")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="units")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind)
    code = models.CharField(_("code"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=50, blank=True)
    # A rights unit belongs to its ownership system.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
        verbose_name=_("parent unit"),
    )
    expected_targets = models.PositiveIntegerField(_("targets in the baseline"), null=True, blank=True)
    # People and titles as the preset lists them (commander, members, group leaders).
    roster = models.JSONField(_("roster"), default=list, blank=True)
    sort = models.PositiveIntegerField(default=0)
    # The unit's group-chat robot (政务微信 / 钉钉), to which the rooms above post its
    # notifications (core.notifications.notify's webhooks). Set by the HQ office's page
    # (/accounts/robots/) or `manage.py unit_webhook`, not by the preset: the URL holds the
    # robot's access token.
    webhook_url = models.URLField(_("group robot webhook"), max_length=500, blank=True,
                                  validators=[URLValidator(schemes=["http", "https"])])

    class Meta:
        ordering = ["campaign", "kind", "sort", "code"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "code"], name="orgunit_code_unique"),
        ]
        indexes = [models.Index(fields=["campaign", "kind", "name"], name="orgunit_kind_name_idx")]

    def __str__(self):
        return self.name

    @property
    def label(self) -> str:
        return self.short_name or self.name

    @property
    def shown_webhook(self) -> str:
        """The robot's address as a page shows it: without its query, which holds the token."""
        return self.webhook_url.split("?", 1)[0]


class TargetType(models.Model):
    """A kind of target the campaign clears (scrap recycling, sand yard, crowded compound)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="target_types")
    code = models.CharField(_("code"), max_length=64)
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=200, blank=True)
    sort = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["campaign", "sort", "code"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "code"], name="targettype_code_unique"),
        ]

    def __str__(self):
        return self.name


class Liaison(models.Model):
    """A district leader paired with the street sub-command they follow."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="liaisons")
    leader = models.CharField(_("district leader"), max_length=100)
    street = models.ForeignKey(
        OrgUnit, on_delete=models.CASCADE, related_name="liaisons", verbose_name=_("street"),
    )

    class Meta:
        ordering = ["campaign", "street__sort"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "leader", "street"], name="liaison_unique"),
        ]

    def __str__(self):
        return "%s → %s" % (self.leader, self.street)
