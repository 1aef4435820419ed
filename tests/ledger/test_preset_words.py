"""The preset's aliases: the words the speech uses for each target type, street, system, group
and situation flag, and the common ways offices write them, read as the preset's values."""

import pytest

from taizhang.campaigns.models import OrgUnit
from taizhang.ledger.checking import Labels

# (column, word, what the preset calls it)
WORDS = [
    # Target types, as the speech names them (从事无照经营的废品回收、沙石料场、低端产业聚集人群大院;
    # 低端产业人群聚集场所; the slogan's 大杂院) and as offices write them.
    *(("target_type", w, "废品回收") for w in (
        "废品回收", "scrap", "从事无照经营的废品回收", "无照经营的废品回收", "废品收购站", "废品回收站", "废品收购点",
        "废品站", "收废品")),
    *(("target_type", w, "沙石料场") for w in ("沙石料场", "砂石料场", "沙石场", "砂石场", "SAND")),
    *(("target_type", w, "低端产业聚集人群大院") for w in (
        "低端产业聚集人群大院", "低端产业人群聚集场所", "聚集人群大院", "大院", "大杂院")),
    # Streets with and without 街道, as a 地区 (古城、鲁谷、八角地区), an office, a sub-command.
    *(("street", w, "古城街道") for w in (
        "古城街道", "古城", "古城地区", "古城街道办事处", "古城街道办", "古城分指", "古城街道分指", "古城街道分指挥部",
        "石景山区古城街道", "GC", "ＧＣ", "gc")),
    *(("street", w, "鲁谷街道") for w in ("鲁谷", "鲁谷地区", "鲁谷街道办事处", "LG")),
    *(("street", w, "八角街道") for w in ("八角", "八角地区", "八角街道分指挥部")),
    *(("street", street + suffix, street + "街道") for street in (
        "八宝山", "老山", "苹果园", "金顶街", "广宁", "五里坨") for suffix in ("", "地区", "街道办事处", "分指")),
    # Systems: full and short names, the speech's words (集体经济领域、首钢厂区、政府部门及其他社会单位),
    # and what offices write (村集体, 村委会, 国企, 首钢集团 …).
    *(("system", w, "集体经济系统") for w in (
        "集体经济系统", "集体经济", "集体", "集体经济领域", "集体经济组织", "村集体", "村委会", "村民委员会", "JT")),
    *(("system", w, "国资系统") for w in ("国资系统", "国资", "国有企业", "国企", "国资委")),
    *(("system", w, "首钢系统") for w in ("首钢系统", "首钢", "首钢集团", "首钢厂区")),
    *(("system", w, "政府部门和社会单位") for w in (
        "政府部门和社会单位", "政府和社会单位", "政府部门", "社会单位", "政府部门及其他社会单位", "行政事业单位")),
    # Situation flags as the speech puts them (从安全角度划分 …) and as the ledger shows them.
    *(("flags", w, "instability") for w in (
        "不稳定因素", "存在影响社会不稳定因素", "社会不稳定因素", "存在不稳定因素")),
    *(("flags", w, "safety_hazard") for w in ("重大安全隐患", "存在重大安全隐患", "安全隐患", "Major safety hazard")),
    *(("flags", w, "environment") for w in ("环境脏乱差", "脏乱差", "环境脏乱")),
    *(("flags", w, "blocks_major_project") for w in ("影响重大工程", "影响全区重大工程推进", "影响重大工程推进")),
]
# The ten working groups (and 纪检监察) as the speech lists their work, and with 专项工作组.
GROUPS = [(group, group + "组") for group in (
    "产业发展", "土地利用", "拆违治乱", "环境整治", "旧村改造", "就业和经费保障", "信访维稳", "政策法规", "组工保障",
    "宣传保障", "纪检监察")]
GROUPS += [(name + "专项工作组", name + "组") for name in ("产业发展", "信访维稳", "政策法规")]
GROUPS += [("纪检监察部门", "纪检监察组"), ("指挥部", "治乱疏解建高端指挥部"), ("办公室", "指挥部办公室")]


@pytest.mark.parametrize(("column", "word", "expected"), WORDS)
def test_the_preset_reads_the_words_offices_write(campaign, column, word, expected):
    labels = Labels(campaign)
    if column == "flags":
        assert [code for _word, code in labels.flag_words(word)] == [expected]
    else:
        found = labels.resolve(column, word)
        assert found is not None and found.name == expected


@pytest.mark.parametrize(("word", "expected"), GROUPS)
def test_the_preset_names_each_group_as_the_speech_does(campaign, word, expected):
    name = campaign.resolve_label(word)
    assert OrgUnit.objects.filter(campaign=campaign, name=name).exists() and name == expected


def test_every_alias_of_the_preset_names_something_it_declares(campaign):
    """An alias whose value the preset does not declare would be read as nothing."""
    labels = Labels(campaign)
    units = set(OrgUnit.objects.filter(campaign=campaign).values_list("name", flat=True))
    known = units | set(campaign.target_types.values_list("name", flat=True))
    stray = [(word, name) for word, name in campaign.aliases.items()
             if name not in known and labels.flags.get(name) is None]
    assert stray == []
