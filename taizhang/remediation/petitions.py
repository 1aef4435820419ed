"""Petitions (信访) on a target: recording, handling and reply, and the stability-risk flag.

While a target has an open petition flagged as a stability risk, the target carries the
situation flag "petition_risk", set and cleared through the ledger's `target_update` so
that the change is logged and the target's priority re-evaluated.
"""

import datetime

from django.utils.translation import gettext as _

from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import may, visible_q
from taizhang.core.changelog import changelog_append
from taizhang.core.db import atomic
from taizhang.ledger.models import Target
from taizhang.ledger.services import target_lock, target_update

from .checks import RemediationError, check_day, clean, lock, refuse
from .models import Petition
from .snapshots import PETITION

Status = Petition.Status
# Statuses only move forward; a closed petition is history.
ORDER = (Status.RECEIVED, Status.HANDLING, Status.REPLIED, Status.CLOSED)
RISK_FLAG = Target.Flag.PETITION_RISK


def may_handle_petitions(user, target: Target) -> bool:
    """Street staff, the HQ office and the working group with the petitions duty (信访维稳组)
    record and handle petitions."""
    return may(user, target, Action.PETITION_HANDLE)


def _log(petition: Petition, action: str, before, actor, reason: str) -> None:
    changelog_append(changes=[PETITION.change(petition, action, before, PETITION.snapshot(petition))], actor=actor,
                     reason=reason)


def _sync_risk_flag(target: Target, actor) -> None:
    """Set or clear the target's "petition_risk" flag to match its open flagged petitions."""
    risky = Petition.objects.filter(target=target, stability_risk=True).exclude(status=Status.CLOSED).exists()
    target = target_lock(target.pk)
    if risky == (RISK_FLAG in target.flags):
        return
    flags = set(target.flags) ^ {RISK_FLAG.value}
    reason = _("petition flagged as a stability risk") if risky else _("no open stability-risk petition left")
    target_update(target=target, actor=actor, changes={"flags": sorted(flags)}, reason=reason)


def _open(petition: Petition, actor) -> Petition:
    """The petition re-read under a lock, if the actor may handle it and it is not closed."""
    if not may_handle_petitions(actor, petition.target):
        raise RemediationError(_("Your role may not handle petitions on this target."))
    target_lock(petition.target_id)  # first: one lock order everywhere (ledger.services.target_lock)
    petition = lock(Petition, petition.pk)
    if petition.status == Status.CLOSED:
        raise refuse(Petition, "status", _("this petition is closed."))
    return petition


@atomic
def petition_record(*, target: Target, actor, petitioner: str, channel: str, content: str,
                    received_on: datetime.date, stability_risk: bool = False) -> Petition:
    """A petition received about the target."""
    if not may_handle_petitions(actor, target):
        raise RemediationError(_("Your role may not record petitions on this target."))
    target_lock(target.pk)  # first: one lock order everywhere (ledger.services.target_lock)
    check_day(Petition, "received_on", received_on)
    petition = Petition(target=target, petitioner=petitioner.strip(), channel=channel, content=content.strip(),
                        received_on=received_on, stability_risk=stability_risk)
    clean(petition)
    petition.save()
    _log(petition, "create", None, actor, _("petition received"))
    if stability_risk:
        _sync_risk_flag(target, actor)
    return petition


@atomic
def petition_handle(*, petition: Petition, actor, status: str, reply: str = "",
                    replied_on: datetime.date | None = None) -> Petition:
    """Move the petition on (being handled, replied, closed); a reply has its text and its day."""
    petition = _open(petition, actor)
    if status not in ORDER:
        raise refuse(Petition, "status", _("unknown status “%(status)s”."), status=status)
    if ORDER.index(status) < ORDER.index(petition.status):
        raise refuse(Petition, "status", _("cannot go back from “%(from)s” to “%(to)s”."),
                     **{"from": petition.get_status_display(), "to": Status(status).label})
    reply = reply.strip()
    if (status == Status.REPLIED or replied_on is not None) and not reply:
        raise refuse(Petition, "reply", _("a reply needs its text."))
    if reply:
        check_day(Petition, "replied_on", replied_on, after=petition.received_on,
                  after_what=str(Petition._meta.get_field("received_on").verbose_name))
    before = PETITION.snapshot(petition)
    fields = ["status"]
    petition.status = status
    if reply:
        petition.reply, petition.replied_on = reply, replied_on
        fields += ["reply", "replied_on"]
    clean(petition)
    petition.save(update_fields=fields)
    _log(petition, "update", before, actor, _("petition handled"))
    if status == Status.CLOSED and petition.stability_risk:
        _sync_risk_flag(petition.target, actor)
    return petition


@atomic
def petition_flag(*, petition: Petition, actor, stability_risk: bool) -> Petition:
    """Flag an open petition as a stability risk, or lift the flag."""
    petition = _open(petition, actor)
    if petition.stability_risk == stability_risk:
        return petition
    before = PETITION.snapshot(petition)
    petition.stability_risk = stability_risk
    petition.save(update_fields=["stability_risk"])
    _log(petition, "update", before, actor,
         _("flagged as a stability risk") if stability_risk else _("stability-risk flag lifted"))
    _sync_risk_flag(petition.target, actor)
    return petition


def target_petitions(target: Target) -> list[Petition]:
    return list(target.petitions.all())


def petitions_visible(user, campaign, *, open_only: bool = True):
    """Petitions on the targets the user sees, oldest first (the open ones only, unless not)."""
    petitions = Petition.objects.filter(visible_q(user, "target__"), target__campaign=campaign)
    if open_only:
        petitions = petitions.exclude(status=Status.CLOSED)
    return petitions.select_related("target__street").order_by("received_on", "id")
