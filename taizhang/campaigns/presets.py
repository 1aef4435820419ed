"""Loading a campaign preset (TOML) into the database, idempotently.

The whole file is checked before anything is written; a problem names the key
(and the line, where the TOML parser gives one) and loads nothing. A key the loader
does not know is refused with its line and the closest known key (`preset_keys`).
"""

import datetime
import hashlib
import re
import tomllib
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from taizhang.core.changelog import changelog_append

from .models import (
    PETITION_OPEN_LIMIT_DAYS,
    SUPERVISION_DEFAULTS,
    Campaign,
    GroupDuty,
    Liaison,
    Milestone,
    OrgUnit,
    Phase,
    TargetType,
)
from .preset_keys import closest, line_of, path_text, unknown_key
from .snapshots import CAMPAIGN


class PresetError(ValueError):
    """A preset file that cannot be loaded; the message names the key or line."""


def _get(table: dict, key: str, kind: type | tuple, path: str, *, required: bool = True):
    where = "%s.%s" % (path, key) if path else key
    if key not in table:
        if required:
            raise PresetError(_("Missing key “%(key)s”.") % {"key": where})
        return None
    value = table[key]
    # TOML booleans are ints to Python; never accept one where a number is meant.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise PresetError(_("Key “%(key)s” has the wrong type.") % {"key": where})
    if isinstance(value, str) and not value.strip():
        raise PresetError(_("Key “%(key)s” is empty.") % {"key": where})
    return value


def _texts(table: dict, key: str, path: str) -> list[str]:
    """An optional list of non-empty strings (a roster, tasks, slogans); [] when absent."""
    values = _get(table, key, list, path, required=False) or []
    where = "%s.%s" % (path, key) if path else key
    for i, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            raise PresetError(_("Key “%(key)s” must be a non-empty string.") % {"key": "%s[%d]" % (where, i)})
    return values


def _list(table: dict, key: str, path: str = "") -> list[tuple[str, dict]]:
    items = _get(table, key, list, path)
    out = []
    for i, item in enumerate(items):
        where = "%s[%d]" % (key, i)
        if not isinstance(item, dict):
            raise PresetError(_("Key “%(key)s” has the wrong type.") % {"key": where})
        out.append((where, item))
    return out


def _units(data: dict, key: str, kind: str) -> list[dict]:
    units = []
    for where, item in _list(data, key):
        expected = _get(item, "expected_targets", int, where, required=False)
        if expected is not None and expected < 0:
            raise PresetError(_("Key “%(key)s” cannot be negative.") % {"key": where + ".expected_targets"})
        units.append({
            "kind": kind,
            "code": _get(item, "code", str, where),
            "name": _get(item, "name", str, where),
            "short_name": _get(item, "short_name", str, where, required=False) or "",
            "expected_targets": expected,
        })
    return units


def parse_preset(text: str) -> dict[str, Any]:
    """Check a preset file and return what to load; raise PresetError on any problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PresetError(_("The preset is not valid TOML: %(error)s") % {"error": exc}) from exc
    _check_keys(text, data)
    campaign = _get(data, "campaign", dict, "")
    plan = {
        "campaign": {
            "slug": _get(campaign, "slug", str, "campaign"),
            "name": _get(campaign, "name", str, "campaign"),
            "district": _get(campaign, "district", str, "campaign", required=False) or "",
            "starts_on": _get(campaign, "starts_on", datetime.date, "campaign"),
            "ends_on": _get(campaign, "ends_on", datetime.date, "campaign"),
            "target_total": _get(campaign, "target_total", int, "campaign", required=False),
        },
        "units": [],
    }
    for key, kind in (("command", OrgUnit.Kind.COMMAND), ("office", OrgUnit.Kind.OFFICE)):
        table = _get(data, key, dict, "")
        roster = [{"post": _("commander"), "name": n} for n in _texts(table, "commander", key)]
        roster += [{"post": _("member"), "name": n} for n in _texts(table, "members", key)]
        plan["units"].append({
            "kind": kind, "code": _get(table, "code", str, key), "name": _get(table, "name", str, key),
            "short_name": "", "expected_targets": None, "roster": roster,
        })
    plan["units"] += _units(data, "groups", OrgUnit.Kind.GROUP)
    plan["units"] += _units(data, "streets", OrgUnit.Kind.STREET)
    plan["units"] += _units(data, "systems", OrgUnit.Kind.SYSTEM)
    _check_unique(plan["units"], "code")
    plan["target_types"] = [
        {"code": _get(t, "code", str, w), "name": _get(t, "name", str, w),
         "description": _get(t, "description", str, w, required=False) or ""}
        for w, t in _list(data, "target_types")
    ]
    _check_unique(plan["target_types"], "code")
    plan["phases"] = [
        {"number": _get(p, "number", int, w), "name": _get(p, "name", str, w),
         "starts_on": _get(p, "starts_on", datetime.date, w),
         "ends_on": _get(p, "ends_on", datetime.date, w),
         "tasks": _texts(p, "tasks", w)}
        for w, p in _list(data, "phases")
    ]
    for i, phase in enumerate(plan["phases"]):
        if phase["ends_on"] < phase["starts_on"]:
            raise PresetError(_("Key “%(key)s” ends before it starts.") % {"key": "phases[%d]" % i})
    plan["milestones"] = [_milestone(w, m) for w, m in _list(data, "milestones")]
    street_codes = {u["code"] for u in plan["units"] if u["kind"] == OrgUnit.Kind.STREET}
    plan["liaisons"] = []
    for where, item in _list(data, "liaisons"):
        street = _get(item, "street", str, where)
        if street not in street_codes:
            raise PresetError(_("Key “%(key)s” names unknown street “%(code)s”.")
                              % {"key": where + ".street", "code": street})
        plan["liaisons"].append({"leader": _get(item, "leader", str, where), "street": street})
    aliases = _get(data, "aliases", dict, "", required=False) or {}
    for alias, target in aliases.items():
        if not isinstance(target, str):
            raise PresetError(_("Key “%(key)s” has the wrong type.") % {"key": "aliases." + alias})
    plan["aliases"] = aliases
    plan["rules"] = {
        "pilots": _pilots(data),
        "priority_rules": _priority_rules(data, plan["units"]) if "priority_rules" in data else [],
        "slogans": _texts(_get(data, "publicity", dict, "", required=False) or {}, "slogans", "publicity"),
        "anti_rebound": {"reinspect_after_days": _reinspect_after_days(data)},
        "petitions": {"open_limit_days": _petition_limit(data)},
        "supervision": _supervision(data),
        "plan_templates": _plan_templates(data, plan["target_types"]) if "plan_templates" in data else [],
        "group_duties": _group_duties(data),
        "map": _map(data),
    }
    return plan


def _check_keys(text: str, data: dict) -> None:
    """Refuse a key the loader does not know: misspelt, its value would be silently dropped."""
    found = unknown_key(data)
    if found is None:
        return
    path, known = found
    line = line_of(text, path)
    if line is None:
        message = _("Unknown key “%(key)s”.") % {"key": path_text(path)}
    else:
        message = _("Unknown key “%(key)s” on line %(line)s.") % {"key": path_text(path), "line": line}
    suggestion = closest(str(path[-1]), known)
    if suggestion:
        message += " " + _("Did you mean “%(key)s”?") % {"key": suggestion}
    else:
        message += " " + _("Known keys here: %(keys)s.") % {"keys": ", ".join(known)}
    raise PresetError(message)


def _pilots(data: dict) -> dict[str, int]:
    """The pilot quota: whole numbers of pilots per street and per system; a bound left out is not checked."""
    table = _get(data, "pilots", dict, "", required=False) or {}
    for key in table:
        if _get(table, key, int, "pilots") < 0:
            raise PresetError(_("Key “%(key)s” cannot be negative.") % {"key": "pilots." + key})
    return table


def _group_duties(data: dict) -> dict[str, list[str]]:
    """{duty: [group codes]} from the groups' `duties` keys: which working group keeps the
    legal path (legal) and which the petitions (petitions), whatever the preset calls it."""
    duties: dict[str, list[str]] = {}
    for where, item in _list(data, "groups"):
        for position, duty in enumerate(_get(item, "duties", list, where, required=False) or []):
            if duty not in GroupDuty.values:
                raise PresetError(_("Key “%(key)s” names unknown duty “%(duty)s”; known: %(known)s.") % {
                    "key": "%s.duties[%d]" % (where, position), "duty": duty, "known": "、".join(GroupDuty.values)})
            duties.setdefault(duty, []).append(item["code"])
    return duties


def _plan_templates(data: dict, target_types: list[dict]) -> list[dict]:
    """One plan template (一院一策) per target type: the means to use and the usual steps.

    The means' codes are not checked here: the vocabulary belongs to the remediation app,
    which sits above this one and ignores a code it does not know.
    """
    types = {t["code"] for t in target_types}
    templates, seen = [], set()
    for where, item in _list(data, "plan_templates"):
        code = _get(item, "target_type", str, where)
        if code not in types:
            raise PresetError(_("Key “%(key)s” names unknown target type “%(code)s”.")
                              % {"key": where + ".target_type", "code": code})
        if code in seen:
            raise PresetError(_("Key “%(key)s”: code “%(code)s” appears twice.")
                              % {"key": where + ".target_type", "code": code})
        seen.add(code)
        template = {"target_type": code}
        for key in ("means", "steps"):
            values = _get(item, key, list, where)
            if not values:
                raise PresetError(_("Key “%(key)s” is empty.") % {"key": where + "." + key})
            for i, value in enumerate(values):
                if not isinstance(value, str) or not value.strip():
                    raise PresetError(_("Key “%(key)s” must be a non-empty string.")
                                      % {"key": "%s.%s[%d]" % (where, key, i)})
            template[key] = [v.strip() for v in values]
        templates.append(template)
    return templates


PRIORITY_MATCHES = ("system", "street", "area", "flag")


def _priority_rules(data: dict, units: list[dict]) -> list[dict]:
    """Each rule: a unique code, the label the ledger shows as a reason, what it matches, the values.

    System and street values must be codes the preset declares. Flag values are not checked
    here: the flags belong to the ledger, which sits above this app.
    """
    streets = {u["code"] for u in units if u["kind"] == OrgUnit.Kind.STREET}
    systems = {u["code"] for u in units if u["kind"] == OrgUnit.Kind.SYSTEM}
    rules, seen = [], set()
    for where, item in _list(data, "priority_rules"):
        code = _get(item, "code", str, where)
        if code in seen:
            raise PresetError(_("Key “%(key)s”: code “%(code)s” appears twice.")
                              % {"key": where + ".code", "code": code})
        seen.add(code)
        _get(item, "label", str, where)
        match = _get(item, "match", str, where)
        if match not in PRIORITY_MATCHES:
            raise PresetError(_("Key “%(key)s” must be one of: %(choices)s.")
                              % {"key": where + ".match", "choices": ", ".join(PRIORITY_MATCHES)})
        values = _get(item, "values", list, where)
        if not values:
            raise PresetError(_("Key “%(key)s” is empty.") % {"key": where + ".values"})
        for i, value in enumerate(values):
            key = "%s.values[%d]" % (where, i)
            if not isinstance(value, str) or not value.strip():
                raise PresetError(_("Key “%(key)s” must be a non-empty string.") % {"key": key})
            if match == "street" and value not in streets:
                raise PresetError(_("Key “%(key)s” names unknown street “%(code)s”.") % {"key": key, "code": value})
            if match == "system" and value not in systems:
                raise PresetError(_("Key “%(key)s” names unknown ownership system “%(code)s”.")
                                  % {"key": key, "code": value})
        rules.append(item)
    return rules


def _reinspect_after_days(data: dict) -> list[int]:
    """Days after closing (销账) when a target is re-inspected; ascending, so the checks thin out."""
    table = _get(data, "anti_rebound", dict, "", required=False) or {}
    days = _get(table, "reinspect_after_days", list, "anti_rebound", required=False) or []
    key = "anti_rebound.reinspect_after_days"
    if any(not isinstance(d, int) or isinstance(d, bool) or d <= 0 for d in days):
        raise PresetError(_("Key “%(key)s” must list positive whole numbers of days.") % {"key": key})
    if any(a >= b for a, b in zip(days, days[1:], strict=False)):
        raise PresetError(_("Key “%(key)s” must be in ascending order.") % {"key": key})
    return days

def _petition_limit(data: dict) -> int:
    """Days a petition may stay open before it is on someone's to-do list as overdue."""
    table = _get(data, "petitions", dict, "", required=False) or {}
    days = _get(table, "open_limit_days", int, "petitions", required=False)
    if days is None:
        return PETITION_OPEN_LIMIT_DAYS
    if days <= 0:
        raise PresetError(_("Key “%(key)s” must be a positive whole number of days.")
                          % {"key": "petitions.open_limit_days"})
    return days


def _supervision(data: dict) -> dict:
    """Supervision orders' rules (`[supervision]`), each key checked; a key not given keeps
    its default (Campaign.supervision_rules)."""
    table = _get(data, "supervision", dict, "", required=False) or {}
    rules = {}
    for key, default in SUPERVISION_DEFAULTS.items():
        if key not in table:
            continue
        where, value = "supervision." + key, table[key]
        if isinstance(default, int):
            least = 0 if key == "extensions_max" else 1
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise PresetError(_("Key “%(key)s” must be a whole number, at least %(least)d.")
                                  % {"key": where, "least": least})
        elif key == "number_format":
            if not isinstance(value, str) or "{number}" not in value or \
                    set(re.findall(r"{(\w*)}", value)) - {"year", "number"}:
                raise PresetError(_("Key “%(key)s” must hold {number} (and may hold {year}), nothing else in braces.")
                                  % {"key": where})
        elif key == "outcomes":
            if not isinstance(value, list) or not value or any(not isinstance(v, str) or not v.strip() for v in value) \
                    or len(set(value)) != len(value):
                raise PresetError(_("Key “%(key)s” must list different names, at least one.") % {"key": where})
        elif not isinstance(value, list) or any(not isinstance(d, int) or isinstance(d, bool) or d <= 0 for d in value):
            raise PresetError(_("Key “%(key)s” must list positive whole numbers of days.") % {"key": where})
        else:
            value = sorted(set(value), reverse=key == "remind_before_days")
        rules[key] = value
    return rules


def _map(data: dict) -> dict:
    """The map's area: `[map] bounds` (WGS-84 [west, south, east, north], None when not given:
    the campaign then takes a default, Campaign.map_box) and each street's outline, if given."""
    table = _get(data, "map", dict, "", required=False) or {}
    bounds = _get(table, "bounds", list, "map", required=False)
    if bounds is not None:
        if len(bounds) != 4:
            raise PresetError(_("Key “%(key)s” must be [west, south, east, north]: four numbers.")
                              % {"key": "map.bounds"})
        west, south, east, north = (_point_part(value, limit, "map.bounds[%d]" % i)
                                    for i, (value, limit) in enumerate(zip(bounds, (180, 90, 180, 90), strict=True)))
        if not (west < east and south < north):
            raise PresetError(_("Key “%(key)s”: the west edge must lie west of the east edge, and the south "
                                "edge south of the north edge.") % {"key": "map.bounds"})
        bounds = [west, south, east, north]
    outlines = {}
    for where, item in _list(data, "streets"):
        outline = _get(item, "outline", list, where, required=False)
        if outline is None:
            continue
        key = where + ".outline"
        if len(outline) < 3:
            raise PresetError(_("Key “%(key)s” must list at least three [longitude, latitude] points.") % {"key": key})
        points = []
        for i, point in enumerate(outline):
            if not isinstance(point, list) or len(point) != 2:
                raise PresetError(_("Key “%(key)s” must be a [longitude, latitude] pair.")
                                  % {"key": "%s[%d]" % (key, i)})
            points.append([_point_part(point[0], 180, "%s[%d][0]" % (key, i)),
                           _point_part(point[1], 90, "%s[%d][1]" % (key, i))])
        outlines[item["code"]] = points
    return {"bounds": bounds, "outlines": outlines}


def _point_part(value, limit: int, key: str) -> float:
    """A longitude (limit 180) or latitude (90) in degrees."""
    if not isinstance(value, int | float) or isinstance(value, bool) or not -limit <= value <= limit:
        raise PresetError(_("Key “%(key)s” must be a number of degrees between -%(limit)s and %(limit)s.")
                          % {"key": key, "limit": limit})
    return float(value)


def _milestone(where: str, item: dict) -> dict:
    required = _get(item, "required_pct", int, where, required=False)
    stretch = _get(item, "stretch_pct", int, where, required=False)
    for key, pct in (("required_pct", required), ("stretch_pct", stretch)):
        if pct is not None and not 0 <= pct <= 100:
            raise PresetError(_("Key “%(key)s” must be between 0 and 100.") % {"key": where + "." + key})
    return {"due_on": _get(item, "due_on", datetime.date, where), "title": _get(item, "title", str, where),
            "required_pct": required, "stretch_pct": stretch}


def _check_unique(items: list[dict], key: str) -> None:
    seen = set()
    for item in items:
        if item[key] in seen:
            raise PresetError(_("Code “%(code)s” appears twice.") % {"code": item[key]})
        seen.add(item[key])


# Work the rooms above this one do on a campaign once its preset is loaded (the ledger
# re-evaluates its targets' priorities), in the same transaction: a PresetError from one
# undoes the load. They register here (preset_after_load); this app does not know them.
_AFTER_LOAD: list[Callable[[Campaign], str | None]] = []


def preset_after_load(hook: Callable[[Campaign], str | None]) -> None:
    """Run hook(campaign) after every preset load; what it returns is a note for the loader."""
    if hook not in _AFTER_LOAD:
        _AFTER_LOAD.append(hook)


@transaction.atomic
def preset_load(*, text: str, actor=None, source: str = "", notes: list[str] | None = None) -> tuple[Campaign, bool]:
    """Load or update a campaign from preset text; returns (campaign, created).

    Then runs the hooks the rooms above registered (preset_after_load), whose notes go to
    `notes`.
    """
    plan = parse_preset(text)
    sha = hashlib.sha256(text.encode()).hexdigest()
    fields = dict(plan["campaign"], aliases=plan["aliases"], rules=plan["rules"], preset_sha256=sha)
    slug = fields.pop("slug")
    # What a reload changes is logged against what was there: read it first, under a lock.
    stored = Campaign.objects.select_for_update().filter(slug=slug).first()
    before = CAMPAIGN.snapshot(stored) if stored else None
    campaign, created = Campaign.objects.update_or_create(slug=slug, defaults=fields)
    units = {}
    for sort, unit in enumerate(plan["units"]):
        defaults = {k: v for k, v in unit.items() if k != "code"}
        defaults["sort"] = sort
        units[unit["code"]], _c = OrgUnit.objects.update_or_create(
            campaign=campaign, code=unit["code"], defaults=defaults)
    for sort, item in enumerate(plan["target_types"]):
        TargetType.objects.update_or_create(
            campaign=campaign, code=item["code"],
            defaults={"name": item["name"], "description": item["description"], "sort": sort})
    for item in plan["phases"]:
        Phase.objects.update_or_create(
            campaign=campaign, number=item["number"],
            defaults={k: v for k, v in item.items() if k != "number"})
    campaign.milestones.exclude(due_on__in=[m["due_on"] for m in plan["milestones"]]).delete()
    for item in plan["milestones"]:
        Milestone.objects.update_or_create(
            campaign=campaign, due_on=item["due_on"],
            defaults={k: v for k, v in item.items() if k != "due_on"})
    campaign.liaisons.all().delete()
    Liaison.objects.bulk_create(
        Liaison(campaign=campaign, leader=i["leader"], street=units[i["street"]]) for i in plan["liaisons"])
    changelog_append(
        changes=[CAMPAIGN.change(campaign, "create" if created else "update", before, CAMPAIGN.snapshot(campaign))],
        # The file it came from is not the campaign's: it goes with the why, not the snapshot.
        actor=actor, reason=_("preset loaded from %(source)s") % {"source": source} if source else _("preset loaded"),
    )
    for hook in _AFTER_LOAD:
        note = hook(campaign)
        if note and notes is not None:
            notes.append(note)
    return campaign, created
