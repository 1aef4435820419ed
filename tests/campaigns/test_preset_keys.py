"""A preset key the loader does not know is refused, with its line and the closest known key."""

import re

import pytest

from taizhang.campaigns.models import Campaign, OrgUnit
from taizhang.campaigns.preset_keys import key_lines
from taizhang.campaigns.presets import PresetError, preset_load
from tests.conftest import PRESET


def _line(text, fragment, occurrence=1):
    """The 1-based line of the n-th occurrence of `fragment`."""
    at = -1
    for _i in range(occurrence):
        at = text.index(fragment, at + 1)
    return text.count("\n", 0, at) + 1


def _names_line(message, line):
    # The message may be in Chinese (第 203 行) or English (line 203): look for the number alone.
    return re.search(r"(?<!\d)%d(?!\d)" % line, message) is not None


def _refused(text):
    with pytest.raises(PresetError) as caught:
        preset_load(text=text)
    assert Campaign.objects.count() == 0
    assert OrgUnit.objects.count() == 0
    return str(caught.value)


@pytest.mark.django_db
def test_a_misspelt_top_level_table_is_refused_with_its_line_and_the_right_name():
    text = PRESET.read_text(encoding="utf-8").replace("[pilots]", "[pilot]")
    message = _refused(text)
    assert "“pilot”" in message
    assert _names_line(message, _line(text, "[pilot]"))
    assert "“pilots”" in message


@pytest.mark.django_db
def test_an_unknown_top_level_table_lists_the_known_keys():
    text = PRESET.read_text(encoding="utf-8") + "\n[weather]\nsunny = true\n"
    message = _refused(text)
    assert "“weather”" in message and _names_line(message, _line(text, "[weather]"))
    assert "campaign" in message and "plan_templates" in message


@pytest.mark.django_db
def test_a_misspelt_key_in_a_table_is_refused():
    text = PRESET.read_text(encoding="utf-8").replace("target_total = 528", "target_totl = 528")
    message = _refused(text)
    assert "“campaign.target_totl”" in message
    assert _names_line(message, _line(text, "target_totl"))
    assert "“target_total”" in message


@pytest.mark.django_db
def test_a_misspelt_key_in_an_array_of_tables_names_the_item_and_its_line():
    # The second system (国资, 67): the line must be that item's, not the first system's.
    text = PRESET.read_text(encoding="utf-8").replace("expected_targets = 67", "expected_target = 67")
    message = _refused(text)
    assert "“systems[1].expected_target”" in message
    assert _names_line(message, _line(text, "expected_target = 67"))
    assert "“expected_targets”" in message


@pytest.mark.django_db
def test_a_quoted_misspelt_key_is_found_too():
    text = PRESET.read_text(encoding="utf-8").replace('short_name = "鲁谷"', '"shortname" = "鲁谷"')
    message = _refused(text)
    assert "“streets[8].shortname”" in message
    assert _names_line(message, _line(text, '"shortname"'))
    assert "“short_name”" in message


@pytest.mark.django_db
def test_a_key_known_elsewhere_is_refused_where_it_does_not_belong():
    # `title` is a milestone's key, not a phase's; the line is the one inside phases[1].
    text = PRESET.read_text(encoding="utf-8").replace('name = "分类治理"', 'title = "分类治理"')
    message = _refused(text)
    assert "“phases[1].title”" in message
    assert _names_line(message, _line(text, 'title = "分类治理"'))


@pytest.mark.django_db
def test_an_unknown_nested_table_is_refused():
    text = PRESET.read_text(encoding="utf-8").replace(
        "[[milestones]]", "[phases.schedule]\nweekly = true\n\n[[milestones]]", 1)
    message = _refused(text)
    assert "“phases[2].schedule”" in message
    assert _names_line(message, _line(text, "[phases.schedule]"))


@pytest.mark.django_db
def test_an_unknown_nested_array_of_tables_is_refused():
    text = PRESET.read_text(encoding="utf-8") + '\n[[plan_templates.variants]]\nmeans = ["legal"]\n'
    message = _refused(text)
    assert "“plan_templates[2].variants”" in message
    assert _names_line(message, _line(text, "[[plan_templates.variants]]"))


@pytest.mark.django_db
def test_a_misspelt_key_inside_an_inline_table_names_its_parents_line():
    text = PRESET.read_text(encoding="utf-8").replace(
        "per_street_min = 1\nper_street_max = 2\nper_system_min = 1\nper_system_max = 2",
        "per_street = {min = 1, max = 2}")
    message = _refused(text)
    assert "“pilots.per_street”" in message
    assert _names_line(message, _line(text, "per_street = {"))
    assert "“per_street_max”" in message or "“per_street_min”" in message


@pytest.mark.django_db
def test_aliases_take_any_key():
    text = PRESET.read_text(encoding="utf-8").replace('"大院" = ', '"聚集大院" = "低端产业聚集人群大院"\n"大院" = ')
    campaign, _created = preset_load(text=text)
    assert campaign.resolve_label("聚集大院") == "低端产业聚集人群大院"


def test_key_lines_skip_multiline_strings_and_arrays():
    text = (
        '[a]\n'
        'note = """\n'
        'b = 1\n'
        '"""\n'
        'list = [\n'
        '  "b = 2",\n'
        '  { b = 3 },\n'
        ']\n'
        "'b' = 4  # b = 5\n"
        '[[c]]\n'
        'x = 1\n'
        '[[c]]\n'
        'x.y = 2\n'
        '[c.d]\n'
        'e = 3\n'
    )
    lines = key_lines(text)
    assert lines[("a", "b")] == 9
    assert lines[("a", "list")] == 5
    assert lines[("c", 0, "x")] == 11
    assert lines[("c", 1, "x", "y")] == 13
    assert lines[("c", 1, "d", "e")] == 15
