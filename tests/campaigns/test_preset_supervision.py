"""`[supervision]`: how orders are numbered, coloured, chased and referred, and what 纪检监察
may record; each key checked at load time, each falling back to its default."""

import pytest

from taizhang.campaigns.models import SUPERVISION_DEFAULTS, Campaign
from taizhang.campaigns.presets import PresetError, parse_preset, preset_load
from tests.conftest import PRESET

pytestmark = pytest.mark.usefixtures("english")

START = "[supervision]\n"


def _text(table: str) -> str:
    """The built-in preset with its [supervision] table replaced by `table`."""
    text = PRESET.read_text(encoding="utf-8")
    start = text.index(START)
    end = text.index("\n\n", start)
    return text[:start] + table + text[end:]


def test_the_built_in_preset_numbers_orders_as_the_district_does(campaign):
    rules = campaign.supervision_rules()
    assert rules["number_format"] == "石治乱督〔{year}〕{number}号"
    assert rules["outcomes"] == ["约谈", "通报批评", "诫勉", "问责"] and rules["remind_after_days"] == [1, 3, 7]


def test_a_preset_without_the_table_gets_the_defaults(db):
    assert parse_preset(_text(""))["rules"]["supervision"] == {}
    assert Campaign(rules={}).supervision_rules() == SUPERVISION_DEFAULTS


def test_reminder_days_are_kept_in_the_order_they_come_due(db):
    rules = parse_preset(_text(START + "remind_before_days = [1, 5, 3]\nremind_after_days = [7, 1, 1]\n"))
    assert rules["rules"]["supervision"] == {"remind_before_days": [5, 3, 1], "remind_after_days": [1, 7]}


@pytest.mark.parametrize(("table", "message"), [
    ("number_format = \"督{year}\"", "“supervision.number_format” must hold {number}"),
    ("number_format = \"督{number}{unit}\"", "“supervision.number_format” must hold {number}"),
    ("yellow_within_days = 0", "“supervision.yellow_within_days” must be a whole number, at least 1"),
    ("extensions_max = -1", "“supervision.extensions_max” must be a whole number, at least 0"),
    ("refer_after_reminders = true", "“supervision.refer_after_reminders” must be a whole number"),
    ("remind_after_days = [0, 3]", "“supervision.remind_after_days” must list positive whole numbers of days"),
    ("outcomes = []", "“supervision.outcomes” must list different names"),
    ("outcomes = [\"约谈\", \"约谈\"]", "“supervision.outcomes” must list different names"),
    ("refer_after_day = 3", "Unknown key “supervision.refer_after_day” on line \\d+"),
])
def test_a_bad_rule_is_refused_naming_the_key_and_loads_nothing(db, table, message):
    with pytest.raises(PresetError, match=message):
        preset_load(text=_text(START + table + "\n"))
    assert Campaign.objects.count() == 0
