"""Notifications: created once per key, e-mailed to who chose it, posted to the units' robots,
retried with back-off and, after the last try, shown as failed; sent once even by two workers.

Alice and Bob each have their own notifications and never see the other's. The clock is moved
by giving `now` to the services (deliveries_send, notify)."""

import datetime
import http.server
import json
import threading

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from taizhang.core import notifications
from taizhang.core.deliveries import ATTEMPTS, deliveries_send, delivery_retry, wait_after
from taizhang.core.errors import ConflictError, ServiceError
from taizhang.core.models import Delivery, EmailChoice, Notification
from taizhang.core.notifications import email_choices_set, kind_register, notify
from tests.racing import race

pytestmark = pytest.mark.usefixtures("english")

KIND = "test.remind"
T0 = timezone.make_aware(datetime.datetime(2016, 3, 1, 9, 0))
S = Delivery.State


@pytest.fixture(autouse=True)
def kind(monkeypatch):
    """A kind registered for these tests only (the rooms register theirs in AppConfig.ready)."""
    monkeypatch.setattr(notifications, "_KINDS", dict(notifications._KINDS))
    return kind_register(KIND, "Test reminders")


@pytest.fixture
def alice(db):
    return get_user_model().objects.create_user("alice", email="alice@example.gov.cn", password="x")


@pytest.fixture
def bob(db):
    return get_user_model().objects.create_user("bob", email="bob@example.gov.cn", password="x")


class Robot(http.server.BaseHTTPRequestHandler):
    """A group robot on the loopback: records each post; answers with `Robot.answer`."""

    posts: list = []
    answer = b'{"errcode": 0, "errmsg": "ok"}'

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).posts.append((self.path, json.loads(body)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(type(self).answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def robot():
    Robot.posts, Robot.answer = [], b'{"errcode": 0, "errmsg": "ok"}'
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Robot)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d/robot/send?access_token=secret" % server.server_port
    server.shutdown()
    server.server_close()


def _remind(users, key="order:12:remind:-1d", webhooks=(), now=T0):
    return notify(recipients=users, kind=KIND, title="督办单 12 明天到期", body="请按时办结。", url="/work/",
                  key=key, webhooks=webhooks, now=now)


def test_the_same_key_twice_makes_one_notification_and_one_delivery(alice, robot):
    email_choices_set(user=alice, by_email=[KIND])
    assert _remind([alice], webhooks=[robot]) == 1
    assert _remind([alice], webhooks=[robot, robot]) == 0
    assert Notification.objects.filter(recipient=alice).count() == 1
    assert sorted(Delivery.objects.values_list("channel", flat=True)) == ["email", "webhook"]
    assert _remind([alice], key="order:12:remind:0d") == 1  # another key is another notification
    assert Notification.objects.filter(recipient=alice).count() == 2


def test_only_who_chose_the_kind_is_emailed_and_the_mail_goes_out_once(alice, bob, settings):
    settings.TAIZHANG_SITE_URL = "https://taizhang.example.gov.cn"
    email_choices_set(user=alice, by_email=[KIND])
    email_choices_set(user=bob, by_email=[])
    _remind([alice, bob])
    assert Notification.objects.count() == 2
    assert deliveries_send(now=T0) == {"sent": 1, "retry": 0, "failed": 0}
    assert deliveries_send(now=T0 + datetime.timedelta(hours=1)) == {"sent": 0, "retry": 0, "failed": 0}
    [message] = mail.outbox
    assert message.to == ["alice@example.gov.cn"] and message.subject == "督办单 12 明天到期"
    assert "https://taizhang.example.gov.cn/work/" in message.body
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.sent_at) == (S.SENT, 1, T0)


def test_a_user_without_an_address_or_inactive_gets_no_email(alice, bob):
    bob.email, bob.is_active = "", True
    bob.save()
    alice.is_active = False
    alice.save()
    for user in (alice, bob):
        email_choices_set(user=user, by_email=[KIND])
    _remind([alice, bob])
    assert list(Notification.objects.values_list("recipient__username", flat=True)) == ["bob"]
    assert not Delivery.objects.exists()


def test_a_webhook_gets_the_group_robot_text_message(alice, robot):
    _remind([alice], webhooks=[robot])
    assert deliveries_send(now=T0)["sent"] == 1
    [(path, body)] = Robot.posts
    assert path == "/robot/send?access_token=secret"
    assert body["msgtype"] == "text" and body["text"]["content"].startswith("督办单 12 明天到期\n请按时办结。")


def test_a_failing_delivery_is_retried_with_back_off_then_failed_and_kept(alice, robot):
    Robot.answer = b'{"errcode": 310000, "errmsg": "keywords not in content"}'
    _remind([alice], webhooks=[robot])
    now, waits = T0, []
    for attempt in range(1, ATTEMPTS + 1):
        counts = deliveries_send(now=now)
        delivery = Delivery.objects.get()
        assert delivery.attempts == attempt and "310000" in delivery.last_error
        if attempt < ATTEMPTS:
            assert counts == {"sent": 0, "retry": 1, "failed": 0} and delivery.state == S.PENDING
            waits.append(delivery.next_try_at - now)
            # Not before its time.
            assert deliveries_send(now=delivery.next_try_at - datetime.timedelta(seconds=1))["retry"] == 0
            now = delivery.next_try_at
    assert counts == {"sent": 0, "retry": 0, "failed": 1} and delivery.state == S.FAILED
    assert waits == [datetime.timedelta(minutes=m) for m in (1, 5, 25, 125)] == [wait_after(n) for n in range(1, 5)]
    assert len(Robot.posts) == ATTEMPTS
    # Failed stays failed, shown to the office, until the office sends it again.
    assert deliveries_send(now=now + datetime.timedelta(days=1))["retry"] == 0
    Robot.answer = b'{"errcode": 0}'
    delivery_retry(delivery=delivery, now=now)
    assert deliveries_send(now=now)["sent"] == 1
    with pytest.raises(ConflictError):
        delivery_retry(delivery=delivery, now=now)


def test_an_unreachable_webhook_is_reported_not_lost(alice):
    # Port 9 on the loopback: nothing listens there, the connection is refused.
    _remind([alice], webhooks=["http://127.0.0.1:9/robot"])
    assert deliveries_send(now=T0)["retry"] == 1
    delivery = Delivery.objects.get()
    assert delivery.state == S.PENDING and "refused" in delivery.last_error.lower()


def test_a_webhook_that_is_not_http_is_recorded_failed_and_never_fetched(alice):
    _remind([alice], webhooks=["file:///etc/passwd", "ftp://example.gov.cn/x"])
    assert set(Delivery.objects.values_list("state", "last_error")) == {
        (S.FAILED, "Not an http(s) URL; nothing was sent.")}
    assert deliveries_send(now=T0) == {"sent": 0, "retry": 0, "failed": 0}


def test_a_claimed_delivery_is_not_sent_by_another_worker_until_its_claim_lapses(alice, robot):
    _remind([alice], webhooks=[robot])
    # A worker claimed it and died before recording anything.
    Delivery.objects.update(state=S.SENDING, attempts=1, next_try_at=T0 + datetime.timedelta(minutes=10))
    assert deliveries_send(now=T0 + datetime.timedelta(minutes=5))["sent"] == 0
    assert deliveries_send(now=T0 + datetime.timedelta(minutes=10))["sent"] == 1
    assert Delivery.objects.get().attempts == 2


def test_unknown_kinds_are_refused(alice):
    with pytest.raises(ValueError):
        notify(recipients=[alice], kind="nobody.registered", title="x", key="k")
    with pytest.raises(ServiceError):
        email_choices_set(user=alice, by_email=["nobody.registered"])
    assert not Notification.objects.exists() and not EmailChoice.objects.exists()


def _send_due(now_iso: str) -> int:
    return deliveries_send(now=datetime.datetime.fromisoformat(now_iso))["sent"]


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_at_once_send_each_delivery_once(robot):
    users = [get_user_model().objects.create_user("user%02d" % n, password="x") for n in range(3)]
    for n in range(20):
        _remind(users, key="order:%d:remind" % n, webhooks=[robot + "&n=%d" % n])
    answers = race("tests.core.test_notifications:_send_due", [(T0.isoformat(),), (T0.isoformat(),)])
    assert sum(answers) == 20, answers
    assert len(Robot.posts) == 20 and len({path for path, _body in Robot.posts}) == 20
    assert set(Delivery.objects.values_list("state", "attempts")) == {(S.SENT, 1)}


# The centre's pages.

def test_the_header_counts_my_unread_notifications_only(client, alice, bob):
    _remind([alice, bob])
    _remind([alice], key="another")
    client.force_login(alice)
    page = client.get("/notifications/").content.decode()
    assert 'id="notifications-count" class="todo-count">2<' in page
    client.force_login(bob)
    assert 'id="notifications-count" class="todo-count">1<' in client.get("/notifications/").content.decode()


def test_the_header_count_costs_one_query(client, alice, django_assert_num_queries):
    from django.template import Context, Template
    from django.test import RequestFactory

    from taizhang.core.context_processors import notifications as processor

    _remind([alice])
    request = RequestFactory().get("/")
    request.user = alice
    template = Template("{% with n=unread_notifications %}{{ n }} {{ n }}{% endwith %}")
    with django_assert_num_queries(1):
        assert template.render(Context(processor(request))) == "1 1"


def test_opening_marks_read_and_goes_to_its_link(client, alice):
    _remind([alice])
    note = Notification.objects.get()
    client.force_login(alice)
    response = client.post("/notifications/%d/open/" % note.pk)
    assert response.status_code == 302 and response.url == "/work/"
    note.refresh_from_db()
    assert note.read_at is not None
    assert 'id="notifications-count"' not in client.get("/notifications/").content.decode()


def test_a_link_off_the_site_is_not_followed(client, alice):
    notify(recipients=[alice], kind=KIND, title="x", url="https://evil.example/", key="k")
    client.force_login(alice)
    response = client.post("/notifications/%d/open/" % Notification.objects.get().pk)
    assert response.url == "/notifications/"


def test_mark_all_read_marks_mine_only(client, alice, bob):
    _remind([alice, bob])
    client.force_login(alice)
    client.post("/notifications/read/")
    unread = {n.recipient.username: n.read_at is None for n in Notification.objects.select_related("recipient")}
    assert unread == {"alice": False, "bob": True}


def test_bob_cannot_open_or_see_alices_notification(client, alice, bob):
    _remind([alice], key="alice-only")
    note = Notification.objects.get()
    client.force_login(bob)
    assert client.post("/notifications/%d/open/" % note.pk).status_code == 404
    assert "督办单 12" not in client.get("/notifications/").content.decode()
    note.refresh_from_db()
    assert note.read_at is None
    client.force_login(alice)
    assert "督办单 12" in client.get("/notifications/").content.decode()


def test_the_pages_need_a_login(client, alice):
    _remind([alice])
    for url in ("/notifications/", "/notifications/email/"):
        assert client.get(url).url.startswith("/accounts/login/")
    assert client.post("/notifications/%d/open/" % Notification.objects.get().pk).status_code == 302
    assert Notification.objects.get().read_at is None


def test_a_user_chooses_which_kinds_reach_them_by_email(client, alice):
    kind_register("test.other", "Other things", email_default=True)
    client.force_login(alice)
    page = client.get("/notifications/email/").content.decode()
    assert "Test reminders" in page and 'value="test.other" checked' in page
    client.post("/notifications/email/", {"kind": [KIND]})
    # Every registered kind is answered (the supervision room's too); these two as ticked.
    chosen = dict(EmailChoice.objects.filter(user=alice).values_list("kind", "by_email"))
    assert {kind: chosen[kind] for kind in (KIND, "test.other")} == {KIND: True, "test.other": False}
    assert 'value="%s" checked' % KIND in client.get("/notifications/email/").content.decode()
