"""A fictitious but plausible demo ledger, generated from the preset, deterministic per seed.

Counts come from the preset (the baseline total and each system's expected count), so
`demo` gives the speech's 528 = 334 + 67 + 42 + 85 and `--targets N` keeps the shares.
"""

import copy
import datetime
import json
import random
import re
from contextlib import contextmanager
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.accounts.models import Membership
from taizhang.accounts.services import membership_add, user_create
from taizhang.campaigns.models import Campaign, GroupDuty, OrgUnit
from taizhang.campaigns.presets import parse_preset
from taizhang.campaigns.snapshots import ORG_UNIT
from taizhang.core.db import atomic
from taizhang.core.models import ChangeLogEntry

from .models import DemoDatabase, Target
from .services import targets_bulk_save

DEMO_PASSWORD = "taizhang-demo-2015"
# What the change log says of every record the demo writes.
DEMO_REASON = "演示数据"
# A demo ledger is generated into an empty campaign once; another one needs a new database.
START_OVER = ("To start over, make a new demo database in a new data folder: "
              "mkdir var/demo2 && export TAIZHANG_DATA_DIR=var/demo2, then manage.py migrate and "
              "manage.py setup_demo [--targets N] [--seed S] [--until DAY] "
              "(or delete var/taizhang.sqlite3* and run make run).")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
DIRECTIONS = "东西南北前后大小上下"
PLACE_WORDS = "黄杨槐柳梨枣石桥河泉峪沟庄营屯坨岭台园"
PLACE_ENDINGS = ("村", "庄", "营", "屯", "坨", "峪")
ROADS = ("阜石路", "石景山路", "鲁谷路", "杨庄路", "古城大街", "模式口大街", "金顶北路",
         "晋元庄路", "八角路", "苹果园路", "五里坨路", "广宁路", "衙门口路", "永引渠路")
FIRMS = ("实业", "建材", "物流", "物业管理", "机电设备", "商贸", "建设工程", "环保科技")
AGENCIES = ("园林绿化局", "市政市容委", "教育委员会", "卫生和计划生育委员会", "体育局", "文化委员会",
            "房屋管理局", "民政局")
HAZARDS = ("消防通道堵塞", "私搭乱建", "电线私拉乱接", "易燃物堆放", "群租", "油烟噪声扰民",
           "污水直排", "扬尘")
# Demo shares of the three target types (废品回收, 沙石料场, 大院), in preset order.
TYPE_WEIGHTS = (3, 1, 6)
# Demo share of targets with each situation flag.
FLAG_SHARES = {Target.Flag.SAFETY_HAZARD: 0.08, Target.Flag.ENVIRONMENT: 0.06,
               Target.Flag.INSTABILITY: 0.03, Target.Flag.BLOCKS_MAJOR_PROJECT: 0.02}
# Rough bounding box of the district, WGS-84.
LON, LAT = (116.14, 116.25), (39.88, 39.96)


class DemoRefused(CommandError):
    """The demo set-up will not write to this database; the message says why.

    Only the demo commands ask, so it is their error: it exits with status 3, which
    `make run` takes as "serve the database as it is" rather than a failure.
    """

    def __init__(self, message):
        super().__init__(message, returncode=3)


def _demo_allowed_here() -> None:
    if not settings.DEBUG:
        raise DemoRefused(_("Demo data is never written in the production profile (TAIZHANG_DEBUG=0)."))


def demo_database_claim() -> DemoDatabase:
    """The demo mark of this database: made now if the database is empty, else it must be there.

    Empty means no campaign, no user and no history: nothing anyone could lose or reach
    with the public demo password. Any other database without the mark is someone's
    real data and is refused, however few rows it holds.
    """
    _demo_allowed_here()
    with transaction.atomic():
        mark = DemoDatabase.objects.select_for_update().first()
        if mark is not None:
            return mark
        if (Campaign.objects.exists() or get_user_model().objects.exists()
                or ChangeLogEntry.objects.exists()):
            raise DemoRefused(_(
                "This database was not created by the demo set-up and already holds data "
                "(campaigns, users or history): no demo data or demo accounts are written to it. "
                "For a demo, point TAIZHANG_DATABASE_URL (or TAIZHANG_DATA_DIR) at a new, empty database."))
        return DemoDatabase.objects.create()


def demo_database_check() -> None:
    """Refuse unless this database is a demo database (made by the demo set-up) in development."""
    _demo_allowed_here()
    if not DemoDatabase.objects.exists():
        raise DemoRefused(_(
            "This database is not a demo database (only `setup_demo` on an empty database makes one): "
            "no demo data or demo accounts are written to it."))


class DemoClock:
    """The clock a demo's history is written under: inside `running()`, `timezone.now()` (and
    so every `auto_now`, every change-log entry's time, `localdate()`) reads the story's moment.

    Demo code only, and it says so: it starts only on a demo database (the DemoDatabase mark,
    in the development profile), never runs ahead of the real clock (nothing is dated in the
    future) and never goes back (entries are written in the order of their times, so the
    as-of ledger, which takes each target's latest entry before a day, replays them). Outside
    `running()` the real clock is back; production never runs on this one.
    """

    def __init__(self):
        self._moment = None
        self._real = None

    @contextmanager
    def running(self, start: datetime.datetime):
        demo_database_check()
        if isinstance(getattr(timezone.now, "__self__", None), DemoClock):
            raise RuntimeError("a demo clock is already running")
        self._real, self._moment = timezone.now, None
        self.set(start)
        timezone.now = self.now
        try:
            yield self
        finally:
            timezone.now, self._real = self._real, None

    def now(self) -> datetime.datetime:
        return self._moment

    def set(self, moment: datetime.datetime) -> None:
        """Move the clock on to `moment`: not back, and not past the real time."""
        if self._real is None:
            raise RuntimeError("the demo clock is not running")
        if self._moment is not None and moment < self._moment:
            raise ValueError("the demo clock does not go back (%s after %s)" % (moment, self._moment))
        if moment > self._real():
            raise ValueError("the demo clock does not run ahead of the real one (%s)" % moment)
        self._moment = moment


# The keys that hold a day in a preset (campaign, phases, milestones): a demo moves them alike.
_PRESET_DAY = re.compile(r"^(\s*(?:starts_on|ends_on|due_on)\s*=\s*)(\d{4}-\d{2}-\d{2})(?=\s*(?:#.*)?$)", re.M)


def preset_shifted(text: str, days: int) -> str:
    """The preset with every day of the campaign (its start and end, the phases, the
    milestones) `days` later, and the campaign's name saying so; the same preset otherwise.

    The demo moves its campaign so that the story's chosen day falls on today: the live
    features (deadlines, due re-inspections, forecasts) then have something to show, while
    the clock everywhere else stays the real one. Checked by parsing both texts: a day the
    shift missed (written another way) is refused, not loaded unshifted.
    """
    if days == 0:
        return text
    step = datetime.timedelta(days=days)
    moved = _PRESET_DAY.sub(lambda m: m[1] + (datetime.date.fromisoformat(m[2]) + step).isoformat(), text)
    original = parse_preset(text)
    name = _("%(name)s (demo: dates shifted by %(days)d days)") % {"name": original["campaign"]["name"],
                                                                   "days": days}
    lines, table = moved.splitlines(keepends=True), ""
    for i, line in enumerate(lines):
        if line.startswith("["):
            table = line.split("#")[0].strip()
        elif table == "[campaign]" and re.match(r"name\s*=", line):
            lines[i] = "name = %s\n" % json.dumps(name, ensure_ascii=False)
    moved = "".join(lines)
    expected = copy.deepcopy(original)
    expected["campaign"]["name"] = name
    for item in (expected["campaign"], *expected["phases"]):
        item["starts_on"] += step
        item["ends_on"] += step
    for item in expected["milestones"]:
        item["due_on"] += step
    if parse_preset(moved) != expected:
        raise ValueError("the preset's days could not all be shifted: write them as key = YYYY-MM-DD")
    return moved


def _place(rng) -> str:
    return rng.choice(DIRECTIONS) + rng.choice(PLACE_WORDS) + rng.choice(PLACE_ENDINGS)


def apportion(total: int, weights: list[float]) -> list[int]:
    """Split `total` in proportion to `weights`, largest remainder first, summing exactly."""
    whole = sum(weights)
    raw = [total * w / whole for w in weights]
    counts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True)
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


class DemoBuilder:
    """Builds the demo ledger of one campaign."""

    def __init__(self, campaign: Campaign, seed: int):
        self.campaign = campaign
        self.rng = random.Random(seed)
        # Flags draw from their own stream, so adding them left every other demo value as it was.
        self.flag_rng = random.Random(seed + 1)
        units = OrgUnit.objects.filter(campaign=campaign)
        self.streets = list(units.filter(kind=OrgUnit.Kind.STREET).order_by("sort"))
        self.systems = list(units.filter(kind=OrgUnit.Kind.SYSTEM).order_by("sort"))
        self.types = list(campaign.target_types.order_by("sort"))
        rules = campaign.rules.get("priority_rules", [])
        self.priority_streets = {v for r in rules if r.get("match") == "street" for v in r.get("values", [])}
        self.areas = [v for r in rules if r.get("match") == "area" for v in r.get("values", [])]
        phases = list(campaign.phases.order_by("number"))
        self.survey = (phases[0].starts_on, phases[0].ends_on) if phases else (campaign.starts_on,) * 2

    def system_counts(self, total: int | None) -> list[int]:
        expected = [s.expected_targets or 0 for s in self.systems]
        if total is None or total == sum(expected):
            return expected
        return apportion(total, expected if sum(expected) else [1] * len(self.systems))

    def build(self, total: int | None) -> tuple[list[dict], list[OrgUnit]]:
        """The targets as {field: value} for targets_bulk_save, and the rights units they name."""
        rng = self.rng
        street_weights = [rng.uniform(2.5, 3.5) if s.code in self.priority_streets else rng.uniform(0.8, 2.2)
                          for s in self.streets]
        centres = {s.pk: (rng.uniform(*LON), rng.uniform(*LAT)) for s in self.streets}
        communities = {s.pk: [_place(rng)[:2] + "社区" for _i in range(rng.randint(4, 8))]
                       for s in self.streets}
        slots = []
        for system, count in zip(self.systems, self.system_counts(total), strict=True):
            per_street = apportion(count, street_weights)
            for street, n in zip(self.streets, per_street, strict=True):
                type_counts = apportion(n, list(TYPE_WEIGHTS[: len(self.types)]) or [1])
                for target_type, m in zip(self.types, type_counts, strict=False):
                    slots += [(system, street, target_type)] * m
        # Codes are numbered per street in survey order, not grouped by system and type.
        rng.shuffle(slots)
        units, by_key = [], {}
        targets, seq = [], {s.pk: 0 for s in self.streets}
        for system, street, target_type in slots:
            unit = self._unit(system, street, units, by_key)
            seq[street.pk] += 1
            targets.append(self._target(system, street, target_type, unit, seq[street.pk],
                                        centres[street.pk], communities[street.pk]))
        return targets, units

    def _unit(self, system, street, units, by_key) -> OrgUnit:
        """A few rights units per system and street, reused by several targets."""
        rng = self.rng
        key = (system.pk, street.pk, rng.randrange(3))
        if key not in by_key:
            taken = {u.name for u in units}
            name = self._unit_name(system, street)
            while name in taken:
                name = self._unit_name(system, street)
            unit = OrgUnit(campaign=self.campaign, kind=OrgUnit.Kind.RIGHTS_UNIT, parent=system,
                           code="U%05d" % (len(units) + 1), name=name, sort=len(units))
            units.append(unit)
            by_key[key] = unit
        return by_key[key]

    def _unit_name(self, system, street) -> str:
        rng = self.rng
        index = self.systems.index(system)
        if index == 0:
            return "%s%s股份经济合作社" % (street.label, _place(rng))
        if index == 1:
            return "北京%s%s有限公司" % (_place(rng)[:2], rng.choice(FIRMS))
        if index == 2:
            return "%s%s%s分公司" % (system.label, _place(rng)[:2], rng.choice(FIRMS))
        return "区%s%s%s" % (rng.choice(AGENCIES), _place(rng)[:2], rng.choice(("管理所", "服务中心", "站")))

    def _target(self, system, street, target_type, unit, n, centre, communities) -> dict:
        rng = self.rng
        place = _place(rng)
        type_index = self.types.index(target_type)
        if type_index == 0:
            name = "%s%s废品回收站" % (place, rng.choice(SURNAMES) + "记")
        elif type_index == 1:
            name = "%s沙石料场" % place
        else:
            name = "%s%s大院" % (place, rng.choice(("", "一号", "二号", "西", "东")))
        road = rng.choice(ROADS)
        if street.code in self.priority_streets and self.areas and rng.random() < 0.15:
            road = rng.choice(self.areas) + road
        population = rng.randint(0, 600) if type_index == 2 else rng.randint(0, 40)
        start, end = self.survey
        return dict(
            code="%s-%04d" % (street.code, n), name=name,
            target_type=target_type, street=street, system=system, responsible_unit=unit,
            community=rng.choice(communities), land_rights_unit=unit.name,
            property_rights_unit=unit.name if rng.random() < 0.7 else "%s%s" % (place, "村民委员会"),
            address="%s%s%s号" % (self.campaign.district, road, rng.randint(1, 300)),
            longitude=Decimal(str(round(centre[0] + rng.uniform(-0.012, 0.012), 6))),
            latitude=Decimal(str(round(centre[1] + rng.uniform(-0.008, 0.008), 6))),
            land_area=Decimal(rng.randint(200, 30000)),
            rented_floor_area=Decimal(rng.randint(100, 12000)),
            resident_population=population, business_count=rng.randint(0, 60),
            hazards="、".join(rng.sample(HAZARDS, rng.randint(0, 3))),
            registered_on=start + datetime.timedelta(days=rng.randint(0, (end - start).days)),
            flags=sorted(flag.value for flag, share in FLAG_SHARES.items() if self.flag_rng.random() < share),
        )


@transaction.atomic
def demo_load(*, campaign: Campaign, seed: int = 2015, total: int | None = None) -> int:
    """Generate the demo ledger into an empty campaign; returns the number of targets."""
    if Target.objects.filter(campaign=campaign).exists():
        raise ValueError("campaign %s already has targets: the demo fills an empty campaign only. %s"
                         % (campaign.slug, START_OVER))
    targets, units = DemoBuilder(campaign, seed).build(total)
    OrgUnit.objects.bulk_create(units, batch_size=500)  # sets their ids (RETURNING, on both databases)
    targets_bulk_save(campaign=campaign, creates=targets, updates=[], actor=None, reason=DEMO_REASON,
                      extra_changes=[ORG_UNIT.created(unit) for unit in units])
    return len(targets)


DEMO_USERS = (
    # username, role, display name
    ("leader", Membership.Role.LEADER, "指挥部领导"),
    ("office", Membership.Role.OFFICE, "指挥部办公室"),
    ("group", Membership.Role.GROUP, "政策法规组"),
    ("street", Membership.Role.STREET, "街道分指"),
    ("unit", Membership.Role.UNIT, "地权单位"),
    ("discipline", Membership.Role.DISCIPLINE, "纪检监察"),
    ("liaison", Membership.Role.LIAISON, "联系区领导"),
)


@atomic
def demo_users(campaign: Campaign) -> list[tuple[str, str, str]]:
    """One account per role (idempotent: a missing account or role is added, no password is
    reset); returns (username, role, unit) rows to print."""
    units = OrgUnit.objects.filter(campaign=campaign)
    street = units.filter(kind=OrgUnit.Kind.STREET).order_by("sort")
    priority = {v for r in campaign.rules.get("priority_rules", []) if r.get("match") == "street"
                for v in r.get("values", [])}
    street = street.filter(code__in=priority).first() or street.first()
    unit = (units.filter(kind=OrgUnit.Kind.RIGHTS_UNIT, unit_targets__street=street).order_by("code").first()
            or units.filter(kind=OrgUnit.Kind.SYSTEM).first())
    placed = {
        Membership.Role.LEADER: units.filter(kind=OrgUnit.Kind.COMMAND).first(),
        Membership.Role.OFFICE: units.filter(kind=OrgUnit.Kind.OFFICE).first(),
        # The group with the legal duty shows what a working group may do beyond reading.
        Membership.Role.GROUP: (units.filter(kind=OrgUnit.Kind.GROUP, code__in=campaign.duty_groups(GroupDuty.LEGAL))
                                .first() or units.filter(kind=OrgUnit.Kind.GROUP).first()),
        Membership.Role.STREET: street, Membership.Role.UNIT: unit,
        Membership.Role.DISCIPLINE: units.filter(kind=OrgUnit.Kind.GROUP).last(),
        Membership.Role.LIAISON: street,
    }
    found = {user.username: user for user in get_user_model().objects.filter(
        username__in=[username for username, _role, _display in DEMO_USERS])}
    held = set(Membership.objects.filter(user__in=found.values()).values_list("user__username", "unit_id", "role"))
    # One hash for every demo account: the password is public, and hashing it costs 0.3 s each time.
    password_hash = make_password(DEMO_PASSWORD) if len(found) < len(DEMO_USERS) else None
    rows = []
    for username, role, display in DEMO_USERS:
        # Through the accounts' services, so that every demo account and role is in the change log.
        if username not in found:
            user_create(actor=None, username=username, name=display, password_hash=password_hash,
                        must_change_password=False, memberships=[(placed[role], role)], reason=DEMO_REASON)
        elif (username, placed[role].pk, role) not in held:
            membership_add(actor=None, user_id=found[username].pk, unit=placed[role], role=role, reason=DEMO_REASON)
        rows.append((username, str(Membership.Role(role).label), placed[role].name))
    return rows


def demo_accounts_print(campaign: Campaign, out) -> None:
    """Make the demo accounts (those missing) and write them, with their password, to `out`."""
    rows = demo_users(campaign)
    out.write("demo accounts (password %s), %d roles:" % (DEMO_PASSWORD, len(DEMO_USERS)))
    for username, role, unit in rows:
        out.write("  %-11s %s · %s" % (username, role, unit))
