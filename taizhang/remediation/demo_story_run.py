"""Writing the demo's story (demo_story.py) through the real services, in the order of its times.

Each planned act goes through the service a person would have used on that day (a
verification recorded, a plan approved, a re-inspection failed ...), made by the demo account
that holds the role, under the demo clock (ledger.demo.DemoClock) set to its sitting's moment;
a sitting of several acts of a kind goes through that service's bulk form (the same checks and
entries, one call). The rules, the change log and the timeline are those of real work, and
`verify_history` holds. Only on a demo database: the clock refuses any other.
"""

import datetime
import random
import uuid
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.accounts.models import Membership
from taizhang.accounts.services import user_create
from taizhang.campaigns.models import Campaign, OrgUnit
from taizhang.core.context import request_context
from taizhang.ledger.demo import DEMO_REASON, DemoClock
from taizhang.ledger.models import Target

from . import acceptance, legal, outcomes, petitions, pilots, plans, verification
from .demo_story import Act, Sitting, Story
from .models import Lease, Policy
from .workflow import target_step, targets_step

State = Target.State
# The story's own accounts (a street's staff, a system's rights holders), by unit code: no password.
STORY_ACCOUNT = "demo-%s"


class Cast:
    """Who does what in the story: the demo accounts where they hold the role (the `street`
    account in its street, `unit` for its rights unit, `office`, `group`), and for the other
    streets and the rights holders of each system an account of the story's own, which cannot
    log in (no password)."""

    def __init__(self, campaign: Campaign):
        users = {u.username: u for u in get_user_model().objects.filter(
            memberships__unit__campaign=campaign).distinct()}
        self.office, self.group = users["office"], users["group"]
        self.street_of, self.holder_of = {}, {}
        for membership in Membership.objects.filter(unit__campaign=campaign, user__in=users.values()).select_related(
                "unit"):
            user = users[membership.user.username]
            if membership.role == Membership.Role.STREET:
                self.street_of[membership.unit_id] = user
            elif membership.role == Membership.Role.UNIT:
                self.holder_of[membership.unit_id] = user
        units = OrgUnit.objects.filter(campaign=campaign)
        unusable = make_password(None)
        for unit in units.filter(kind=OrgUnit.Kind.STREET).order_by("sort"):
            if unit.pk not in self.street_of:
                self.street_of[unit.pk] = self._account(unit, Membership.Role.STREET, unusable, _(
                    "%(unit)s staff (demo)") % {"unit": unit.name})
        for unit in units.filter(kind=OrgUnit.Kind.SYSTEM).order_by("sort"):
            if unit.pk not in self.holder_of:
                self.holder_of[unit.pk] = self._account(unit, Membership.Role.UNIT, unusable, _(
                    "%(unit)s rights holders (demo)") % {"unit": unit.name})

    @staticmethod
    def _account(unit: OrgUnit, role: str, password_hash: str, name: str):
        return user_create(actor=None, username=STORY_ACCOUNT % unit.code.lower(), name=name,
                           password_hash=password_hash, must_change_password=False, memberships=[(unit, role)],
                           reason=DEMO_REASON)

    def street(self, target: Target):
        return self.street_of[target.street_id]

    def holder(self, target: Target):
        return self.holder_of.get(target.responsible_unit_id) or self.holder_of[target.system_id]

    def who(self, name: str, target: Target):
        return {"street": self.street, "holder": self.holder}.get(name, lambda t: getattr(self, name))(target)


class Run:
    """What the acts of one story share: the cast, each target's records so far, the policies."""

    def __init__(self, campaign: Campaign):
        self.campaign = campaign
        self.cast = Cast(campaign)
        self.records: dict[int, dict] = {}
        self.policies = dict(Policy.objects.filter(campaign=campaign).values_list("title", "pk"))

    def of(self, target: Target) -> dict:
        return self.records.setdefault(target.pk, {})


def _pilot(run: Run, target: Target, act: Act):
    pilots.pilot_mark(target=target, actor=run.cast.street(target), is_pilot=True)


def _verify_record(run: Run, target: Target, act: Act):
    run.of(target)["verification"] = verification.verification_record(
        target=target, actor=run.cast.street(target), facts=act.args["facts"], tenants=act.args["tenants"])


def _confirm(side: str) -> Callable:
    def confirm(run: Run, target: Target, act: Act):
        verification.verification_confirm(verification=run.of(target)["verification"],
                                          actor=run.cast.who(side, target))
    return confirm


def _step(run: Run, target: Target, act: Act):
    target_step(target=target, to=act.args["to"], actor=run.cast.who(act.args["who"], target))


def _outcome(run: Run, target: Target, act: Act):
    outcomes.outcome_record(target=target, actor=run.cast.street(target), stage=act.args["stage"],
                            values=act.args["values"])


def _plan_item(run: Run, target: Target, act: Act) -> dict:
    owners = {"street": target.street, "unit": target.responsible_unit or target.street}
    steps = [{"description": s["description"], "means": s["means"], "owner": owners[s["owner"]],
              "due_on": s["due_on"], "policies": [run.policies[t] for t in s["policies"] if t in run.policies]}
             for s in act.args["steps"]]
    return {"target": target, "planned_on": act.day, "means": act.args["means"], "summary": act.args["summary"],
            "steps": steps}


def _plan_create(run: Run, target: Target, act: Act):
    run.of(target)["plan"] = plans.plan_create(actor=run.cast.street(target), **_plan_item(run, target, act))


def _plan_new_version(run: Run, target: Target, act: Act):
    run.of(target)["plan"] = plans.plan_new_version(target=target, actor=run.cast.street(target))


def _plan_submit(run: Run, target: Target, act: Act):
    plans.plan_submit(plan=run.of(target)["plan"], actor=run.cast.street(target))


def _plan_approve(run: Run, target: Target, act: Act):
    plans.plan_approve(plan=run.of(target)["plan"], actor=run.cast.office)


def _hold(run: Run, target: Target, act: Act):
    target_step(target=target, to=State.ON_HOLD, actor=run.cast.office, hold_reason=act.args["reason"],
                hold_review_on=act.args["review_on"])


def _resume(run: Run, target: Target, act: Act):
    target_step(target=target, to=target.held_from, actor=run.cast.office)


def _acceptance(run: Run, target: Target, act: Act):
    acceptance.acceptance_record(target=target, actor=run.cast.office, **act.args)


def _inspection(run: Run, target: Target, act: Act):
    acceptance.inspection_record(target=target, actor=run.cast.street(target), passed=act.args["passed"],
                                 findings=act.args["findings"], done_on=act.day)


def _lesson(run: Run, target: Target, act: Act):
    pilots.lesson_record(target=target, actor=run.cast.street(target), **act.args)


def _lease(run: Run, target: Target, act: Act):
    run.of(target)["lease"] = legal.lease_record(target=target, actor=run.cast.street(target), **act.args)


def _lease_notice(run: Run, target: Target, act: Act):
    run.of(target)["lease"] = legal.lease_notice(lease=run.of(target)["lease"], actor=run.cast.street(target),
                                                 sent_on=act.day)


def _lease_answer(run: Run, target: Target, act: Act):
    run.of(target)["lease"] = legal.lease_answer(lease=run.of(target)["lease"], actor=run.cast.street(target),
                                                 answer=act.args["answer"], answered_on=act.day)


def _lease_expose(run: Run, target: Target, act: Act):
    run.of(target)["lease"] = legal.lease_expose(lease=run.of(target)["lease"], actor=run.cast.street(target),
                                                 exposed_on=act.day)


def _judicial_open(run: Run, target: Target, act: Act):
    lease: Lease = run.of(target)["lease"]
    run.of(target)[act.args["stage"]] = legal.legal_step_open(lease=lease, actor=run.cast.group, **act.args)


def _judicial_done(run: Run, target: Target, act: Act):
    legal.legal_step_done(step=run.of(target)[act.args["stage"]], actor=run.cast.group, done_on=act.day,
                          result=act.args["result"])


def _petition(run: Run, target: Target, act: Act):
    run.of(target)["petition"] = petitions.petition_record(target=target, actor=run.cast.street(target),
                                                           received_on=act.day, **act.args)


def _petition_handle(run: Run, target: Target, act: Act):
    status = act.args["status"]
    reply = act.args.get("reply", "")
    run.of(target)["petition"] = petitions.petition_handle(
        petition=run.of(target)["petition"], actor=run.cast.street(target), status=status, reply=reply,
        replied_on=act.day if reply else None)


ACTS: dict[str, Callable[[Run, Target, Act], object]] = {
    "pilot": _pilot, "verify_record": _verify_record, "confirm_street": _confirm("street"),
    "confirm_holder": _confirm("holder"), "step": _step, "outcome": _outcome, "plan_create": _plan_create,
    "plan_new_version": _plan_new_version, "plan_submit": _plan_submit, "plan_approve": _plan_approve,
    "hold": _hold, "resume": _resume, "acceptance": _acceptance, "inspection": _inspection, "lesson": _lesson,
    "lease": _lease, "lease_notice": _lease_notice, "lease_answer": _lease_answer, "lease_expose": _lease_expose,
    "judicial_open": _judicial_open, "judicial_done": _judicial_done, "petition": _petition,
    "petition_handle": _petition_handle,
}


# The bulk forms: a sitting of these is one call of the service's form for several.

def _steps(run: Run, actor, items: list[tuple[Target, Act]]):
    targets_step(targets=[t for t, _act in items], to=items[0][1].args["to"], actor=actor)


def _plans_submit(run: Run, actor, items: list[tuple[Target, Act]]):
    plans.plans_submit(plans=[run.of(t)["plan"] for t, _act in items], actor=actor)


def _plans_approve(run: Run, actor, items: list[tuple[Target, Act]]):
    plans.plans_approve(plans=[run.of(t)["plan"] for t, _act in items], actor=actor)


def _acceptances(run: Run, actor, items: list[tuple[Target, Act]]):
    acceptance.acceptances_record(actor=actor, items=[dict(act.args, target=t) for t, act in items])


def _inspections(run: Run, actor, items: list[tuple[Target, Act]]):
    acceptance.inspections_record(actor=actor, items=[dict(act.args, target=t, done_on=act.day) for t, act in items])


def _verifications(run: Run, actor, items: list[tuple[Target, Act]]):
    made = verification.verifications_record(actor=actor, items=[
        {"target": t, "facts": act.args["facts"], "tenants": act.args["tenants"]} for t, act in items])
    for (target, _act), record in zip(items, made, strict=True):
        run.of(target)["verification"] = record


def _confirms(run: Run, actor, items: list[tuple[Target, Act]]):
    verification.verifications_confirm(verifications=[run.of(t)["verification"] for t, _act in items], actor=actor)


def _outcomes(run: Run, actor, items: list[tuple[Target, Act]]):
    outcomes.outcomes_record(actor=actor, items=[dict(act.args, target=t) for t, act in items])


def _plans_create(run: Run, actor, items: list[tuple[Target, Act]]):
    made = plans.plans_create(actor=actor, items=[_plan_item(run, t, act) for t, act in items])
    for (target, _act), plan in zip(items, made, strict=True):
        run.of(target)["plan"] = plan


BULK: dict[str, tuple[Callable, Callable]] = {
    # kind: (whose hand, for a target and the act; the bulk call)
    "verify_record": (lambda run, t, act: run.cast.street(t), _verifications),
    "confirm_street": (lambda run, t, act: run.cast.street(t), _confirms),
    "confirm_holder": (lambda run, t, act: run.cast.holder(t), _confirms),
    "outcome": (lambda run, t, act: run.cast.street(t), _outcomes),
    "plan_create": (lambda run, t, act: run.cast.street(t), _plans_create),
    "step": (lambda run, t, act: run.cast.who(act.args["who"], t), _steps),
    "plan_submit": (lambda run, t, act: run.cast.street(t), _plans_submit),
    "plan_approve": (lambda run, t, act: run.cast.office, _plans_approve),
    "acceptance": (lambda run, t, act: run.cast.office, _acceptances),
    "inspection": (lambda run, t, act: run.cast.office, _inspections),
}


def demo_story_write(*, campaign: Campaign, story: Story, clock: DemoClock, until: datetime.date, seed: int,
                     progress: Callable[[int], object] | None = None) -> int:
    """Take the story's sittings before `until` (a day of the campaign as loaded) through the
    services, each under the clock set to its moment and a request id of its own (drawn from
    the seed: the same story, the same ids); a sitting of several acts of a kind with a bulk
    form goes through that form, hand by hand. Returns the number of acts taken."""
    run = Run(campaign)
    ids = random.Random(seed)
    stop = timezone.make_aware(datetime.datetime.combine(until, datetime.time()))
    done = 0
    for sitting in story.sittings:
        if sitting.moment >= stop:
            break
        clock.set(sitting.moment)
        with request_context(uuid.UUID(int=ids.getrandbits(128), version=4)):
            _sit(run, sitting)
        done += len(sitting.items)
        if progress is not None:
            progress(len(sitting.items))
    return done


def _sit(run: Run, sitting: Sitting) -> None:
    if len(sitting.items) == 1 or sitting.kind not in BULK:
        for target, act in sitting.items:
            ACTS[act.kind](run, target, act)
        return
    hand, bulk = BULK[sitting.kind]
    by_hand: dict = {}
    for target, act in sitting.items:
        by_hand.setdefault(hand(run, target, act), []).append((target, act))
    for actor, items in by_hand.items():
        bulk(run, actor, items)


def story_targets(campaign: Campaign) -> list[Target]:
    """The campaign's targets with what the story reads of them, in one query."""
    return list(Target.objects.filter(campaign=campaign).select_related(
        "campaign", "street", "system", "target_type", "responsible_unit").order_by("code"))

