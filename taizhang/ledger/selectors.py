"""Reading the ledger: every query starts from `Target.objects.visible_to(user)`."""


from django import forms
from django.db.models import Count, Q
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from taizhang.accounts.scoping import campaigns_for, units_visible_q
from taizhang.campaigns.models import OrgUnit
from taizhang.core.models import ChangeLogEntry
from taizhang.core.readable import Readable, readable
from taizhang.core.requests import SearchField

from .columns import TARGET
from .models import Target
from .search import search_q

LEDGER_KINDS = {
    "street": (OrgUnit.Kind.STREET, "street"),
    "system": (OrgUnit.Kind.SYSTEM, "system"),
    "unit": (OrgUnit.Kind.RIGHTS_UNIT, "responsible_unit"),
}
SORTS = {
    "code": ("code",), "-code": ("-code",), "name": ("name",), "-name": ("-name",),
    "population": ("resident_population",), "-population": ("-resident_population",),
    "area": ("rented_floor_area",), "-area": ("-rented_floor_area",),
    "updated": ("updated_at",), "-updated": ("-updated_at",),
    # Most reasons first; the index target_priority_idx serves it.
    "priority": ("-priority_rank", "code"),
}


def current_campaign(request):
    """The campaign the user works in now: the one chosen in the session, else the first."""
    campaigns = user_campaigns(request)
    if not campaigns:
        raise Http404("no campaign")
    chosen = request.session.get("campaign_id")
    return next((c for c in campaigns if c.pk == chosen), campaigns[0])


def user_campaigns(request) -> list:
    """The campaigns the user takes part in, asked once per request (the view and the
    header's campaign switch both need them)."""
    if not hasattr(request, "_taizhang_campaigns"):
        request._taizhang_campaigns = list(campaigns_for(request.user))
    return request._taizhang_campaigns


def ledger_unit(user, campaign, kind: str, code: str) -> OrgUnit:
    """The unit whose classified ledger is asked for; 404 unless the user may open it."""
    if kind not in LEDGER_KINDS:
        raise Http404("no such ledger")
    unit_kind, _field = LEDGER_KINDS[kind]
    unit = OrgUnit.objects.filter(units_visible_q(user), campaign=campaign, kind=unit_kind, code=code).first()
    if unit is None:
        raise Http404("no such ledger")
    return unit


def ledger_targets(user, campaign, unit: OrgUnit | None = None):
    return in_ledger(Target.objects.visible_to(user).filter(campaign=campaign), unit)


def in_ledger(targets, unit: OrgUnit | None):
    """Narrow targets to one classified or unit ledger (None: the whole ledger)."""
    return targets.filter(**{_ledger_field(unit): unit}) if unit is not None else targets


def _ledger_field(unit: OrgUnit) -> str:
    return next(field for kind, field in LEDGER_KINDS.values() if kind == unit.kind)


def ledger_snapshot_filter(unit: OrgUnit | None) -> dict:
    """The same ledger as a filter over change-log snapshots (labels by name)."""
    return {_ledger_field(unit): unit.name} if unit else {}


class LedgerFilterForm(forms.Form):
    """Filter, search and sort for every ledger page and its export."""

    q = SearchField(label=_("Search"))
    street = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), required=False, label=_("Street"))
    system = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), required=False,
                                    label=_("Ownership system"))
    target_type = forms.ModelChoiceField(queryset=None, required=False, label=_("Type"))
    state = forms.ChoiceField(choices=[("", "---------"), *Target.State.choices], required=False,
                              label=_("State"))
    pilot = forms.BooleanField(required=False, label=_("Pilots only"))
    priority = forms.BooleanField(required=False, label=_("Priorities only"))
    sort = forms.ChoiceField(choices=[(k, k) for k in SORTS], required=False)

    def __init__(self, data, *, campaign, **kwargs):
        super().__init__(data, **kwargs)
        units = OrgUnit.objects.filter(campaign=campaign)
        self.fields["street"].queryset = units.filter(kind=OrgUnit.Kind.STREET)
        self.fields["system"].queryset = units.filter(kind=OrgUnit.Kind.SYSTEM)
        self.fields["target_type"].queryset = campaign.target_types.all()
        # Options listed once for the template: walking a ModelChoiceField counts and queries each time.
        self.options = {name: [("", ""), *((o.pk, str(o)) for o in self.fields[name].queryset)]
                        for name in ("street", "system", "target_type")}

    def described(self) -> list[str]:
        """The filters in force, each as a user reads it (类型：大院, 仅看试点), for an export's
        title and file name; the sort order is not a filter."""
        if not self.is_valid():
            return []
        data, found = self.cleaned_data, []
        if data["q"].strip():
            found.append(_("search “%(words)s”") % {"words": data["q"].strip()})
        for name in ("street", "system", "target_type", "state"):
            if data[name]:
                value = dict(self.fields["state"].choices)[data[name]] if name == "state" else data[name]
                found.append(_("%(field)s: %(value)s") % {"field": self.fields[name].label, "value": value})
        for name in ("pilot", "priority"):
            if data[name]:
                found.append(str(self.fields[name].label))
        return found

    def apply(self, qs):
        if not self.is_valid():
            return qs.none()
        data = self.cleaned_data
        if data["q"]:
            qs = qs.filter(search_q(data["q"].strip()))
        for field in ("street", "system", "target_type"):
            if data[field]:
                qs = qs.filter(**{field: data[field]})
        if data["state"]:
            qs = qs.filter(state=data["state"])
        if data["pilot"]:
            qs = qs.filter(is_pilot=True)
        if data["priority"]:
            qs = qs.filter(priority_rank__gt=0)
        keys = SORTS[data["sort"] or "code"]
        # The tie-break runs the same way as the first key, so SQLite reads the index in one
        # direction instead of sorting every row (docs/benchmarks.md, the ledger page).
        return qs.order_by(*keys, "-pk" if keys[0].startswith("-") else "pk")


def reconciliation(user, campaign) -> dict:
    """Street × system counts of the visible ledger, each total counted independently."""
    qs = Target.objects.visible_to(user).filter(campaign=campaign)
    streets = list(OrgUnit.objects.filter(campaign=campaign, kind=OrgUnit.Kind.STREET).order_by("sort"))
    systems = list(OrgUnit.objects.filter(campaign=campaign, kind=OrgUnit.Kind.SYSTEM).order_by("sort"))
    cells = {(r["street"], r["system"]): r["n"] for r in qs.values("street", "system").annotate(n=Count("pk"))}
    by_street = dict(qs.values_list("street").annotate(n=Count("pk")))
    by_system = dict(qs.values_list("system").annotate(n=Count("pk")))
    total = qs.count()
    rows = []
    for street in streets:
        row_cells = [cells.get((street.pk, system.pk), 0) for system in systems]
        rows.append({"unit": street, "cells": row_cells, "sum": sum(row_cells),
                     "count": by_street.get(street.pk, 0)})
    column_sums = [sum(r["cells"][i] for r in rows) for i in range(len(systems))]
    system_counts = [by_system.get(s.pk, 0) for s in systems]
    problems = []
    for row in rows:
        if row["sum"] != row["count"]:
            problems.append(_("%(unit)s: the street ledger has %(count)s but the table sums to %(sum)s.")
                            % {"unit": row["unit"].name, "count": row["count"], "sum": row["sum"]})
    for system, counted, summed in zip(systems, system_counts, column_sums, strict=True):
        if counted != summed:
            problems.append(_("%(unit)s: the system ledger has %(count)s but the table sums to %(sum)s.")
                            % {"unit": system.name, "count": counted, "sum": summed})
    if sum(by_street.values()) != total or sum(by_system.values()) != total:
        problems.append(_("The street ledgers sum to %(streets)s and the system ledgers to %(systems)s, "
                          "but the ledger holds %(total)s.")
                        % {"streets": sum(by_street.values()), "systems": sum(by_system.values()),
                           "total": total})
    return {"streets": streets, "systems": systems, "rows": rows, "column_sums": column_sums,
            "system_counts": system_counts, "total": total, "problems": problems,
            "baseline": _baseline(campaign, systems, system_counts, total)}


def _baseline(campaign, systems, counts, total) -> list[dict]:
    """The preset's declared counts (528; 334/67/42/85) beside what the ledger holds."""
    rows = [{"label": s.name, "expected": s.expected_targets, "actual": n}
            for s, n in zip(systems, counts, strict=True) if s.expected_targets is not None]
    if campaign.target_total is not None:
        rows.append({"label": _("All targets"), "expected": campaign.target_total, "actual": total})
    return rows


def target_history(target: Target, *, limit: int = 200) -> list[Readable]:
    """The target's whole history, newest first, as people read it (core.readable): its own
    entries and those of every record that belongs to it (petitions, plans, verifications
    ...), each named by its kind ("" for the target's own).

    Entries are kept as they were written: an older one may lack fields its declaration
    has now, or have some it no longer has (shown by their key).
    """
    own = Q(object_type=TARGET.object_type, object_id=str(target.pk))
    entries = list(ChangeLogEntry.objects.filter(Q(target_id=target.pk) | own).order_by("-id")[:limit])
    return [item._replace(kind="") if item.entry.object_type == TARGET.object_type else item
            for item in readable(entries, campaign_id=target.campaign_id)]
