"""The dashboard's charts: each one's figures, the table beside it, and the ledger behind each figure.

A chart is data for ECharts (categories, series, marks) and a table of exactly the numbers
it draws, which is also what its Excel download holds. Every clickable figure carries the
ledger address that lists the targets behind it (`/ledger/?as_of=DAY&done=on&street=…`) and
the count that list has: tests/command walks every chart and asks the ledger.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from taizhang.campaigns.models import OrgUnit
from taizhang.ledger.models import DONE_STATES

from . import forecast as fc
from . import progress as pg
from .progress import Scope


@dataclass
class Cell:
    """A table cell: its value (a number stays a number in the download), and the ledger behind it."""

    value: object
    url: str = ""
    text: str = ""

    def __post_init__(self):
        if not self.text:
            self.text = _show(self.value)

    @property
    def numeric(self) -> bool:
        return isinstance(self.value, int | float | Decimal) and not isinstance(self.value, bool)


def _done() -> str:
    return pgettext("progress", "Done")


def _show(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return "%.1f" % value
    if isinstance(value, Decimal):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


@dataclass
class Chart:
    """One chart and its table."""

    id: str
    title: str
    kind: str  # "time" (a line over days), "bar" (vertical), "hbar" (horizontal); "" for a table alone
    columns: list[str]
    rows: list[list[Cell]]
    categories: list[str] = field(default_factory=list)
    series: list[dict] = field(default_factory=list)
    marks: list[dict] = field(default_factory=list)
    unit: str = ""
    note: str = ""

    def data(self) -> dict:
        """What the page hands ECharts (json_script)."""
        return {"id": self.id, "kind": self.kind, "categories": self.categories, "series": self.series,
                "marks": self.marks, "unit": self.unit}

    def points(self) -> list[dict]:
        """Every clickable figure: its count and the ledger address behind it."""
        return [item for s in self.series for item in s["data"] if isinstance(item, dict) and item.get("url")]


def _point(value, count: int, url: str, label: str = "") -> dict:
    return {"value": value, "count": count, "url": url, "label": label or str(count)}


class Links:
    """Ledger addresses for the scope's day and unit, plus a figure's own filters."""

    def __init__(self, scope: Scope):
        self.ledger = reverse("ledger:list")
        self.base = {"as_of": scope.day.isoformat()}
        if scope.unit is not None:
            self.base["street" if scope.unit.kind == OrgUnit.Kind.STREET else "system"] = scope.unit.pk

    def __call__(self, day: datetime.date | None = None, **filters) -> str:
        params = {**self.base, **{k: v for k, v in filters.items() if v is not None}}
        if day is not None:
            params["as_of"] = day.isoformat()
        return "%s?%s" % (self.ledger, urlencode(params))


@dataclass
class Board:
    """Everything the dashboard shows for one scope and day."""

    scope: Scope
    charts: list[Chart]
    summary: dict
    warnings: list[dict]
    rank: list[tuple[str, int, int]]

    def chart(self, chart_id: str) -> Chart | None:
        return next((c for c in self.charts if c.id == chart_id), None)


def _units(campaign, kind) -> list[OrgUnit]:
    return list(OrgUnit.objects.filter(campaign=campaign, kind=kind).order_by("sort", "code"))


def board(scope: Scope, *, with_rank: bool) -> Board:
    """Compute every figure of the dashboard for the scope (the user's targets, maybe one unit) on its day."""
    campaign, day = scope.campaign, scope.day
    groups = pg.groups_on(scope)
    links = Links(scope)
    streets, systems = _units(campaign, OrgUnit.Kind.STREET), _units(campaign, OrgUnit.Kind.SYSTEM)
    types = list(campaign.target_types.order_by("sort", "code"))
    # A milestone before the campaign began has no ledger to measure (a preset's slip).
    milestones = list(campaign.milestones.filter(due_on__gte=campaign.starts_on).order_by("due_on"))
    weeks_known = max(0, (day - campaign.starts_on).days // 7)
    series = pg.replay(scope, pg.burnup_days(campaign, day) + fc.sample_days(day), by="street")
    seen_streets = [s for s in streets if any(g.street == s.name for g in groups)]
    forecasts = _street_forecasts(groups, series, seen_streets, milestones, day, weeks_known)
    charts = [
        _burnup(series, milestones, campaign, day, links),
        _milestones(series, milestones, day, weeks_known, links),
        _streets(groups, seen_streets, milestones, day, links),
        _forecast_table(forecasts),
        _done_by("systems", _("Done by ownership system"), groups, "system", systems, "system", links),
        _done_by("types", _("Done by target type"), groups, "target_type", types, "target_type", links),
        _states(groups, links),
        _pilots_priorities(groups, links),
        _rebounds(groups, seen_streets, links),
        _outcomes(groups, seen_streets, links),
    ]
    total, done = pg.count(groups), pg.count(groups, done=True)
    summary = {"total": total, "done": done, "pct": 100 * done / total if total else None,
               "pilots": pg.count(groups, pilot=True), "priorities": pg.count(groups, priority=True),
               "done_url": links(done="on"), "total_url": links()}
    warnings = [{"street": street.name, "street_code": street.code, "street_url": links(street=street.pk, done="off"),
                 **item}
                for street, items in forecasts for item in items if item["forecast"].misses]
    rank = []
    if with_rank:
        ranks = pg.street_ranks(scope)
        rank = [(s.name, *ranks[s.name]) for s in seen_streets if s.name in ranks]
    return Board(scope, charts, summary, warnings, rank)


def _burnup(series: pg.Series, milestones, campaign, day, links) -> Chart:
    days = [d for d in series.days if d >= campaign.starts_on]
    done_points = [_point([d.isoformat(), series.at(d)], series.at(d), links(d, done="on")) for d in days]
    required, stretch = [], []
    for m in milestones:
        if m.required_pct is None:
            continue
        # A milestone ahead is measured against the ledger of the chosen day.
        total = series.total_at(min(m.due_on, day))
        required.append([m.due_on.isoformat(), pg.level(total, m.required_pct)])
        if m.stretch_pct is not None:
            stretch.append([m.due_on.isoformat(), pg.level(total, m.stretch_pct)])
    rows = [[Cell(d), Cell(series.at(d), links(d, done="on")), Cell(series.total_at(d), links(d))] for d in days]
    return Chart(
        "burnup", _("Done over time (burn-up)"), "time", [_("Day"), _done(), _("Targets in the ledger")], rows,
        series=[{"name": _done(), "type": "line", "data": done_points},
                {"name": _("Required by the milestone"), "type": "scatter", "data": required},
                {"name": _("Stretch goal"), "type": "scatter", "data": stretch}],
        marks=[{"axis": "x", "value": m.due_on.isoformat(), "name": m.due_on.isoformat()} for m in milestones],
        note=_("Each point is the ledger as it stood at the end of that day (one a week, or one a month over "
               "more than two years, and each milestone's day); the vertical lines are the milestones, the dots "
               "their required and stretch levels."))


def _milestones(series: pg.Series, milestones, day, weeks_known, links) -> Chart:
    pace = fc.pace([series.at(d) for d in fc.sample_days(day)], weeks_known=weeks_known)
    rows, categories, done_points, required, stretch = [], [], [], [], []
    for m in milestones:
        at = min(m.due_on, day)
        done, total = series.at(at), series.total_at(at)
        need, hope = pg.level(total, m.required_pct), pg.level(total, m.stretch_pct)
        if need is None:
            status, on = _("no share pledged"), None
        elif m.due_on <= day:
            status = (_("stretch goal met") if hope is not None and done >= hope
                      else _("met") if done >= need else _("missed"))
            on = None
        else:
            f = fc.forecast(done=done, level=need, due_on=m.due_on, day=day, pace=pace)
            status, on = _status(f), f
        categories.append(m.due_on.isoformat())
        done_points.append(_point(done, done, links(at, done="on")))
        required.append(need)
        stretch.append(hope)
        rows.append([Cell(m.title), Cell(m.due_on), Cell(total, links(at)), Cell(need), Cell(hope),
                     Cell(done, links(at, done="on")), Cell(status), Cell(on.on if on else None),
                     Cell(_range(on) if on else "")])
    return Chart(
        "milestones", _("Milestones: done against the pledges"), "bar",
        [_("Milestone"), _("Due on"), _("Targets"), _("Required"), _("Stretch goal"), _done(), _("Status"),
         _("Forecast"), _("Forecast range")], rows, categories=categories,
        series=[{"name": _done(), "type": "bar", "data": done_points},
                {"name": _("Required"), "type": "scatter", "data": required},
                {"name": _("Stretch goal"), "type": "scatter", "data": stretch}],
        note=_("Done on the milestone's day, or on the chosen day for a milestone still ahead."))


def _status(f: fc.Forecast) -> str:
    if f.reached:
        return _("reached")
    if f.overdue:
        return _("overdue")
    if f.on is None:
        return _("not reached at this pace")
    return _("late at this pace") if f.on > f.due_on else _("on track")


def _range(f: fc.Forecast) -> str:
    if f.reached or (f.earliest is None and f.latest is None):
        return ""
    return "%s – %s" % (_show(f.earliest) if f.earliest else "—", _show(f.latest) if f.latest else _("never"))


def _street_forecasts(groups, series, streets, milestones, day, weeks_known):
    """Per street: each milestone with a required level, forecast on the street's own pace."""
    totals = {t.label: t for t in pg.tally(groups, "street")}
    found = []
    for street in streets:
        done = [series.group_at(street.name, d) for d in fc.sample_days(day)]
        pace = fc.pace(done, weeks_known=weeks_known)
        total = totals[street.name].total if street.name in totals else 0
        items = []
        for m in milestones:
            need = pg.level(total, m.required_pct)
            if need is None:
                continue
            f = fc.forecast(done=done[-1], level=need, due_on=m.due_on, day=day, pace=pace)
            items.append({"milestone": m, "forecast": f, "pace": pace, "status": _status(f), "range": _range(f)})
        found.append((street, items))
    return found


def _forecast_table(forecasts) -> Chart:
    rows = []
    for street, items in forecasts:
        for item in items:
            f, pace = item["forecast"], item["pace"]
            rows.append([Cell(street.name), Cell(item["milestone"].title), Cell(f.due_on), Cell(f.level),
                         Cell(f.done), Cell(f.gap), Cell(f.weeks_left),
                         Cell(round(pace.per_week, 1) if pace else None), Cell(f.on),
                         Cell(item["range"]), Cell(item["status"])])
    return Chart(
        "forecast", _("Forecast per street"), "",
        [_("Street"), _("Milestone"), _("Due on"), _("Required"), _done(), _("Gap"), _("Weeks left"),
         _("Done per week"), _("Forecast"), _("Forecast range"), _("Status")], rows)


def _streets(groups, streets, milestones, day, links) -> Chart:
    tallies = pg.tally(groups, "street", [s.name for s in streets])
    by_name = {s.name: s for s in streets}
    nxt = next((m for m in milestones if m.due_on >= day and m.required_pct), None) or next(
        (m for m in reversed(milestones) if m.required_pct), None)
    points, table = [], []
    for t in tallies:
        pk = by_name[t.label].pk if t.label in by_name else None
        points.append(_point(round(t.pct or 0, 1), t.done, links(street=pk, done="on"), "%d/%d" % (t.done, t.total)))
        table.append([Cell(t.label), Cell(t.total, links(street=pk)), Cell(t.done, links(street=pk, done="on")),
                      Cell(t.pct), Cell(pg.level(t.total, nxt.required_pct) if nxt else None),
                      Cell(pg.level(t.total, nxt.stretch_pct) if nxt else None)])
    marks = []
    if nxt:
        marks = [{"axis": "x", "value": nxt.required_pct, "name": _("required %(pct)s%%") % {"pct": nxt.required_pct}}]
        if nxt.stretch_pct:
            marks.append({"axis": "x", "value": nxt.stretch_pct,
                          "name": _("stretch %(pct)s%%") % {"pct": nxt.stretch_pct}})
    title = _("Done by street, against the milestone of %(day)s") % {"day": nxt.due_on.isoformat()} if nxt else _(
        "Done by street")
    return Chart("streets", title, "hbar",
                 [_("Street"), _("Targets"), _done(), _("Done %"), _("Required"), _("Stretch goal")], table,
                 categories=[t.label for t in tallies],
                 series=[{"name": _("Done %"), "type": "bar", "data": points}], marks=marks, unit="%")


def _done_by(chart_id, title, groups, by, units, param, links) -> Chart:
    tallies = pg.tally(groups, by, [u.name for u in units])
    pks = {u.name: u.pk for u in units}
    done, rest, table = [], [], []
    for t in tallies:
        pk = pks.get(t.label)
        done.append(_point(t.done, t.done, links(**{param: pk, "done": "on"})))
        rest.append(_point(t.total - t.done, t.total - t.done, links(**{param: pk, "done": "off"})))
        table.append([Cell(t.label), Cell(t.total, links(**{param: pk})),
                      Cell(t.done, links(**{param: pk, "done": "on"})),
                      Cell(t.total - t.done, links(**{param: pk, "done": "off"})), Cell(t.pct)])
    return Chart(chart_id, title, "bar", [_("Group"), _("Targets"), _done(), _("Not done"), _("Done %")], table,
                 categories=[t.label for t in tallies],
                 series=[{"name": _done(), "type": "bar", "stack": "all", "data": done},
                         {"name": _("Not done"), "type": "bar", "stack": "all", "data": rest}])


def _states(groups, links) -> Chart:
    counts = pg.states_count(groups)
    return Chart(
        "states", _("Targets by state"), "bar", [_("State"), _("Targets")],
        [[Cell(label), Cell(n, links(state=state))] for state, label, n in counts],
        categories=[label for _state, label, _n in counts],
        series=[{"name": _("Targets"), "type": "bar",
                 "data": [_point(n, n, links(state=state)) for state, _label, n in counts]}],
        note=done_definition_short())


def done_definition_short() -> str:
    return _("Done is “%(states)s”.") % {"states": "、".join(str(pg.State(s).label) for s in DONE_STATES)}


def _pilots_priorities(groups, links) -> Chart:
    kinds = [(_("Priorities"), "priority", True), (_("Not priorities"), "priority", False),
             (_("Pilots"), "pilot", True), (_("Not pilots"), "pilot", False)]
    done, rest, table = [], [], []
    for label, attr, value in kinds:
        n, d = pg.count(groups, **{attr: value}), pg.count(groups, done=True, **{attr: value})
        flag = {attr: "on" if value else "off"}
        done.append(_point(d, d, links(**flag, done="on")))
        rest.append(_point(n - d, n - d, links(**flag, done="off")))
        table.append([Cell(label), Cell(n, links(**flag)), Cell(d, links(**flag, done="on")),
                      Cell(n - d, links(**flag, done="off")), Cell(100 * d / n if n else None)])
    return Chart("groups", _("Priorities and pilots against the rest"), "bar",
                 [_("Group"), _("Targets"), _done(), _("Not done"), _("Done %")], table,
                 categories=[label for label, _a, _v in kinds],
                 series=[{"name": _done(), "type": "bar", "stack": "all", "data": done},
                         {"name": _("Not done"), "type": "bar", "stack": "all", "data": rest}])


def _rebounds(groups, streets, links) -> Chart:
    pks = {s.name: s.pk for s in streets}
    found = pg.rebounds(groups, [s.name for s in streets])
    points, table = [], []
    for r in found:
        pk = pks.get(r.label)
        points.append(_point(r.rebounded, r.rebounded, links(street=pk, rebounded="on")))
        table.append([Cell(r.label), Cell(r.closed, links(street=pk, ever_done="on")),
                      Cell(r.rebounded, links(street=pk, rebounded="on")), Cell(r.pct)])
    closed, rebounded = sum(r.closed for r in found), sum(r.rebounded for r in found)
    table.append([Cell(_("All")), Cell(closed, links(ever_done="on")), Cell(rebounded, links(rebounded="on")),
                  Cell(100 * rebounded / closed if closed else None)])
    return Chart("rebounds", _("Rebounds"), "bar",
                 [_("Street"), _("Done at least once"), _("Rebounded at least once"), _("Rebound rate %")], table,
                 categories=[r.label for r in found],
                 series=[{"name": _("Rebounded at least once"), "type": "bar", "data": points}],
                 note=_("The rebound rate is the targets that rebounded at least once by the day over the targets "
                        "done at least once by then."))


def _outcomes(groups, streets, links) -> Chart:
    sums = pg.outcomes(groups)
    done = {t.label: t.done for t in pg.tally(groups, "street", [s.name for s in streets])}
    pks = {s.name: s.pk for s in streets}
    points, table = [], []
    for name, n in done.items():
        amounts = sums.get(name, dict.fromkeys(pg.AMOUNTS, Decimal(0)))
        url = links(street=pks.get(name), done="on")
        points.append(_point(int(amounts["people_moved"]), n, url, str(int(amounts["people_moved"]))))
        table.append([Cell(name), Cell(n, url), *(Cell(amounts[a] if a != "people_moved" else int(amounts[a]))
                                                  for a in pg.AMOUNTS)])
    return Chart("outcomes", _("People and money of the done targets"), "bar",
                 [_("Street"), _("Done targets"), _("People moved out"), _("Illegal floor area demolished (m²)"),
                  _("Land recovered (m²)"), _("Funds paid (元)")], table,
                 categories=list(done), series=[{"name": _("People moved out"), "type": "bar", "data": points}],
                 note=_("As recorded at acceptance, for the targets done by the day; a bar opens those targets."))

