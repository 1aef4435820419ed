"""The command room's read model: the change log projected into what its figures count.

Nothing here is a record of its own: `command.standing` derives every row from the change log
and can drop and rebuild them at any time. Amounts (floor area, land, funds) are kept in
hundredths, as integers, so that sums are exact on SQLite as on PostgreSQL; people are whole.
"""

from django.db import models

# What a day's figures are counted by, in the tallies and the spans alike.
GROUP_FIELDS = ("street", "system", "target_type", "state", "pilot", "priority")
# What the tallies sum per group: targets standing, of them ever done and ever rebounded by the
# day, and the people and money their acceptances recorded.
AMOUNTS = ("people_moved", "demolished_area", "land_recovered", "funds_paid")
SUMS = ("n", "closed", "rebounded", *AMOUNTS)
# Who sees a tally's targets: their street and system as they are now.
REACH_FIELDS = ("reach_street", "reach_system")


class Groups(models.Model):
    """The groups a figure is counted by (labels by name, as the snapshots hold them; blank where none)."""

    street = models.CharField(max_length=200, blank=True)
    system = models.CharField(max_length=200, blank=True)
    target_type = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=20, blank=True)
    pilot = models.BooleanField(default=False)
    priority = models.BooleanField(default=False)

    class Meta:
        abstract = True


class Amounts(models.Model):
    """People moved, and floor area, land and funds in hundredths."""

    people_moved = models.BigIntegerField(default=0)
    demolished_area = models.BigIntegerField(default=0)
    land_recovered = models.BigIntegerField(default=0)
    funds_paid = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class Span(Groups, Amounts):
    """How a target stood over a span of time: a run of its history in which its groups, state,
    pilot and priority and its accepted outcomes' amounts stayed the same.

    It stands at the end of each day d with `from_day <= d < to_day` (`to_day` null: up to now).
    `closed_on` and `rebounded_on` are the target's, on each of its spans: the first day an entry
    put it in a done state, or in 反弹. `reach_*` are the target's street, system and rights unit
    as they are now, which decide who sees it (accounts.scoping), not what it is counted by.
    """

    target_id = models.BigIntegerField()
    # The target's campaign while it is in the ledger (null once it is deleted: it leaves every
    # figure, its past included, as it leaves the ledger's as-of pages).
    campaign_id = models.BigIntegerField(null=True)
    starts = models.DateTimeField()
    ends = models.DateTimeField(null=True)
    from_day = models.DateField()
    to_day = models.DateField(null=True)
    done = models.BooleanField(default=False)
    gone = models.BooleanField(default=False, help_text="the run is a deletion: out of the ledger")
    closed_on = models.DateField(null=True)
    rebounded_on = models.DateField(null=True)
    reach_street = models.BigIntegerField(default=0)
    reach_system = models.BigIntegerField(default=0)
    reach_unit = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["target_id"], name="span_target_idx"),
                   models.Index(fields=["campaign_id", "from_day"], name="span_campaign_from_idx"),
                   models.Index(fields=["reach_unit"], name="span_unit_idx")]

    def __str__(self):
        return "target %s %s from %s" % (self.target_id, self.state or "gone", self.starts.isoformat())


class Reach(models.Model):
    """The street and system a target is in now (0: none), which decide who sees it
    (accounts.scoping.reaches): a street's or a system's users read the tallies of their targets."""

    reach_street = models.BigIntegerField(default=0)
    reach_system = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class Tally(Groups, Amounts, Reach):
    """Per campaign, day, group and reach: a sum over the targets standing then (see the subclasses)."""

    campaign_id = models.BigIntegerField()
    day = models.DateField()
    n = models.BigIntegerField(default=0)
    closed = models.BigIntegerField(default=0)
    rebounded = models.BigIntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self):
        return "%s %s %s %s: %+d" % (self.day, self.street, self.system, self.state, self.n)


class DayChange(Tally):
    """How much each sum changed at the end of `day` against the day before (spans starting
    count in, spans ending count out)."""

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign_id", "day", *GROUP_FIELDS, *REACH_FIELDS],
                                               name="daychange_unique")]


class MonthStanding(Tally):
    """Each sum at the end of `day`, the last day of a month: the day changes added up to it, so
    that a day's figures read one month's changes on top of it instead of every change before."""

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign_id", "day", *GROUP_FIELDS, *REACH_FIELDS],
                                               name="monthstanding_unique")]


class StreetDayChange(Reach):
    """The day changes of targets and done targets per street and system only: the burn-up's
    few thousand rows over a whole campaign."""

    campaign_id = models.BigIntegerField()
    day = models.DateField()
    street = models.CharField(max_length=200, blank=True)
    system = models.CharField(max_length=200, blank=True)
    n = models.BigIntegerField(default=0)
    done = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign_id", "day", "street", "system", *REACH_FIELDS],
                                               name="streetdaychange_unique")]

    def __str__(self):
        return "%s %s %s: %+d" % (self.day, self.street, self.system, self.n)


class ProjectionMark(models.Model):
    """How far the projection has read the change log, under which rules, and up to which month
    end its month standings are whole."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_entry_id = models.BigIntegerField(default=0)
    signature = models.CharField(max_length=64, blank=True)
    months_to = models.DateField(null=True)

    def __str__(self):
        return "projection read up to change-log entry %d" % self.last_entry_id
