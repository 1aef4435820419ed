"""Shared fixtures: the built-in preset, a small ledger, and one persona per role.

Personas (the healthchecks way): Alice works in 古城's sub-command, Bob in 鲁谷's;
Carol keeps the ledger in the HQ office; Dan is a rights unit in 古城; Erin is a
liaison leader for 古城; Lee leads the command; Gina sits in a working group;
Jin does discipline inspection; Olive has an account and no role at all.
"""

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import translation

from taizhang.accounts.models import Membership
from taizhang.campaigns.models import OrgUnit
from taizhang.campaigns.presets import preset_load
from taizhang.ledger.services import target_create

# A small campaign with a history at set days, and the clock it was written with (`history`, `clock`).
pytest_plugins = ["tests.history"]

PRESET = Path(__file__).resolve().parent.parent / "presets" / "shijingshan-2015.toml"
PASSWORD = "correct horse battery"


@pytest.fixture
def english():
    """Messages asserted in their English source text, whatever the default language (the zh_Hans
    ones are checked through the catalog). Modules take it with `pytestmark`."""
    with translation.override("en"):
        yield


def group_member(units, code, user=None, username="pete"):
    """`user` (or a new user named `username`) made a member of working group `code`, whose
    duties the preset names."""
    if user is None:
        user = get_user_model().objects.create_user(username, password=PASSWORD)
    Membership.objects.create(user=user, unit=units[code], role=Membership.Role.GROUP)
    return user


def ledger_state():
    """Everything a refused import or ledger write must leave alone: every target as stored,
    the change log's length and the org units' count."""
    from taizhang.core.models import ChangeLogEntry
    from taizhang.ledger.models import Target

    return (list(Target.objects.order_by("pk").values()), ChangeLogEntry.objects.count(), OrgUnit.objects.count())


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the default language: a page asked for in English leaves the thread's
    language active (LocaleMiddleware activates it and nothing deactivates it after)."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: a figure cached under a state of the change log
    another test's database also reached is not this test's."""
    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The production hasher is slow by design; nine personas per test would take seconds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def campaign(db):
    campaign, _created = preset_load(text=PRESET.read_text(encoding="utf-8"), source=PRESET.name)
    return campaign


@pytest.fixture
def demo_database(db, settings):
    """A database the demo set-up made (marked), in the development profile."""
    from taizhang.ledger.models import DemoDatabase

    settings.DEBUG = True
    return DemoDatabase.objects.create()


@pytest.fixture
def units(campaign):
    """Org units by code, plus two rights units (one in each system we use)."""
    by_code = {u.code: u for u in OrgUnit.objects.filter(campaign=campaign)}
    by_code["U-GC"] = OrgUnit.objects.create(
        campaign=campaign, kind=OrgUnit.Kind.RIGHTS_UNIT, code="U-GC", name="古城杨庄股份经济合作社",
        parent=by_code["JT"])
    by_code["U-LG"] = OrgUnit.objects.create(
        campaign=campaign, kind=OrgUnit.Kind.RIGHTS_UNIT, code="U-LG", name="北京鲁谷物流有限公司",
        parent=by_code["GZ"])
    return by_code


def make_target(units, code, street, system, unit=None, **fields):
    campaign = units[street].campaign
    defaults = {
        "name": "%s大院" % code, "target_type": campaign.target_types.get(code="compound"),
        "community": "杨庄社区", "address": "北京市石景山区杨庄路1号", "land_area": Decimal("1200.00"),
        "rented_floor_area": Decimal("800.00"), "resident_population": 120, "business_count": 8,
        "registered_on": datetime.date(2015, 11, 20),
    }
    defaults.update(fields)
    return target_create(actor=None, campaign=campaign, code=code, street=units[street],
                         system=units[system], responsible_unit=units.get(unit) if unit else None,
                         **defaults)


@pytest.fixture
def targets(units):
    """Three in 古城 (two of Dan's unit), two in 鲁谷."""
    return {
        "GC-0001": make_target(units, "GC-0001", "GC", "JT", "U-GC"),
        "GC-0002": make_target(units, "GC-0002", "GC", "JT", "U-GC", name="=HYPERLINK(\"http://x\")"),
        "GC-0003": make_target(units, "GC-0003", "GC", "SG"),
        "LG-0001": make_target(units, "LG-0001", "LG", "GZ", "U-LG"),
        "LG-0002": make_target(units, "LG-0002", "LG", "ZF"),
    }


def _persona(username, units, unit_code, role):
    user = get_user_model().objects.create_user(username, password=PASSWORD)
    if unit_code:
        Membership.objects.create(user=user, unit=units[unit_code], role=role)
    return user


@pytest.fixture
def personas(units):
    Role = Membership.Role
    table = {
        "alice": ("GC", Role.STREET), "bob": ("LG", Role.STREET), "carol": ("OFFICE", Role.OFFICE),
        "dan": ("U-GC", Role.UNIT), "erin": ("GC", Role.LIAISON), "lee": ("HQ", Role.LEADER),
        "gina": ("G08", Role.GROUP), "jin": ("G11", Role.DISCIPLINE), "olive": (None, None),
    }
    return {name: _persona(name, units, code, role) for name, (code, role) in table.items()}


HEADER = ["编号", "名称", "类型", "所属街道", "社区", "所属系统", "责任单位", "占地面积", "居住人口", "登记日期"]


def make_xlsx(rows, *, header=HEADER, title="古城街道整治对象台账", sheet="台账", extra_sheets=()):
    """An .xlsx as an office would send it: a merged title row above the header."""
    import io

    import xlsxwriter

    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False})
    for name in extra_sheets:
        workbook.add_worksheet(name).write(0, 0, "封面")
    ws = workbook.add_worksheet(sheet)
    ws.merge_range(0, 0, 0, len(header) - 1, title)
    ws.write_row(1, 0, header)
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row):
            if value is not None:
                ws.write(r, c, value)
    workbook.close()
    return out.getvalue()


def gc_row(code="GC-0101", **overrides):
    """A valid new-target row for HEADER."""
    row = {"编号": code, "名称": "杨庄东大院", "类型": "大院", "所属街道": "古城", "社区": "杨庄社区",
           "所属系统": "集体", "责任单位": "古城杨庄股份经济合作社", "占地面积": "1,200㎡",
           "居住人口": "约300人", "登记日期": "2015年11月20日"}
    row.update(overrides)
    return [row[h] for h in HEADER]
