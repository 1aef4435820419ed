"""A supervision order's path: its table of steps and who may take each.

The mechanism (lock, conditional update, event and change-log entry in one transaction) is
core.transitions, as for a target. Who may take a step is the access rule's: a step names
the side that takes it, the order's receiving unit (Action.ORDER_RECEIVE), its issuing unit
(Action.ORDER_ISSUE) or the HQ office for the campaign (Action.ORDER_REFER).
"""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import is_system_or_superuser, may_for_unit, may_in_campaign
from taizhang.core.transitions import EventFields, Machine, Step, TransitionRefused

from .models import Order, OrderEvent
from .snapshots import ORDER

State = Order.State
OPEN = (State.ISSUED, State.SIGNED, State.IN_PROGRESS, State.ANSWERED)
# Steps that need a reason written down: sending an order back, either way.
NEEDS_REASON = {(State.ISSUED, State.RETURNED), (State.ANSWERED, State.IN_PROGRESS)}

STEPS = (
    Step(State.ISSUED, State.SIGNED, Action.ORDER_RECEIVE, None, gettext_lazy("Sign for it (签收)")),
    Step(State.ISSUED, State.RETURNED, Action.ORDER_RECEIVE, None, gettext_lazy("Send it back (退办)")),
    Step(State.RETURNED, State.ISSUED, Action.ORDER_ISSUE, None, gettext_lazy("Issue again"), by_service=True),
    Step(State.RETURNED, State.WITHDRAWN, Action.ORDER_ISSUE, None, gettext_lazy("Withdraw")),
    Step(State.ISSUED, State.WITHDRAWN, Action.ORDER_ISSUE, None, gettext_lazy("Withdraw")),
    Step(State.SIGNED, State.IN_PROGRESS, Action.ORDER_RECEIVE, None, gettext_lazy("Start work (办理)")),
    # Reporting done goes with its report (supervision.orders.order_answer).
    *(Step(state, State.ANSWERED, Action.ORDER_RECEIVE, None, gettext_lazy("Report it done"), by_service=True)
      for state in (State.SIGNED, State.IN_PROGRESS, State.REFERRED)),
    Step(State.ANSWERED, State.DONE, Action.ORDER_ISSUE, None, gettext_lazy("Confirm it done (办结)")),
    Step(State.ANSWERED, State.IN_PROGRESS, Action.ORDER_ISSUE, None, gettext_lazy("Send back for more work")),
    # With a Referral record (supervision.orders.order_refer), by hand or by the escalation rule.
    *(Step(state, State.REFERRED, Action.ORDER_REFER, None, gettext_lazy("Refer to discipline inspection"),
           by_service=True) for state in OPEN),
)


def receiving_side(actor, order: Order) -> bool:
    """Whether `actor` acts for the unit the order was sent to."""
    return is_system_or_superuser(actor) or may_for_unit(actor, order.receiver_id, Action.ORDER_RECEIVE)


def issuing_side(actor, order: Order) -> bool:
    """Whether `actor` acts for the unit that issued the order, and not also for the unit it was
    sent to: nobody confirms, sends back or extends their own unit's work."""
    if is_system_or_superuser(actor):
        return True
    return (may_for_unit(actor, order.issuer_id, Action.ORDER_ISSUE)
            and not may_for_unit(actor, order.receiver_id, Action.ORDER_RECEIVE))


def may_take(actor, order: Order, step: Step) -> bool:
    """Whether `actor` may take `step` on `order`: acting for the side the step names."""
    if step.who == Action.ORDER_RECEIVE:
        return receiving_side(actor, order)
    if step.who == Action.ORDER_ISSUE:
        return issuing_side(actor, order)
    return is_system_or_superuser(actor) or may_in_campaign(actor, order.campaign, step.who)


def _written(order: Order, step: Step, inputs) -> dict:
    """What a step writes beside the state: its closing or referral time, a new receiver and
    deadline when issued again; a step sending the order back needs a reason."""
    if (step.source, step.target) in NEEDS_REASON and not (inputs.get("reason") or "").strip():
        raise TransitionRefused(_("Sending an order back needs a reason."))
    now = timezone.now()
    written = {}
    if step.target in (State.DONE, State.WITHDRAWN):
        written["closed_at"] = now
    if step.target == State.REFERRED:
        written["referred_at"] = now
    if step.target == State.ISSUED and inputs.get("receiver") is not None:
        written["receiver"] = inputs["receiver"]
    if step.target == State.ISSUED and inputs.get("deadline") is not None:
        written["deadline"] = inputs["deadline"]
    return written


def _lock(pk) -> Order:
    return Order.objects.select_for_update(of=("self",)).select_related("campaign").get(pk=pk)


def _lock_many(pks) -> dict:
    # The campaign is not read with them: its rules are JSON, and the sweep refers hundreds at once.
    return Order.objects.select_for_update(of=("self",)).prefetch_related("targets").in_bulk(pks)


MACHINE = Machine(
    model=Order, steps=STEPS, event_model=OrderEvent, event_fields=EventFields(subject="order", at="at"),
    may=may_take, snapshot=ORDER.snapshot,
    change=lambda order, before, after: ORDER.change(order, "update", before, after),
    lock=_lock, lock_many=_lock_many, fields=_written,
)
