"""Many writers on one target at once: no server error, no lost or stale change, the log true.

Real processes against one database (SQLite in WAL mode, or PostgreSQL), each taking a
different kind of write that touches the same target: field edits, workflow steps,
petitions that raise its priority flag, pilots.
"""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from taizhang.core.changelog import Break, changelog_replay, changelog_verify
from taizhang.core.transitions import TransitionRefused
from taizhang.ledger.models import Target
from taizhang.ledger.services import TargetConflict, target_update
from taizhang.remediation.models import TransitionEvent
from taizhang.remediation.petitions import petition_record
from taizhang.remediation.pilots import pilot_mark
from taizhang.remediation.workflow import target_step
from tests.racing import race

S = Target.State
HOLD = {"hold_reason": "并发测试", "hold_review_on": datetime.date(2016, 1, 1)}


def _user(username):
    return get_user_model().objects.get(username=username)


def _hold(pk):
    try:
        target_step(target=Target.objects.get(pk=pk), to=S.ON_HOLD, actor=_user("carol"), **HOLD)
    except TransitionRefused:
        return "refused"
    return "held"


def _write(kind, pk, n):
    """One write of `kind` on the target, as a user's request would make it."""
    target = Target.objects.get(pk=pk)
    try:
        if kind == "edit":
            target_update(target=target, actor=_user("carol"), changes={"resident_population": 1000 + n})
        elif kind == "step":
            if target.state == S.ON_HOLD:
                target_step(target=target, to=target.held_from, actor=_user("carol"))
            else:
                target_step(target=target, to=S.ON_HOLD, actor=_user("carol"), **HOLD)
        elif kind == "petition":
            petition_record(target=target, actor=_user("alice"), petitioner="居民%d" % n, channel="visit",
                            content="噪音", received_on=datetime.date(2015, 12, 1), stability_risk=True)
        elif kind == "pilot":
            pilot_mark(target=target, actor=_user("carol"), is_pilot=n % 2 == 0)
    except (TransitionRefused, TargetConflict):
        return "%s refused" % kind
    return "%s done" % kind


@pytest.mark.django_db(transaction=True)
def test_ten_hold_requests_at_once_hold_the_target_once(targets, personas):
    """A hold asked for a target already on hold is refused, not taken as a resume."""
    target = targets["GC-0001"]
    answers = race("tests.ledger.test_contention:_hold", [(target.pk,)] * 10)
    assert answers.count("held") == 1 and answers.count("refused") == 9
    target.refresh_from_db()
    assert (target.state, target.version) == (S.ON_HOLD, 2)
    assert TransitionEvent.objects.filter(target=target).count() == 1


def test_a_step_whose_to_is_not_the_step_it_resolves_to_is_refused(targets, personas):
    target = targets["GC-0001"]
    target_step(target=target, to=S.ON_HOLD, actor=personas["carol"], **HOLD)
    for wrong in (S.ON_HOLD, S.VERIFIED, "nonsense", ""):
        with pytest.raises(TransitionRefused):
            target_step(target=Target.objects.get(pk=target.pk), to=wrong, actor=personas["carol"])
    target.refresh_from_db()
    assert (target.state, target.version) == (S.ON_HOLD, 2)
    target_step(target=target, to=S.REGISTERED, actor=personas["carol"])  # back where it was held from
    assert target.state == S.REGISTERED


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_mixed_writers_on_one_target_leave_no_error_and_a_true_log(targets, personas, round_):
    target = targets["GC-0001"]
    kinds = ["edit", "step", "petition", "pilot"] * 2
    answers = race("tests.ledger.test_contention:_write", [(kind, target.pk, n) for n, kind in enumerate(kinds)])
    assert not [a for a in answers if a.startswith("error")], answers
    # Every write either happened or was refused with a reason; the log says what the row holds.
    assert [m for m in changelog_replay()] == []
    assert not any(isinstance(item, Break) for item in changelog_verify())
    target.refresh_from_db()
    assert "petition_risk" in target.flags
    steps = answers.count("step done")
    assert TransitionEvent.objects.filter(target=target).count() == steps


def test_a_refusal_no_view_answers_is_a_message_not_a_server_error(client, targets, personas, monkeypatch):
    """Write views answer refusals themselves (tests/remediation/test_refusals.py); the middleware
    answers one raised anywhere else, here while the work page reads the steps it offers."""
    from taizhang.remediation import views

    def conflict(*args, **kwargs):
        raise TargetConflict("Someone else changed this target meanwhile; reload and try again.")

    monkeypatch.setattr(views, "offered_steps", conflict)
    client.force_login(personas["carol"])
    response = client.get(reverse("remediation:work", args=[targets["GC-0001"].pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409
    assert "Someone else changed this target meanwhile" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_imports_adding_the_same_code_at_once_one_adds_it_the_other_is_told(targets, personas, campaign):
    from taizhang.ledger.importing import import_prepare
    from tests.conftest import gc_row, make_xlsx

    files = [make_xlsx([gc_row("GC-0999", 名称=name)]) for name in ("甲大院", "乙大院")]
    seen = [import_prepare(campaign=campaign, user=personas["carol"], data=data, filename="x.xlsx").seen_versions
            for data in files]
    assert seen[0] == {"GC-0999": None}  # the dry run saw the code absent
    answers = race("tests.ledger.test_concurrency:_import",
                   [("carol", data, versions) for data, versions in zip(files, seen, strict=True)])
    assert answers == ["applied", "conflict"]
    assert Target.objects.filter(code="GC-0999").count() == 1
    assert [m for m in changelog_replay()] == []
