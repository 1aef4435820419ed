"""The authorization matrix over every URL the project serves, as three rules that hold for
all of them (each page's own tests say what its allowed users see):

- nobody logged in is shown or changes anything (a login page, or 405 for a write);
- another street's staff member, asked for a record of 古城 (its target, verification, photo,
  lease, legal step, petition, plan; the office's upload; a 古城 account), is shown nothing
  (403, 404 or 405) and changes nothing, by GET or POST; on every list page no 古城 target
  appears;
- a user with no role is shown nothing but their own pages (password, notifications).

A URL added without an entry in `ARGS` (or `OPEN`) fails `test_every_url_is_in_the_matrix`:
the next page cannot skip the rule.
"""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from PIL import Image

from taizhang.core import notifications
from taizhang.core.models import ChangeLogEntry, Delivery, Notification
from taizhang.ledger.models import ImportUpload
from taizhang.remediation.legal import lease_answer, lease_notice, lease_record, legal_step_open
from taizhang.remediation.models import Lease
from taizhang.remediation.petitions import petition_record
from taizhang.remediation.photos import photo_add
from taizhang.remediation.plans import plan_create, policy_create
from taizhang.remediation.verification import verification_record
from taizhang.supervision.models import Order
from taizhang.supervision.orders import extension_ask, order_answer, order_issue, order_step

DAY = datetime.date(2015, 12, 1)

# URLs anyone may open: no record behind them.
OPEN = {"login", "logout", "set_language"}

# Each URL's arguments, from the records of 古城 (street GC) made below; None: it takes none.
ARGS = {
    "home": None, "choose_campaign": None,
    "ledger:list": None, "ledger:export": None, "ledger:reconcile": None, "ledger:units": None,
    "ledger:import": None, "ledger:history": None, "ledger:history_export": None, "ledger:history_verify": None,
    "ledger:import_apply": lambda r: {"upload_id": r["upload"].pk},
    "ledger:import_map": lambda r: {"upload_id": r["upload"].pk},
    "ledger:target": lambda r: {"pk": r["target"].pk},
    "ledger:target_edit": lambda r: {"pk": r["target"].pk},
    "ledger:classified": lambda r: {"kind": "street", "code": "GC"},
    "ledger:classified_export": lambda r: {"kind": "street", "code": "GC"},
    "remediation:work": lambda r: {"pk": r["target"].pk},
    "remediation:step": lambda r: {"pk": r["target"].pk},
    "remediation:verify": lambda r: {"pk": r["target"].pk},
    "remediation:confirm": lambda r: {"verification_id": r["verification"].pk},
    "remediation:photo": lambda r: {"photo_id": r["photo"].pk},
    "remediation:photo_thumbnail": lambda r: {"photo_id": r["photo"].pk},
    "remediation:outcome_save": lambda r: {"pk": r["target"].pk, "stage": "verification"},
    "remediation:pilot_toggle": lambda r: {"pk": r["target"].pk},
    "remediation:lesson_add": lambda r: {"pk": r["target"].pk},
    "remediation:outcomes": None, "remediation:pilots": None, "remediation:legal_list": None,
    "remediation:legal": lambda r: {"pk": r["target"].pk},
    "remediation:lease_add": lambda r: {"pk": r["target"].pk},
    "remediation:lease_notice": lambda r: {"lease_id": r["lease"].pk},
    "remediation:lease_answer": lambda r: {"lease_id": r["lease"].pk},
    "remediation:lease_exposure": lambda r: {"lease_id": r["lease"].pk},
    "remediation:legal_step_open": lambda r: {"lease_id": r["lease"].pk},
    "remediation:legal_step_done": lambda r: {"step_id": r["legal_step"].pk},
    "remediation:petition_add": lambda r: {"pk": r["target"].pk},
    "remediation:petition_handle": lambda r: {"petition_id": r["petition"].pk},
    "remediation:petition_risk": lambda r: {"petition_id": r["petition"].pk},
    "remediation:plans": lambda r: {"pk": r["target"].pk},
    "remediation:plan_create": lambda r: {"pk": r["target"].pk},
    "remediation:plan_new_version": lambda r: {"pk": r["target"].pk},
    "remediation:plan_edit": lambda r: {"plan_id": r["plan"].pk},
    "remediation:plan_submit": lambda r: {"plan_id": r["plan"].pk},
    "remediation:plan_approve": lambda r: {"plan_id": r["plan"].pk},
    # The policy library is the campaign's, shared by every role: only its writes are guarded.
    "remediation:policies": None, "remediation:policy_create": None,
    "remediation:policy": lambda r: {"policy_id": r["policy"].pk},
    "remediation:policy_edit": lambda r: {"policy_id": r["policy"].pk},
    "remediation:acceptance": lambda r: {"pk": r["target"].pk},
    "remediation:reinspect": lambda r: {"pk": r["target"].pk},
    "remediation:inspections": None, "remediation:rebound": None,
    "remediation:todo": None, "remediation:todo_count": None, "remediation:petitions": None,
    "command:dashboard": None, "command:download": lambda r: {"chart_id": "streets"},
    "command:map": None, "command:map_points": None, "command:map_areas": None,
    "assessment:records": None,
    "assessment:person": lambda r: {"user_id": r["account"].pk},
    "assessment:commend": lambda r: {"user_id": r["account"].pk},
    "assessment:unit": lambda r: {"unit_id": r["target"].street_id},
    "supervision:orders": None, "supervision:order_new": None, "supervision:referrals": None,
    **{"supervision:" + name: lambda r: {"pk": r["order"].pk} for name in (
        "order", "order_step", "order_answer", "extension_ask", "order_reissue", "order_refer", "accountability_add")},
    "supervision:extension_decide": lambda r: {"pk": r["order"].pk, "extension_id": r["extension"].pk},
    "supervision:attachment": lambda r: {"pk": r["order"].pk, "attachment_id": r["attachment"].pk},
    "accounts:robots": None, "accounts:robot_set": lambda r: {"unit_id": r["target"].street_id},
    "accounts:locked": None, "accounts:history_digest": None, "accounts:password_change": None,
    "accounts:background": None,
    "accounts:delivery_retry": lambda r: {"delivery_id": r["delivery"].pk},
    # A user's own notifications: every query starts from the user (another's is a 404).
    "notifications": None, "notifications_read": None, "email_choices": None,
    "notification_open": lambda r: {"notification_id": r["notification"].pk},
    "accounts:unlock": lambda r: {"user_id": r["account"].pk},
    "accounts:users": None, "accounts:user_new": None, "accounts:user_import": None,
    "accounts:user_import_apply": lambda r: {"upload_id": r["upload"].pk},
    "accounts:user": lambda r: {"user_id": r["account"].pk},
    "accounts:user_edit": lambda r: {"user_id": r["account"].pk},
    "accounts:user_deactivate": lambda r: {"user_id": r["account"].pk},
    "accounts:user_reactivate": lambda r: {"user_id": r["account"].pk},
    "accounts:user_password_reset": lambda r: {"user_id": r["account"].pk},
    "accounts:user_membership_add": lambda r: {"user_id": r["account"].pk},
    "accounts:user_membership_remove": lambda r: {"user_id": r["account"].pk,
                                                   "membership_id": r["account"].memberships.get().pk},
}
# Pages another street's staff may open, holding nothing of 古城: the campaign's shared ones
# and their own (a classified ledger of 古城 is refused by the scoping rule, tested elsewhere).
SHARED = {"remediation:policies", "remediation:policy", "remediation:policy_create", "accounts:password_change",
          "notifications", "email_choices",
          # A chart's numbers over what the user sees (tests/command: no other street named in them).
          "command:download"}


def _urls(resolver=None, namespace=None):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from _urls(entry, entry.namespace or namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield "%s:%s" % (namespace, entry.name) if namespace else entry.name


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), "green").save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def records(targets, personas, campaign, monkeypatch):
    """One record of each kind, all of 古城's target GC-0001 (or of 古城's people)."""
    alice, carol = personas["alice"], personas["carol"]
    monkeypatch.setattr(notifications, "_KINDS", dict(notifications._KINDS))
    notifications.kind_register("test.matrix", "Matrix")
    notifications.notify(recipients=[alice], kind="test.matrix", title="GC-0001大院", url="/work/", key="matrix",
                         webhooks=["https://robot.example/send?access_token=x"])
    target = targets["GC-0001"]
    lease = lease_record(target=target, actor=alice, lessee="王五")
    lease_notice(lease=lease, actor=alice, sent_on=DAY)
    lease_answer(lease=Lease.objects.get(pk=lease.pk), actor=alice, answer="refused", answered_on=DAY)
    order = order_issue(actor=carol, campaign=campaign, issuer=target.street.campaign.units.get(code="OFFICE"),
                        receiver=target.street, subject="督办", text="限期整改", targets=[target],
                        deadline=datetime.date.today() + datetime.timedelta(days=10))
    order_step(actor=alice, order=order, to=Order.State.SIGNED)
    answer = order_answer(actor=alice, order=order, text="进展", files=[SimpleUploadedFile("现场.jpg", _jpeg())])
    return {
        "attachment": answer.attachments.get(),
        "order": order,
        "extension": extension_ask(actor=alice, order=order, deadline=order.deadline + datetime.timedelta(days=5),
                                   reason="租户未搬离"),
        "target": target,
        "verification": verification_record(target=target, actor=alice, facts={"resident_population": 9}),
        "photo": photo_add(target=target, actor=alice, name="现场.jpg", data=_jpeg()),
        "lease": lease,
        "legal_step": legal_step_open(lease=Lease.objects.get(pk=lease.pk), actor=alice, stage="research"),
        "petition": petition_record(target=target, actor=alice, petitioner="张三", channel="letter",
                                    content="诉求", received_on=DAY),
        "plan": plan_create(target=target, actor=alice, planned_on=DAY, means=["legal"],
                            steps=[{"description": "起诉", "means": "legal"}]),
        "policy": policy_create(campaign=campaign, actor=None, title="合同法"),
        "upload": ImportUpload.objects.create(campaign=campaign, user=carol, filename="x.xlsx", data=b"x"),
        "account": alice,
        "notification": Notification.objects.get(recipient=alice, key="matrix"),
        "delivery": Delivery.objects.get(key="matrix"),
    }


def _url(name, records):
    args = ARGS[name]
    return reverse(name, kwargs=args(records) if args else None)


def test_every_url_is_in_the_matrix():
    names = set(_urls())
    assert names - set(ARGS) - OPEN == set(), "add each new URL to ARGS with the records it needs"
    assert set(ARGS) - names == set(), "ARGS names a URL that no longer exists"


def test_nobody_logged_in_is_shown_or_changes_anything(client, records):
    written = ChangeLogEntry.objects.count()
    for name in ARGS:
        url = _url(name, records)
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code in (302, 405), (name, method.__name__)
            if response.status_code == 302:
                assert response["Location"].startswith(reverse("login")), name
    assert ChangeLogEntry.objects.count() == written


def test_another_streets_staff_is_shown_nothing_of_guchengs_records_and_changes_none(client, records, personas):
    client.force_login(personas["bob"])  # 鲁谷's street staff
    written = ChangeLogEntry.objects.count()
    for name, args in ARGS.items():
        url = _url(name, records)
        response = client.get(url)
        assert response.status_code != 500, name
        if args is not None and name not in SHARED:
            assert response.status_code in (403, 404, 405), (name, response.status_code)
        elif response.status_code == 200 and response.get("Content-Type", "").startswith(("text/html",
                                                                                           "application/json")):
            page = response.content.decode()
            assert "GC-000" not in page and "GC-0001大院" not in page, name
        response = client.post(url, {"reason": "x", "confirm": "1"})
        assert response.status_code != 500, name
        assert ChangeLogEntry.objects.count() == written, name


def test_a_user_with_no_role_is_shown_nothing_but_their_own_password_page(client, records, personas):
    client.force_login(personas["olive"])
    written = ChangeLogEntry.objects.count()
    for name in ARGS:
        response = client.get(_url(name, records))
        if name in ("accounts:password_change", "notifications", "email_choices"):  # their own
            continue
        if name == "remediation:todo_count":  # the header's count: empty
            assert response.content.decode() == '<span id="todo-count"></span>'
            continue
        assert response.status_code in (302, 403, 404, 405), (name, response.status_code)
        if response.status_code == 302:
            assert response["Location"] in (reverse("home"), reverse("login")) or "next=" in response["Location"], name
    assert ChangeLogEntry.objects.count() == written
