"""The demo: its policy library (real laws and regulations the campaign relied on), and the
demo campaign in motion (the preset, the ledger, the accounts and the story, written at once)."""

import datetime
import random
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.campaigns.models import Campaign
from taizhang.campaigns.presets import parse_preset, preset_load
from taizhang.core.changelog import changelog_batch
from taizhang.ledger.demo import DemoClock, demo_load, demo_users, preset_shifted

from .demo_story import Story, plus, story_calendar, story_plan
from .demo_story_run import demo_story_write, story_targets
from .models.plans import Means
from .plans import policy_create

# Real, well-known laws and regulations the campaign relied on. Numbers and dates are given only
# where certain; each text is a short neutral summary written for the demo, not the legal text.
DEMO_POLICIES = (
    {"title": "中华人民共和国城乡规划法", "issuer": "全国人民代表大会常务委员会",
     "number": "中华人民共和国主席令第七十四号", "issued_on": datetime.date(2007, 10, 28),
     "tags": "城乡规划,违法建设,拆违",
     "text": "国家关于城乡规划的制定、实施、修改和监督检查的基本法律。在城市、镇规划区内进行建设须取得规划许可；"
             "对未取得许可或未按许可进行的建设，规定了责令停止建设、限期改正、限期拆除和罚款等处理方式，"
             "并明确了规划主管部门和地方人民政府在查处违法建设中的职责。认定和拆除违法建设时引用。"},
    {"title": "中华人民共和国合同法", "issuer": "全国人民代表大会", "number": "中华人民共和国主席令第十五号",
     "issued_on": datetime.date(1999, 3, 15), "tags": "合同,租赁合同,解除合同",
     "text": "调整平等主体之间合同关系的基本法律。对合同的订立、效力、履行、变更和转让、权利义务终止以及违约责任"
             "作出规定，分则专章规定租赁合同，包括租赁期限、双方义务和合同解除的情形。解除土地和房屋租赁合同、"
             "处理租赁纠纷时引用。"},
    {"title": "北京市禁止违法建设若干规定", "issuer": "北京市人民政府", "tags": "违法建设,拆违,北京",
     "text": "北京市人民政府2011年发布的政府规章，针对违法建设的预防、发现和查处。明确区县政府、街道办事处、"
             "乡镇政府以及规划、城管执法等部门的分工，要求对新生违法建设及时制止和拆除，并要求相关部门和单位"
             "在各自职责范围内配合查处。"},
    {"title": "无照经营查处取缔办法", "issuer": "国务院", "number": "国务院令第370号",
     "issued_on": datetime.date(2003, 1, 6), "tags": "无照经营,工商,废品回收",
     "text": "国务院行政法规，规定对未依法取得营业执照从事经营活动的行为予以查处取缔，由工商行政管理部门负责，"
             "其他有关部门在各自职责内配合；明确了查处时可以采取的措施，以及对无照经营者和为其提供经营场所等"
             "条件者的处罚。查处无照经营的废品回收站点时引用。"},
    {"title": "北京市城乡规划条例", "issuer": "北京市人民代表大会常务委员会", "tags": "城乡规划,违法建设,北京",
     "text": "北京市依据城乡规划法制定的地方性法规，对本市城乡规划的制定、实施和监督检查作出具体规定，"
             "包括建设工程规划许可、乡村建设规划许可，以及查处违法建设的程序和责任部门。"},
    {"title": "再生资源回收管理办法", "issuer": "商务部等六部门", "tags": "废品回收,再生资源",
     "text": "商务部会同有关部门2007年发布的部门规章，规范再生资源回收经营活动：从事回收经营须依法办理工商登记"
             "并向商务主管部门备案，对回收站点的设置、经营行为以及治安和环境保护提出要求。整治废品回收时参考。"},
)


def demo_policies_add(campaign: Campaign) -> int:
    """Add the demo policies a campaign does not hold yet; returns how many were added."""
    present = set(campaign.policies.values_list("title", flat=True))
    added = 0
    for item in DEMO_POLICIES:
        if item["title"] not in present:
            policy_create(campaign=campaign, actor=None, **item)
            added += 1
    return added


@dataclass
class InMotion:
    """What `demo_in_motion` made: the campaign, its story, and how far the story went."""

    campaign: Campaign
    targets: int
    story: Story
    acts: int
    until: datetime.date  # the story's stop, in the preset's days
    shift: int  # days every date of the campaign was moved


def story_until(text: str, until: datetime.date | None) -> datetime.date:
    """The day the story stops (the default: halfway between the last two pledges), in the
    preset's days; ValueError naming the days allowed."""
    plan = parse_preset(text)
    calendar = story_calendar(slug=plan["campaign"]["slug"], starts_on=plan["campaign"]["starts_on"],
                              milestones=plan["milestones"], total=plan["campaign"]["target_total"] or 100)
    until = until or calendar.default_until()
    first, last = plus(calendar.start, 1), plus(calendar.end, 1)
    if not first <= until <= last:
        raise ValueError(_("--until %(day)s is outside the story: give a day from %(first)s to %(last)s.") % {
            "day": until.isoformat(), "first": first.isoformat(), "last": last.isoformat()})
    return until


def demo_in_motion(*, text: str, source: str, seed: int, total: int | None, until: datetime.date,
                   today: datetime.date | None = None, progress=None) -> InMotion:
    """Load the preset with its days moved so that `until` falls on `today` (default: the real
    today), the demo ledger, policies and accounts, then its story up to `until`, all under the
    demo clock and in one transaction: on a demo database only (the clock refuses any other)."""
    today = today or timezone.localdate()
    shift = (today - until).days
    if shift < 0:
        raise ValueError(_("--until %(day)s is after today.") % {"day": until.isoformat()})
    plan = parse_preset(text)
    opening = timezone.make_aware(datetime.datetime.combine(
        plus(plan["campaign"]["starts_on"], shift), datetime.time(8, 0)))
    clock = DemoClock()
    with clock.running(opening), _queries_unlogged(), transaction.atomic(), changelog_batch():
        campaign, _created = preset_load(text=preset_shifted(text, shift), source=source)
        clock.set(opening + datetime.timedelta(minutes=10))
        count = demo_load(campaign=campaign, seed=seed, total=total)
        clock.set(opening + datetime.timedelta(minutes=20))
        demo_policies_add(campaign)
        clock.set(opening + datetime.timedelta(minutes=30))
        demo_users(campaign)
        targets = story_targets(campaign)
        calendar = story_calendar(
            slug=campaign.slug, starts_on=campaign.starts_on, total=len(targets), shift=shift,
            milestones=list(campaign.milestones.values("due_on", "required_pct", "stretch_pct")),
            rng=random.Random(seed))
        story = story_plan(targets=targets, calendar=calendar, seed=seed, tz=timezone.get_current_timezone(),
                           reinspect_after=(campaign.rules.get("anti_rebound") or {}).get("reinspect_after_days") or [],
                           templates={t["target_type"]: dict(t, means=[m for m in t["means"] if m in Means.values])
                                      for t in campaign.rules.get("plan_templates", [])})
        acts = demo_story_write(campaign=campaign, story=story, clock=clock, until=plus(until, shift), seed=seed,
                                progress=progress)
    return InMotion(campaign, count, story, acts, until, shift)


@contextmanager
def _queries_unlogged():
    """The story's queries not kept in Django's query log: with DEBUG on (the demo's profile) every
    query is, and on SQLite each is quoted by another query, which took a quarter of the time."""
    debug = settings.DEBUG
    settings.DEBUG = False
    try:
        yield
    finally:
        settings.DEBUG = debug
