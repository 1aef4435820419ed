import datetime

import pytest
from django.utils import timezone

from taizhang.supervision.orders import order_issue

# The campaign's clock in these tests: its second phase, a Tuesday.
TODAY = datetime.date(2016, 3, 1)


@pytest.fixture
def today(monkeypatch):
    """Move the clock: `today.set(day)` (9:00 that day, Beijing time); starts at TODAY."""
    class Clock:
        def set(self, day: datetime.date):
            moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(9)))
            self.day = day
            monkeypatch.setattr(timezone, "now", lambda: moment)

    clock = Clock()
    clock.set(TODAY)
    return clock


@pytest.fixture
def order(today, personas, units, targets):
    """An order from the HQ office (carol) to 古城街道 about two of its targets, due in ten days."""
    return issue(personas["carol"], units, targets=[targets["GC-0001"], targets["GC-0003"]])


def issue(actor, units, *, issuer="OFFICE", receiver="GC", deadline=None, targets=(), **fields):
    return order_issue(actor=actor, campaign=units[issuer].campaign, issuer=units[issuer], receiver=units[receiver],
                       subject=fields.pop("subject", "古城街道拆违进度滞后"), text=fields.pop("text", "限期完成腾退"),
                       deadline=deadline or TODAY + datetime.timedelta(days=10), targets=targets, **fields)
