"""The services that write supervision orders: issuing, each step, answers, extensions,
referral to 纪检监察 and what 纪检监察 records. Each checks who acts and what the order
allows, writes under the order's lock and logs its change in the same transaction."""

import datetime

from django.db.models import F
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import may_for_unit, may_in_campaign, visible_q
from taizhang.campaigns.models import OrgUnit
from taizhang.core.changelog import changelog_append
from taizhang.core.db import atomic
from taizhang.core.errors import ConflictError, ServiceError
from taizhang.core.snapshots import created
from taizhang.core.transitions import transition, transition_many
from taizhang.ledger.models import Target

from . import attachments, notices
from .models import Accountability, Attachment, Extension, Order, OrderCounter, OrderEvent, Referral
from .snapshots import EXTENSION, ORDER
from .workflow import MACHINE, issuing_side, receiving_side

State = Order.State
# The units an order may be sent to, and the target field through which each reaches a target.
RECEIVERS = {OrgUnit.Kind.STREET: "street_id", OrgUnit.Kind.RIGHTS_UNIT: "responsible_unit_id",
             OrgUnit.Kind.SYSTEM: "system_id", OrgUnit.Kind.GROUP: None}
ISSUERS = (OrgUnit.Kind.OFFICE, OrgUnit.Kind.GROUP)
SUBJECT_MAX = Order._meta.get_field("subject").max_length


class SupervisionError(ServiceError):
    """A supervision write that is refused; the message says why."""


def _field(model, name: str) -> str:
    """What a refusal calls a field: its name as a form labels it."""
    return capfirst(model._meta.get_field(name).verbose_name)


def _lock(order_pk: int) -> Order:
    # The order's row alone: FOR UPDATE over the join would lock the campaign's row too, and
    # every order of the campaign would wait on every other.
    return Order.objects.select_for_update(of=("self",)).select_related("campaign").get(pk=order_pk)


def _text(value: str, field: str, *, limit: int | None = None) -> str:
    value = (value or "").strip()
    if not value:
        raise SupervisionError(_("%(field)s: this field is required.") % {"field": field})
    if limit and len(value) > limit:
        raise SupervisionError(_("%(field)s: at most %(limit)d characters.") % {"field": field, "limit": limit})
    if "\x00" in value:
        raise SupervisionError(_("%(field)s: holds a character that cannot be stored.") % {"field": field})
    return value


def _deadline(deadline, *, field: str) -> datetime.date:
    if not isinstance(deadline, datetime.date):
        raise SupervisionError(_("%(field)s: a date is needed.") % {"field": field})
    if deadline < timezone.localdate():
        raise SupervisionError(_("%(field)s: %(day)s is in the past.") % {"field": field, "day": deadline.isoformat()})
    return deadline


def _check_receiver(campaign, issuer: OrgUnit, receiver: OrgUnit, targets: list[Target]) -> None:
    """The receiver is a unit of the campaign an order can go to, not the issuer, and every
    target lies within its reach (a street's orders are about the street's targets)."""
    if receiver.campaign_id != campaign.pk or receiver.kind not in RECEIVERS:
        raise SupervisionError(_("Sent to: “%(unit)s” is not a street, system, rights unit or working group of "
                                 "this campaign.") % {"unit": receiver})
    if receiver.pk == issuer.pk:
        raise SupervisionError(_("Sent to: an order goes to another unit than the one issuing it."))
    field = RECEIVERS[receiver.kind]
    outside = [t.code for t in targets if field and getattr(t, field) != receiver.pk]
    if outside:
        raise SupervisionError(_("Targets: %(codes)s are not “%(unit)s”'s.") % {
            "codes": "、".join(outside), "unit": receiver})


def _next_number(campaign, year: int) -> tuple[int, str]:
    """The year's next serial and the number it makes (the preset's format), taken under the
    counter row's lock: two orders issued at once never share a number."""
    OrderCounter.objects.bulk_create([OrderCounter(campaign=campaign, year=year)], ignore_conflicts=True)
    counter = OrderCounter.objects.filter(campaign=campaign, year=year)
    counter.update(last=F("last") + 1)
    serial = counter.values_list("last", flat=True).get()
    return serial, campaign.supervision_rules()["number_format"].format(year=year, number=serial)


@atomic
def order_issue(*, actor, campaign, issuer: OrgUnit, receiver: OrgUnit, subject: str, text: str,
                deadline: datetime.date, priority: str = Order.Priority.NORMAL, targets=()) -> Order:
    """Issue an order from `issuer` (the HQ office or a working group `actor` acts for) to
    `receiver`, about `targets` (which `actor` must see, all within the receiver's reach)."""
    if issuer.campaign_id != campaign.pk or issuer.kind not in ISSUERS:
        raise SupervisionError(_("Issued by: orders are issued by the HQ office or a working group of this campaign."))
    if not may_for_unit(actor, issuer.pk, Action.ORDER_ISSUE):
        raise SupervisionError(_("Issued by: you do not issue orders for “%(unit)s”.") % {"unit": issuer})
    subject = _text(subject, _field(Order, "subject"), limit=SUBJECT_MAX)
    text = _text(text, _field(Order, "text"))
    deadline = _deadline(deadline, field=_field(Order, "deadline"))
    if priority not in Order.Priority.values:
        raise SupervisionError(_("%(field)s: “%(value)s” is not one of the choices.") % {
            "field": _field(Order, "priority"), "value": priority})
    pks = sorted({t.pk if isinstance(t, Target) else int(t) for t in targets})
    found = list(Target.objects.filter(campaign=campaign, pk__in=pks).filter(visible_q(actor)))
    if len(found) != len(pks):
        raise SupervisionError(_("Targets: some are not in this campaign or not yours to see."))
    _check_receiver(campaign, issuer, receiver, found)
    now = timezone.now()
    year = timezone.localdate(now).year
    serial, number = _next_number(campaign, year)
    order = Order.objects.create(
        campaign=campaign, year=year, serial=serial, number=number, issuer=issuer,
        issued_by=_person(actor), receiver=receiver,
        subject=subject, text=text, deadline=deadline, priority=priority, issued_at=now)
    order.targets.set(found)
    event = OrderEvent.objects.create(order=order, kind=OrderEvent.Kind.STEP, from_state="", to_state=State.ISSUED,
                                      actor=order.issued_by, at=now, comment="")
    changelog_append(changes=[created(order)], actor=actor, reason=_("order issued"))
    notices.issued(order, event.pk)
    return order


def order_step(*, actor, order: Order, to: str, reason: str = ""):
    """Take one of the order's plain steps (sign for it, send it back, start, confirm it done,
    send it back for more work, withdraw); `reason` is the step's comment, needed to send back."""
    return transition(MACHINE, row=order, to=to, actor=actor, comment=(reason or "").strip(),
                      inputs={"reason": reason})


@atomic
def order_reissue(*, actor, order: Order, receiver: OrgUnit | None = None, deadline=None, reason: str = ""):
    """Issue a sent-back order again, to the same unit or another, with a new deadline if given."""
    current = _lock(order.pk)
    receiver = receiver or current.receiver
    _check_receiver(current.campaign, current.issuer, receiver, list(current.targets.all()))
    if deadline is not None:
        deadline = _deadline(deadline, field=_field(Order, "deadline"))
    # Written by the step itself (workflow._written), so that its log entry holds them.
    event = transition(MACHINE, row=order, to=State.ISSUED, actor=actor, comment=(reason or "").strip(),
                       inputs={"receiver": receiver, "deadline": deadline})
    notices.issued(order, event.pk)
    return event


def _acting(actor, order: Order, action: Action, what: str) -> None:
    """Refuse unless `actor` acts for the order's receiving (or issuing) side."""
    if action == Action.ORDER_RECEIVE and not receiving_side(actor, order):
        raise SupervisionError(_("Only the unit the order was sent to may %(what)s.") % {"what": what})
    if action == Action.ORDER_ISSUE and not issuing_side(actor, order):
        raise SupervisionError(_("Only the unit that issued the order may %(what)s.") % {"what": what})


def _event(order: Order, kind: str, actor, comment: str, now) -> OrderEvent:
    return OrderEvent.objects.create(order=order, kind=kind, from_state=order.state, to_state=order.state,
                                     actor=_person(actor), at=now, comment=comment)


@atomic
def order_answer(*, actor, order: Order, text: str, done: bool = False, files=()) -> OrderEvent:
    """The receiving unit's answer (反馈): progress, or with `done` its report that the work is
    done (the order then waits for the issuer to confirm), with `files` (uploads, checked
    before anything is written). Refused on a finished order."""
    files = attachments.checked(files)
    current = _lock(order.pk)
    if current.state not in (State.SIGNED, State.IN_PROGRESS, State.REFERRED):
        raise SupervisionError(_("Order %(number)s is “%(state)s”: it takes no answer now.") % {
            "number": current.number, "state": current.get_state_display()})
    _acting(actor, current, Action.ORDER_RECEIVE, _("answer it"))
    text = _text(text, _("Answer"))
    now = timezone.now()
    event = _event(current, OrderEvent.Kind.FEEDBACK, actor, text, now)
    saved = []
    for name, data, kind in files:
        content, size, sha256 = attachments.stored(name, data)
        saved.append(Attachment.objects.create(event=event, file=content, name=name, content_type=kind, size=size,
                                               sha256=sha256))
    changelog_append(changes=[created(event), *(created(a) for a in saved)], actor=actor, reason=_("order answered"))
    if done:
        transition(MACHINE, row=current, to=State.ANSWERED, actor=actor, comment=text)
    elif current.state == State.SIGNED:
        transition(MACHINE, row=current, to=State.IN_PROGRESS, actor=actor)
    notices.answered(current, event.pk, done)
    order.refresh_from_db()
    return event


@atomic
def extension_ask(*, actor, order: Order, deadline: datetime.date, reason: str) -> Extension:
    """The receiving unit asks for a later deadline, with a reason, before the deadline passes
    and within the preset's number of extensions."""
    current = _lock(order.pk)
    if current.state not in (State.SIGNED, State.IN_PROGRESS):
        raise SupervisionError(_("Order %(number)s is “%(state)s”: no extension can be asked now.") % {
            "number": current.number, "state": current.get_state_display()})
    _acting(actor, current, Action.ORDER_RECEIVE, _("ask for an extension"))
    reason = _text(reason, _field(Extension, "reason"))
    today = timezone.localdate()
    if today > current.deadline:
        raise SupervisionError(_("The deadline (%(day)s) has passed: an extension is asked before it.") % {
            "day": current.deadline.isoformat()})
    limit = current.campaign.supervision_rules()["extensions_max"]
    if current.extensions >= limit:
        raise SupervisionError(_("Order %(number)s has had %(n)d extensions, the most the campaign allows.") % {
            "number": current.number, "n": current.extensions})
    field = _field(Extension, "deadline_asked")
    if not isinstance(deadline, datetime.date) or deadline <= current.deadline:
        raise SupervisionError(_("%(field)s: must be after the present deadline (%(day)s).") % {
            "field": field, "day": current.deadline.isoformat()})
    if current.extension_requests.filter(status=Extension.Status.ASKED).exists():
        raise SupervisionError(_("An extension is already waiting for a decision."))
    now = timezone.now()
    extension = Extension.objects.create(order=current, asked_by=_person(actor), asked_at=now, reason=reason,
                                         deadline_asked=deadline)
    _event(current, OrderEvent.Kind.EXTENSION_ASKED, actor,
           "%s → %s: %s" % (current.deadline.isoformat(), deadline.isoformat(), reason), now)
    changelog_append(changes=[created(extension)], actor=actor, reason=_("extension asked"))
    notices.extension_asked(current, extension)
    return extension


def _person(actor):
    return actor if actor is not None and actor.is_authenticated else None


@atomic
def extension_decide(*, actor, extension: Extension, grant: bool, note: str = "") -> Extension:
    """The issuing unit grants an extension (the deadline moves) or refuses it (a note says why)."""
    current = _lock(extension.order_id)
    _acting(actor, current, Action.ORDER_ISSUE, _("decide on an extension"))
    note = (note or "").strip()
    if not grant and not note:
        raise SupervisionError(_("Refusing an extension needs a reason."))
    now = timezone.now()
    status = Extension.Status.GRANTED if grant else Extension.Status.REFUSED
    if not Extension.objects.filter(pk=extension.pk, status=Extension.Status.ASKED).update(
            status=status, decided_by=_person(actor), decided_at=now, note=note):
        raise ConflictError(_("This extension was decided meanwhile; reload the page."))
    extension.refresh_from_db()
    kind = OrderEvent.Kind.EXTENSION_GRANTED if grant else OrderEvent.Kind.EXTENSION_REFUSED
    after = EXTENSION.snapshot(extension)
    changes = [EXTENSION.change(extension, "update", dict(after, status=Extension.Status.ASKED, note=""), after)]
    if grant:
        before = ORDER.snapshot(current)
        Order.objects.filter(pk=current.pk).update(deadline=extension.deadline_asked,
                                                   extensions=F("extensions") + 1, version=F("version") + 1)
        current.refresh_from_db()
        changes.append(ORDER.change(current, "update", before, ORDER.snapshot(current)))
    _event(current, kind, actor, note, now)
    changelog_append(changes=changes, actor=actor, reason=_("extension granted") if grant else _("extension refused"))
    notices.extension_decided(current, extension)
    return extension


def order_refer(*, actor, order: Order, reason: str) -> Referral:
    """Refer an open order to 纪检监察 with its whole trail: by the HQ office by hand, or by the
    escalation rule (actor None). Its trail stays the order's; the referral is 纪检监察's queue."""
    referral, = orders_refer(actor=actor, orders=[order], reasons=[reason])
    order.refresh_from_db()
    return referral


@atomic
def orders_refer(*, actor, orders: list[Order], reasons: list[str]) -> list[Referral]:
    """`order_refer` for many orders at once (the sweep's), each with its reason, all or none."""
    field = _field(Referral, "reason")
    reasons = [_text(reason, field) for reason in reasons]
    referred = Order.objects.filter(pk__in=[o.pk for o in orders], referral__isnull=False).values_list("number",
                                                                                                      flat=True)
    if referred:
        raise SupervisionError(_("Order %(number)s is already referred.") % {"number": "、".join(sorted(referred))})
    transition_many(MACHINE, rows=orders, to=State.REFERRED, actor=actor, comments=reasons)
    now = timezone.now()
    referrals = Referral.objects.bulk_create([
        Referral(order=order, referred_at=now, referred_by=_person(actor), reason=reason)
        for order, reason in zip(orders, reasons, strict=True)])
    changelog_append(changes=[created(r) for r in referrals], actor=actor,
                     reason=_("order referred to discipline inspection"))
    notices.referred(orders, referrals, now=now)
    return referrals


@atomic
def accountability_record(*, actor, referral: Referral, person, unit: OrgUnit, outcome: str,
                          reason: str) -> Accountability:
    """纪检监察 records what one responsible person is held to: an outcome from the preset's list
    or no fault found, always with the reason."""
    order = _lock(referral.order_id)
    if not may_in_campaign(actor, order.campaign, Action.REFERRAL_RECORD):
        raise SupervisionError(_("Only discipline inspection records what a referral comes to."))
    outcomes = order.campaign.supervision_rules()["outcomes"]
    if outcome not in (*outcomes, Accountability.NO_FAULT):
        raise SupervisionError(_("Outcome: “%(value)s” is not one of %(choices)s.") % {
            "value": outcome, "choices": "、".join(outcomes)})
    reason = _text(reason, _field(Accountability, "reason"))
    if unit.campaign_id != order.campaign_id:
        raise SupervisionError(_("Unit: “%(unit)s” is not of this campaign.") % {"unit": unit})
    if Accountability.objects.filter(referral=referral, person=person).exists():
        raise SupervisionError(_("An outcome is already recorded for %(person)s.") % {
            "person": person.get_full_name() or person.get_username()})
    record = Accountability.objects.create(referral=referral, person=person, unit=unit, outcome=outcome,
                                           reason=reason, recorded_by=_person(actor), recorded_at=timezone.now())
    changelog_append(changes=[created(record)], actor=actor, reason=_("accountability recorded"))
    return record
