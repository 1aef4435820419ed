"""`[petitions] open_limit_days`: how long a petition may stay open before it is on a to-do list."""

import pytest

from taizhang.campaigns.models import PETITION_OPEN_LIMIT_DAYS, Campaign
from taizhang.campaigns.presets import PresetError, parse_preset, preset_load
from tests.conftest import PRESET

pytestmark = pytest.mark.usefixtures("english")

TABLE = "[petitions]\nopen_limit_days = 60\n"


def _text(table: str) -> str:
    text = PRESET.read_text(encoding="utf-8")
    assert TABLE in text
    return text.replace(TABLE, table)


def test_the_built_in_preset_gives_60_days(campaign):
    assert campaign.rules["petitions"] == {"open_limit_days": 60}
    assert campaign.petition_open_limit_days() == 60


def test_a_preset_without_the_key_gets_the_default(db):
    assert parse_preset(_text(""))["rules"]["petitions"] == {"open_limit_days": PETITION_OPEN_LIMIT_DAYS}
    assert Campaign(rules={}).petition_open_limit_days() == PETITION_OPEN_LIMIT_DAYS


def test_reloading_with_another_limit_changes_it(campaign):
    preset_load(text=_text("[petitions]\nopen_limit_days = 30\n"))
    campaign.refresh_from_db()
    assert campaign.petition_open_limit_days() == 30


@pytest.mark.parametrize(("table", "message"), [
    ("[petitions]\nopen_limit_days = 0\n", "“petitions.open_limit_days” must be a positive whole number of days"),
    ("[petitions]\nopen_limit_days = -5\n", "“petitions.open_limit_days” must be a positive whole number of days"),
    ("[petitions]\nopen_limit_days = true\n", "“petitions.open_limit_days” has the wrong type"),
    ("[petitions]\nopen_limit_days = \"60\"\n", "“petitions.open_limit_days” has the wrong type"),
    ("[petitions]\nopen_limit_day = 60\n",
     "Unknown key “petitions.open_limit_day” on line \\d+. Did you mean “open_limit_days”"),
])
def test_a_bad_limit_is_refused_naming_the_key_and_loads_nothing(db, table, message):
    with pytest.raises(PresetError, match=message):
        preset_load(text=_text(table))
    assert Campaign.objects.count() == 0
