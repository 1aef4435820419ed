"""The office's background-work page: each sweep's last run and failures, and the deliveries
that failed with their errors; the HQ office only (others get 403, as on its other pages)."""

import datetime

import pytest
from django.utils import timezone

from taizhang.core.models import Delivery, SweepRun
from taizhang.core.sweeps import sweep_run

pytestmark = pytest.mark.usefixtures("english")

T0 = timezone.make_aware(datetime.datetime(2016, 3, 1, 9, 0))


def _failed_delivery():
    return Delivery.objects.create(
        key="order:12:remind:-1d", channel=Delivery.Channel.WEBHOOK,
        destination="https://oapi.dingtalk.com/robot/send?access_token=SECRET", payload={},
        state=Delivery.State.FAILED, attempts=5, last_error="URLError: <urlopen error [Errno 111] Connection refused>",
        next_try_at=T0, created_at=T0)


@pytest.mark.parametrize("name", ["alice", "bob", "dan", "erin", "lee", "gina", "jin", "olive"])
def test_only_the_hq_office_sees_the_page(client, personas, name):
    delivery = _failed_delivery()
    client.force_login(personas[name])
    assert client.get("/accounts/background/").status_code == 403
    assert client.post("/accounts/background/deliveries/%d/retry/" % delivery.pk).status_code == 403
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.FAILED
    assert "/accounts/background/" not in client.get("/notifications/").content.decode()


def test_the_office_sees_failed_runs_and_deliveries_and_sends_one_again(client, personas, monkeypatch):
    from taizhang.core import sweeps

    monkeypatch.setattr(sweeps, "_SWEEPS", dict(sweeps._SWEEPS))

    def broken(*, now):
        raise RuntimeError("the mail server said no")

    sweeps.sweep_register("test.broken", broken, every=datetime.timedelta(minutes=5), label="A broken sweep")
    sweep_run("test.broken")
    sweep_run("deliveries")
    delivery = _failed_delivery()
    client.force_login(personas["carol"])
    page = client.get("/notifications/").content.decode()
    assert 'href="/accounts/background/"' in page
    page = client.get("/accounts/background/").content.decode()
    assert "A broken sweep" in page and "RuntimeError: the mail server said no" in page
    assert "Connection refused" in page and "https://oapi.dingtalk.com/robot/send" in page
    assert "SECRET" not in page  # the robot's token is not shown
    assert SweepRun.objects.filter(name="deliveries", state="ok").exists()
    response = client.post("/accounts/background/deliveries/%d/retry/" % delivery.pk)
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (Delivery.State.PENDING, 0)


def test_the_page_needs_a_login(client):
    assert client.get("/accounts/background/").url.startswith("/accounts/login/")
