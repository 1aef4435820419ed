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

from .asof import as_of_day, day_end, entries_on, snapshot_priority, target_ids
from .columns import TARGET
from .models import DONE_STATES, Target
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


class YesNoField(forms.ChoiceField):
    """A filter that is on ("on", what a checkbox sends), off ("off": the rest) or not given:
    cleans to True, False or None."""

    def __init__(self, *, on, off, **kwargs):
        super().__init__(choices=[("", "---------"), ("on", on), ("off", off)], required=False, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        return {"on": True, "off": False}.get(value)


class LedgerFilterForm(forms.Form):
    """Filter, search and sort for every ledger page and its export.

    With `as_of` (a day), the street, system, type, state, done, pilot and priority filters
    read each target as it stood at the end of that day (ledger.asof), and "done at least once"
    and "rebounded" read the states held up to that day: the ledger behind a figure the command
    room gives for that day.
    The search reads the targets as they are now, and the rows show them as they are now.
    """

    q = SearchField(label=_("Search"))
    street = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), required=False, label=_("Street"))
    system = forms.ModelChoiceField(queryset=OrgUnit.objects.none(), required=False,
                                    label=_("Ownership system"))
    target_type = forms.ModelChoiceField(queryset=None, required=False, label=_("Type"))
    state = forms.ChoiceField(choices=[("", "---------"), *Target.State.choices], required=False,
                              label=_("State"))
    pilot = YesNoField(label=_("Pilots only"), on=_("Pilots only"), off=_("Not pilots"))
    priority = YesNoField(label=_("Priorities only"), on=_("Priorities only"), off=_("Not priorities"))
    done = YesNoField(label=_("Done (已销账)"), on=_("Done (已销账)"), off=_("Not done"))
    ever_done = forms.BooleanField(required=False, label=_("Done at least once"))
    rebounded = forms.BooleanField(required=False, label=_("Rebounded at least once"))
    as_of = forms.CharField(required=False, strip=True, label=_("As it stood on"))
    sort = forms.ChoiceField(choices=[(k, k) for k in SORTS], required=False)

    def __init__(self, data, *, campaign, **kwargs):
        super().__init__(data, **kwargs)
        self.campaign = campaign
        units = OrgUnit.objects.filter(campaign=campaign)
        self.fields["street"].queryset = units.filter(kind=OrgUnit.Kind.STREET)
        self.fields["system"].queryset = units.filter(kind=OrgUnit.Kind.SYSTEM)
        self.fields["target_type"].queryset = campaign.target_types.all()
        # Options listed once for the template: walking a ModelChoiceField counts and queries each time.
        self.options = {name: [("", ""), *((o.pk, str(o)) for o in self.fields[name].queryset)]
                        for name in ("street", "system", "target_type")}

    def clean_as_of(self):
        text = self.cleaned_data["as_of"].strip()
        if not text:
            return None
        try:
            return as_of_day(text, self.campaign)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="as_of") from None

    # Filters the page has no control for (the command room links with them): kept as hidden
    # fields through every refresh, and named above the results.
    KEPT = ("as_of", "done", "ever_done", "rebounded")

    @property
    def kept(self) -> list[tuple[str, str]]:
        return [(name, self.data[name]) for name in self.KEPT if self.data.get(name)]

    def kept_described(self) -> list[str]:
        """The kept filters as a user reads them (with pilots or priorities left out, "Not pilots")."""
        if not self.is_valid():
            return []
        data, found = self.cleaned_data, []
        if data["as_of"]:
            found.append(_("As it stood on %(day)s") % {"day": data["as_of"].isoformat()})
        for name in ("done", "pilot", "priority"):
            if data[name] is not None and (name == "done" or not data[name]):
                found.append(str(dict(self.fields[name].choices)["on" if data[name] else "off"]))
        found += [str(self.fields[name].label) for name in ("ever_done", "rebounded") if data[name]]
        return found

    def described(self) -> list[str]:
        """The filters in force, each as a user reads it (类型：大院, 仅看试点), for an export's
        title and file name; the sort order is not a filter, and the day is said apart."""
        if not self.is_valid():
            return []
        data, found = self.cleaned_data, []
        if data["q"].strip():
            found.append(_("search “%(words)s”") % {"words": data["q"].strip()})
        for name in ("street", "system", "target_type", "state"):
            if data[name]:
                value = dict(self.fields["state"].choices)[data[name]] if name == "state" else data[name]
                found.append(_("%(field)s: %(value)s") % {"field": self.fields[name].label, "value": value})
        for name in ("pilot", "priority", "done"):
            if data[name] is not None:
                found.append(str(dict(self.fields[name].choices)["on" if data[name] else "off"]))
        found += [str(self.fields[name].label) for name in ("ever_done", "rebounded") if data[name]]
        return found

    def apply(self, qs):
        if not self.is_valid():
            return qs.none()
        data = self.cleaned_data
        if data["q"]:
            qs = qs.filter(search_q(data["q"].strip()))
        qs = self._as_of(qs, data["as_of"]) if data["as_of"] else self._now(qs)
        for name, states in (("ever_done", DONE_STATES), ("rebounded", [Target.State.REBOUND])):
            if data[name]:
                # Any entry of the target in one of the states, up to the day's end (or now).
                ever = ChangeLogEntry.objects.filter(object_type=TARGET.object_type, after__state__in=states)
                if data["as_of"]:
                    ever = ever.filter(at__lt=day_end(data["as_of"]))
                qs = qs.filter(pk__in=target_ids(ever))
        keys = SORTS[data["sort"] or "code"]
        # The tie-break runs the same way as the first key, so SQLite reads the index in one
        # direction instead of sorting every row (docs/benchmarks.md, the ledger page).
        return qs.order_by(*keys, "-pk" if keys[0].startswith("-") else "pk")

    def _now(self, qs):
        data = self.cleaned_data
        for field in ("street", "system", "target_type"):
            if data[field]:
                qs = qs.filter(**{field: data[field]})
        if data["state"]:
            qs = qs.filter(state=data["state"])
        if data["done"] is not None:
            qs = qs.filter(state__in=DONE_STATES) if data["done"] else qs.exclude(state__in=DONE_STATES)
        if data["pilot"] is not None:
            qs = qs.filter(is_pilot=data["pilot"])
        if data["priority"] is not None:
            qs = qs.filter(priority_rank__gt=0) if data["priority"] else qs.filter(priority_rank=0)
        return qs

    def _as_of(self, qs, day):
        """The same filters over each target as it stood at the end of `day` (its latest entry then)."""
        data = self.cleaned_data
        entries = entries_on(day)
        for field in ("street", "system", "target_type"):
            if data[field]:
                entries = entries.filter(**{"after__" + field: data[field].name})  # labels by name
        if data["state"]:
            entries = entries.filter(after__state=data["state"])
        if data["done"] is not None:
            done = Q(after__state__in=DONE_STATES)
            entries = entries.filter(done) if data["done"] else entries.exclude(done)
        if data["pilot"] is not None:
            entries = entries.filter(after__is_pilot=data["pilot"])
        qs = qs.filter(pk__in=target_ids(entries))
        if data["priority"] is not None:
            # The rules are applied to the row as it was (asof.snapshot_priority), as the export does.
            reasons, kept = snapshot_priority(self.campaign), set(qs.values_list("pk", flat=True))
            picked = [pk for pk, after in ((int(e.object_id), e.after) for e in entries.only("object_id", "after"))
                      if pk in kept and bool(reasons(after)) == data["priority"]]
            qs = qs.filter(pk__in=picked)
        return qs


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
