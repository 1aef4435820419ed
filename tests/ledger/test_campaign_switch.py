"""Working in more than one campaign: the header lists them and switches between them."""

from taizhang.accounts.models import Membership
from taizhang.campaigns.models import OrgUnit
from taizhang.campaigns.presets import preset_load
from tests.conftest import PRESET


def _campaign(slug, name):
    text = PRESET.read_text(encoding="utf-8").replace('slug = "shijingshan-2015"', 'slug = "%s"' % slug)
    campaign, _created = preset_load(text=text.replace('name = "石景山区治乱疏解建高端"', 'name = "%s"' % name))
    return campaign


def _switch_options(html: str) -> list[str]:
    form = html.split('class="inline-form campaign-switch"', 1)[1].split("</form>", 1)[0]
    return [part.split(">", 1)[1].split("<", 1)[0] + (" (selected)" if " selected" in part.split(">", 1)[0] else "")
            for part in form.split("<option")[1:]]


def test_a_user_in_two_campaigns_switches_between_them(client, campaign, personas):
    second = _campaign("kaiqiang-2017", "开墙打洞整治")
    _campaign("elsewhere-2018", "别处的整治")  # one carol takes no part in
    carol = personas["carol"]
    Membership.objects.create(user=carol, role=Membership.Role.OFFICE,
                              unit=OrgUnit.objects.get(campaign=second, kind=OrgUnit.Kind.OFFICE))
    client.force_login(carol)
    home = client.get("/").content.decode()
    options = _switch_options(home)
    assert sorted(o.removesuffix(" (selected)") for o in options) == ["开墙打洞整治", "石景山区治乱疏解建高端"]
    shown = next(o for o in options if o.endswith("(selected)")).removesuffix(" (selected)")
    assert "<h1>%s</h1>" % shown in home
    other = second if shown != second.name else campaign
    response = client.post("/campaign/", {"campaign": other.pk})
    assert response.status_code == 302
    home = client.get("/").content.decode()
    assert "<h1>%s</h1>" % other.name in home and "%s (selected)" % other.name in _switch_options(home)
    # Every page follows the choice, the ledger too.
    assert client.get("/ledger/").context["campaign"] == other


def test_choosing_a_campaign_one_takes_no_part_in_changes_nothing(client, campaign, personas):
    elsewhere = _campaign("elsewhere-2018", "别处的整治")
    client.force_login(personas["carol"])
    client.post("/campaign/", {"campaign": elsewhere.pk})
    home = client.get("/").content.decode()
    assert "<h1>%s</h1>" % campaign.name in home and "别处的整治" not in home


def test_one_campaign_no_switch(client, campaign, personas):
    _campaign("elsewhere-2018", "别处的整治")
    client.force_login(personas["alice"])
    assert "campaign-switch" not in client.get("/").content.decode()
