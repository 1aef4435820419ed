"""The orders' pages: the list, an order with its trail and what the user may do on it, the
issuing form, 纪检监察's queue. Every order is found through the access rule (404 when the
user may not see it); every write is one service call, its refusal shown as a message."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import may_in_campaign
from taizhang.campaigns.models import OrgUnit
from taizhang.core.errors import ServiceError
from taizhang.core.forms import errors_text
from taizhang.core.requests import parse_id
from taizhang.core.transitions import offered
from taizhang.ledger.models import Target
from taizhang.ledger.selectors import current_campaign

from . import orders as services
from .forms import (
    AccountabilityForm,
    AnswerForm,
    DecisionForm,
    ExtensionForm,
    OrderFilterForm,
    OrderForm,
    ReferForm,
    ReissueForm,
    StepForm,
    issuer_units,
)
from .models import Attachment, Extension, Order, Referral
from .selectors import colour_counts, colour_q, orders_visible, referrals_visible
from .workflow import MACHINE, NEEDS_REASON, issuing_side, receiving_side

PAGE_SIZE = 50
State = Order.State


def _order(request, pk) -> Order:
    """The order, if the user may see it (404 otherwise: never a hint that it exists)."""
    campaign = current_campaign(request)
    return get_object_or_404(orders_visible(request.user, campaign).select_related("campaign", "issuer", "receiver"),
                             pk=pk)


@require_GET
@login_required
def order_list(request):
    campaign = current_campaign(request)
    form = OrderFilterForm(request.GET, campaign=campaign)
    filters = form.cleaned_data if form.is_valid() else {}
    rules, today = campaign.supervision_rules(), timezone.localdate()
    orders = orders_visible(request.user, campaign)
    counts = colour_counts(orders, today, rules["yellow_within_days"])
    if filters.get("state"):
        orders = orders.filter(state=filters["state"])
    if filters.get("colour"):
        orders = orders.filter(colour_q(filters["colour"], today, rules["yellow_within_days"]))
    if filters.get("receiver"):
        orders = orders.filter(receiver=filters["receiver"])
    if filters.get("target"):
        orders = orders.filter(targets__code=filters["target"])
    page = Paginator(orders.select_related("issuer", "receiver"), PAGE_SIZE).get_page(request.GET.get("page"))
    for order in page:
        order.shown_colour = order.colour(today, rules["yellow_within_days"])
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "supervision/orders.html", {
        "campaign": campaign, "form": form, "page": page, "query": query.urlencode(), "counts": counts,
        "may_issue": issuer_units(request.user, campaign).exists()}, status=400 if form.errors else 200)


@require_GET
@login_required
def order_detail(request, pk):
    order = _order(request, pk)
    return render(request, "supervision/order.html", _detail(request, order))


def _detail(request, order: Order) -> dict:
    user, campaign = request.user, order.campaign
    rules = campaign.supervision_rules()
    receiving = receiving_side(user, order)
    asked = order.extension_requests.filter(status=Extension.Status.ASKED).first()
    referral = getattr(order, "referral", None)
    return {
        "order": order, "campaign": campaign, "colour": order.colour(timezone.localdate(), rules["yellow_within_days"]),
        "targets": order.targets.order_by("code"),
        "trail": order.trail.select_related("actor").prefetch_related("attachments"),
        "extensions": order.extension_requests.select_related("asked_by", "decided_by"),
        "steps": [(s, (s.source, s.target) in NEEDS_REASON) for s in offered(MACHINE, order, user)],
        "may_answer": receiving and order.state in (State.SIGNED, State.IN_PROGRESS, State.REFERRED),
        "may_ask": receiving and order.state in (State.SIGNED, State.IN_PROGRESS) and asked is None
        and order.extensions < rules["extensions_max"],
        "asked": asked, "may_decide": asked is not None and issuing_side(user, order),
        "may_reissue": order.state == State.RETURNED and issuing_side(user, order),
        "may_refer": referral is None and order.is_open() and order.state != State.RETURNED
        and may_in_campaign(user, campaign, Action.ORDER_REFER),
        "referral": referral, "outcomes": referral.outcomes.select_related("person", "unit") if referral else [],
        "may_record": referral is not None and may_in_campaign(user, campaign, Action.REFERRAL_RECORD),
        "answer_form": AnswerForm(), "extension_form": ExtensionForm(), "decision_form": DecisionForm(),
        "reissue_form": ReissueForm(campaign=campaign), "refer_form": ReferForm(),
        "accountability_form": AccountabilityForm(outcomes=rules["outcomes"]),
    }


def _write(request, order: Order, form, action, success: str):
    """Read the form, call the service, and go back to the order with what came of it."""
    if not form.is_valid():
        messages.error(request, errors_text(form))
    else:
        try:
            action(form.cleaned_data)
        except ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, success)
    return redirect("supervision:order", pk=order.pk)


@require_POST
@login_required
def order_step(request, pk):
    order = _order(request, pk)
    return _write(request, order, StepForm(request.POST), lambda d: services.order_step(
        actor=request.user, order=order, to=d["to"], reason=d["reason"]), _("Order updated."))


@require_POST
@login_required
def order_answer(request, pk):
    order = _order(request, pk)
    return _write(request, order, AnswerForm(request.POST), lambda d: services.order_answer(
        actor=request.user, order=order, text=d["text"], done=d["done"], files=request.FILES.getlist("files")),
        _("Answer recorded."))


@require_GET
@login_required
def attachment(request, pk, attachment_id):
    """A file sent with an answer, to those who may see the order."""
    order = _order(request, pk)
    found = get_object_or_404(Attachment, pk=attachment_id, event__order=order)
    return FileResponse(found.file.open("rb"), as_attachment=True, filename=found.name,
                        content_type=found.content_type)


@require_POST
@login_required
def extension_ask(request, pk):
    order = _order(request, pk)
    return _write(request, order, ExtensionForm(request.POST), lambda d: services.extension_ask(
        actor=request.user, order=order, deadline=d["deadline"], reason=d["reason"]), _("Extension asked."))


@require_POST
@login_required
def extension_decide(request, pk, extension_id):
    order = _order(request, pk)
    extension = get_object_or_404(order.extension_requests, pk=extension_id)
    return _write(request, order, DecisionForm(request.POST), lambda d: services.extension_decide(
        actor=request.user, extension=extension, grant=d["grant"], note=d["note"]), _("Extension decided."))


@require_POST
@login_required
def order_reissue(request, pk):
    order = _order(request, pk)
    return _write(request, order, ReissueForm(request.POST, campaign=order.campaign), lambda d: services.order_reissue(
        actor=request.user, order=order, receiver=d["receiver"], deadline=d["deadline"], reason=d["reason"]),
        _("Order issued again."))


@require_POST
@login_required
def order_refer(request, pk):
    order = _order(request, pk)
    return _write(request, order, ReferForm(request.POST), lambda d: services.order_refer(
        actor=request.user, order=order, reason=d["reason"]), _("Order referred to discipline inspection."))


@require_POST
@login_required
def accountability_add(request, pk):
    order = _order(request, pk)
    referral = get_object_or_404(Referral, order=order)
    form = AccountabilityForm(request.POST, outcomes=order.campaign.supervision_rules()["outcomes"])
    return _write(request, order, form, lambda d: services.accountability_record(
        actor=request.user, referral=referral, person=d["person"], unit=order.receiver, outcome=d["outcome"],
        reason=d["reason"]), _("Outcome recorded."))


@login_required
def order_new(request):
    campaign = current_campaign(request)
    issuers = issuer_units(request.user, campaign)
    if not issuers.exists():
        raise PermissionDenied
    form = OrderForm(request.POST or None, campaign=campaign, issuers=issuers, initial=_initial(request, campaign))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            order = services.order_issue(actor=request.user, campaign=campaign, **data)
        except ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Order %(number)s issued.") % {"number": order.number})
            return redirect(order)
    return render(request, "supervision/order_new.html", {"campaign": campaign, "form": form},
                  status=400 if form.errors else 200)


def _initial(request, campaign) -> dict:
    """An order opened from a target's page (?target=id) or from an early warning
    (?street=code&subject=...): its receiver, targets and subject filled in."""
    initial = {"issuer": issuer_units(request.user, campaign).first()}
    target_id = parse_id(request.GET.get("target"))
    if target_id is not None:
        target = Target.objects.visible_to(request.user).filter(campaign=campaign, pk=target_id).first()
        if target is not None:
            initial.update(receiver=target.street, targets=target.code,
                           subject=_("Supervision of %(code)s %(name)s") % {"code": target.code, "name": target.name})
    street = campaign.units.filter(kind=OrgUnit.Kind.STREET, code=request.GET.get("street") or "").first()
    if street is not None:
        initial["receiver"] = street
    if request.GET.get("subject"):
        initial["subject"] = request.GET["subject"][:200]
    return initial


@require_GET
@login_required
def referrals(request):
    """纪检监察's queue: the referred orders the user may see, open ones first."""
    campaign = current_campaign(request)
    queue = (referrals_visible(request.user, campaign).select_related("order__receiver", "order__issuer")
             .annotate(outcome_count=Count("outcomes")).order_by("closed_at", "-referred_at"))
    page = Paginator(queue, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "supervision/referrals.html", {"campaign": campaign, "page": page})
