"""A small campaign with a history, written through the real services at set days (the command
room's tests and the ledger's as-of filters share it).


The clock is set explicitly: `clock.at(day)` moves `timezone.now()` (and the default of a
workflow event's time, bound when the model was defined) for the writes of that day; outside
them "today" is TODAY. Two streets: 古城 keeps its pace, 鲁谷 stops after the first pledge and
lags (it misses 60 % by 2016-12-31 at its pace); one of 古城's targets rebounds.
"""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from taizhang.ledger.models import Target
from taizhang.remediation.acceptance import acceptance_record, inspection_record
from taizhang.remediation.models import TransitionEvent
from taizhang.remediation.outcomes import outcome_record
from taizhang.remediation.workflow import target_step
from tests.conftest import make_target

S = Target.State
TODAY = datetime.date(2016, 11, 15)
CREATED = datetime.date(2015, 11, 20)
CHECKED = {"tenants_cleared": True, "structures_demolished": True, "demolished_area": Decimal("100"),
           "site_cleaned": True, "land_returned": True}
# street -> days its targets were closed (one target each, in code order); the rest stay open.
CLOSINGS = {
    "GC": [datetime.date(2015, 12, 20), datetime.date(2016, 3, 1), datetime.date(2016, 5, 10),
           datetime.date(2016, 6, 20), datetime.date(2016, 9, 26), datetime.date(2016, 10, 10),
           datetime.date(2016, 10, 24), datetime.date(2016, 11, 7)],
    "LG": [datetime.date(2016, 2, 1), datetime.date(2016, 4, 1), datetime.date(2016, 6, 15)],
}
REBOUND = ("GC-0002", datetime.date(2016, 10, 20))


def noon(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


class Clock:
    """What `timezone.now()` answers: TODAY at noon unless a write is dated otherwise."""

    def __init__(self, day: datetime.date):
        self.moment = noon(day)

    def now(self):
        return self.moment

    def at(self, day: datetime.date):
        clock = self

        class _At:
            def __enter__(self):
                self.saved, clock.moment = clock.moment, noon(day)

            def __exit__(self, *exc):
                clock.moment = self.saved
        return _At()


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(TODAY)
    monkeypatch.setattr(timezone, "now", clock.now)
    # The event's `at` default is the function object bound at class definition: set it too.
    monkeypatch.setattr(TransitionEvent._meta.get_field("at"), "_get_default", clock.now)
    return clock


def close(target, day, office, clock):
    """Completion reported and a passed acceptance on `day` (the path before it is arranged)."""
    with clock.at(day):
        Target.objects.filter(pk=target.pk).update(state=S.IN_REMEDIATION)
        target.refresh_from_db()
        target_step(target=target, to=S.COMPLETION_REPORTED, actor=office, comment="已完成整治")
        acceptance_record(target=target, actor=office, decision="passed", **CHECKED)
        outcome_record(target=target, actor=office, stage="acceptance",
                       values={"people_moved": 10, "demolished_area": Decimal("100.50"),
                               "land_recovered": Decimal("200"), "funds_paid": Decimal("1000")})
    target.refresh_from_db()


def rebound(target, day, office, clock):
    with clock.at(day):
        inspection_record(target=target, actor=office, passed=False, findings="又有人搭建彩钢房出租")
    target.refresh_from_db()


@pytest.fixture
def history(clock, units, personas):
    """Ten targets in 古城 (two pilots) and ten in 鲁谷, created on CREATED, closed on CLOSINGS."""
    made = {}
    with clock.at(CREATED):
        for street, system in (("GC", "JT"), ("LG", "GZ")):
            for n in range(1, 11):
                code = "%s-%04d" % (street, n)
                made[code] = make_target(units, code, street, system, "U-GC" if street == "GC" else None,
                                         is_pilot=n <= 2 and street == "GC")
    for street, days in CLOSINGS.items():
        for n, day in enumerate(days, start=1):
            close(made["%s-%04d" % (street, n)], day, personas["carol"], clock)
    rebound(made[REBOUND[0]], REBOUND[1], personas["carol"], clock)
    return made
