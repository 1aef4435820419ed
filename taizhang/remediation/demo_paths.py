"""One target's path through the demo's story (demo_story.py): its acts, each on a day.

A path runs from the joint verification to the passed acceptance that closes the target on
its planned day, then the re-inspections after it; some paths also have the legal path of a
lease, a petition, a hold, a revised plan, a failed acceptance or a rebound. The days follow
the campaign's weekly rhythm where the path allows (each street enters its records on a day
of its own, the office meets, accepts and inspects on days of its own), so that the same
work of a week is one sitting.
"""

import datetime
import random
from dataclasses import dataclass, field
from decimal import Decimal

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
FAILED_ACCEPTANCE = ("场地内建筑垃圾尚未清运完毕", "仍有两户租户未清退", "违法建设未拆除到位，仍有彩钢板房",
                     "裸露地面未苫盖，扬尘治理不达标")
REBOUND_FINDINGS = ("发现新搭建的彩钢板房", "废品回收经营户回流，场地重新堆放废品", "院内又有人员租住",
                    "夜间有车辆进出倾倒渣土")
PETITIONS = (("反映清退补偿标准偏低，要求提高补偿", "已向来访人解释补偿政策，按标准落实补偿，来访人表示理解。"),
             ("要求延长搬离期限至学期结束", "经街道协调，给予一个月过渡期，并帮助联系周边房源。"),
             ("反映整治施工噪声和扬尘扰民", "已要求施工单位错峰作业、洒水降尘，现场已整改。"),
             ("举报该院落仍有人员夜间违规经营", "街道会同城管执法队现场核查，已依法取缔。"),
             ("反映租赁合同未到期，要求赔偿损失", "已告知按合同约定和有关规定处理，引导通过法律途径解决。"))
HOLDS = ("产权纠纷诉讼中，待法院判决", "涉及重大工程规划调整，待区规划部门意见",
         "承租方集中信访，暂缓推进，先做稳定工作")
LESSONS = (("一院一策，先谈后拆",
            "先入户摸清租户和人口底数，逐户谈话做工作，再依法解除租赁合同；多数租户在期限内主动搬离。"),
           ("联合执法，形成合力",
            "街道牵头，工商、城管、公安联合检查，当日查处无照经营，当周清运完毕，未出现反弹。"),
           ("属地与行业联动",
            "街道分指和产权单位每周会商一次，产权单位负责解除合同，街道负责清退和稳定，分工清楚。"))
COURT = "石景山区人民法院"
JUDICIAL_RESULTS = {"research": "已完成调研，形成诉讼方案", "filing": "法院已受理", "suit": "已提起诉讼",
                    "trial": "判决解除租赁合同，承租方限期腾退", "enforcement": "已强制执行，场地腾空"}
# Plan steps: the words that say which means a step uses, who owns it, and which policies it cites.
STEP_MEANS = (("解除", "legal"), ("依法", "legal"), ("告知书", "persuasion"), ("宣传", "persuasion"),
              ("约谈", "personal"), ("就业", "economic"), ("安置", "economic"), ("补偿", "economic"),
              ("检查", "administrative"), ("拆除", "administrative"), ("责令", "administrative"),
              ("清运", "administrative"))
UNIT_STEPS = ("产权人", "租赁合同", "移交土地", "土地使用人")
STEP_POLICIES = (("租赁合同", "中华人民共和国合同法"), ("违法建设", "北京市禁止违法建设若干规定"),
                 ("违法建设", "中华人民共和国城乡规划法"), ("违法用地", "北京市城乡规划条例"),
                 ("无照经营", "无照经营查处取缔办法"), ("废品", "再生资源回收管理办法"))


def plus(day: datetime.date, days: int) -> datetime.date:
    return day + datetime.timedelta(days=days)


@dataclass(frozen=True)
class Rhythm:
    """The campaign's working week, counted from its first day rather than by weekday (so that a
    campaign moved by any number of days keeps its story): the office inspects, meets (approving
    plans, holding and resuming targets) and accepts on days of its own; each street enters its
    records on a day of its own."""

    start: datetime.date
    ROUNDS = 1
    MEETING = 3
    ACCEPTANCE = 4

    def offset(self, day: datetime.date) -> int:
        return (day - self.start).days % 7

    def on(self, offset: int, day: datetime.date, latest: datetime.date | None = None) -> datetime.date:
        """The first day on `offset` from `day`, or `day` itself if that comes after `latest`."""
        found = plus(day, (offset - self.offset(day)) % 7)
        return day if latest is not None and found > latest else found

    def within(self, offset: int, day: datetime.date, earliest: datetime.date, latest: datetime.date) -> datetime.date:
        """The day on `offset` nearest before `day` in [earliest, latest], else after it, else `day`."""
        back = plus(day, -((self.offset(day) - offset) % 7))
        if back >= earliest:
            return back
        return self.on(offset, day, latest)


@dataclass
class Act:
    """One thing done on one day: `kind` names the service call (demo_story_run.ACTS), `args` what it needs."""

    day: datetime.date
    kind: str
    args: dict = field(default_factory=dict)


@dataclass
class Path:
    """A thread of a target's acts, in order: no act before the one before it."""

    acts: list[Act] = field(default_factory=list)

    def add(self, day: datetime.date, kind: str, /, **args) -> datetime.date:
        """Append an act, never before the one before it; returns its day."""
        if self.acts and day < self.acts[-1].day:
            day = self.acts[-1].day
        self.acts.append(Act(day, kind, args))
        return day


@dataclass
class Rebound:
    """A failed re-inspection: which visit fails, the day remediation starts again, the closing after."""

    visit: int
    again: datetime.date
    reclose: datetime.date | None


def visits(close: datetime.date, after_days: list[int], rhythm: Rhythm,
           rng: random.Random) -> list[tuple[datetime.date, datetime.date]]:
    """(due, done) of each re-inspection after a closing: in the office's round after it is due,
    some a round or two later."""
    rows, last = [], close
    for days in after_days:
        due = plus(close, days)
        late = 0 if rng.random() < 0.85 else (7 if rng.random() < 0.8 else 14)
        last = max(rhythm.on(Rhythm.ROUNDS, plus(due, late)), last)
        rows.append((due, last))
    return rows


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "某某"


class PathPlanner:
    """Plans one target's acts, from a generator of its own (the same seed, the same path)."""

    def __init__(self, target, *, close: datetime.date, pilot: bool, rhythm: Rhythm, street_day: int,
                 reinspect_after: list[int], template: dict | None, rng: random.Random):
        self.target, self.close, self.pilot, self.rhythm = target, close, pilot, rhythm
        self.street_day, self.reinspect_after, self.template, self.rng = street_day, reinspect_after, template, rng
        self.visits = visits(close, reinspect_after, rhythm, rng)
        self.rebound: Rebound | None = None

    def closed_at(self, day: datetime.date) -> bool:
        """Whether the target is closed at the end of `day`, as planned."""
        moves = [(self.close, True)]
        if self.rebound is not None:
            moves.append((self.visits[self.rebound.visit][1], False))
            if self.rebound.reclose is not None:
                moves.append((self.rebound.reclose, True))
        state = False
        for when, closed in moves:
            if when <= day:
                state = closed
        return state

    def acts(self) -> list[Act]:
        """Every act of the target in the order of its days: the main path first on a shared day."""
        main, started, report = self._main()
        threads = [main, self._legal(started, report), self._petition(started), self._lesson(), self._after()]
        return sorted((act for thread in threads for act in thread), key=lambda act: act.day)

    def _street(self, day: datetime.date, latest: datetime.date) -> datetime.date:
        return self.rhythm.on(self.street_day, day, latest)

    def _main(self) -> tuple[list[Act], datetime.date, datetime.date]:
        """From verification to the passed acceptance that closes it on its day; a plan revised,
        a hold or a failed acceptance on the way for some."""
        rng, close, target, rhythm = self.rng, self.close, self.target, self.rhythm
        start = rhythm.start
        path = Path()
        if self.pilot:
            path.add(self._street(plus(start, rng.randint(1, 6)), plus(close, -20)), "pilot")
        registered = target.registered_on or start
        seen = path.add(self._street(min(max(plus(registered, rng.randint(0, 6)), plus(start, 1)), plus(close, -21)),
                                     plus(close, -16)), "verify_record", **self._facts())
        path.add(seen, "confirm_street")
        # The rights holders of each system confirm on a day of their own.
        holder_day = (target.system.sort + 5) % 7
        verified = path.add(rhythm.on(holder_day, plus(seen, 1), plus(close, -14)), "confirm_holder")
        verified = path.add(self._street(plus(verified, 1), plus(close, -13)), "step", to="verified", who="street")
        window = (close - verified).days
        drafted = path.add(self._street(plus(verified, rng.randint(0, min(90, window // 4))), plus(close, -12)),
                           "plan_create")
        path.acts[-1].args.update(self._plan(drafted))
        submitted = path.add(drafted, "plan_submit")
        approved = path.add(rhythm.on(Rhythm.MEETING, plus(submitted, 1), plus(close, -10)), "plan_approve")
        path.add(approved, "step", to="plan_approved", who="office")
        started = path.add(self._street(plus(approved, 1), plus(close, -9)), "step", to="in_remediation",
                           who="street")
        report = plus(close, -rng.randint(1, 6))
        report = max(started, plus(report, -((rhythm.offset(report) - self.street_day) % 7))) \
            if (report - started).days > 7 else report
        long = (report - started).days
        if long > 120 and rng.random() < 0.05:
            revised = path.add(self._street(plus(started, long * 2 // 5), plus(report, -30)), "plan_new_version")
            path.add(revised, "plan_submit")
            path.add(rhythm.on(Rhythm.MEETING, plus(revised, 1), plus(report, -25)), "plan_approve")
        if long > 150 and rng.random() < 0.06:
            held = path.add(rhythm.on(Rhythm.MEETING, plus(started, rng.randint(10, long - 120)), plus(report, -90)),
                            "hold", reason=rng.choice(HOLDS))
            review = plus(held, rng.randint(30, 60))
            path.acts[-1].args["review_on"] = review
            path.add(min(rhythm.on(Rhythm.MEETING, review), plus(report, -25)), "resume")
        if long > 60 and rng.random() < 0.08:
            first = path.add(self._street(plus(started, long * 4 // 5), plus(report, -10)), "step",
                             to="completion_reported", who="street")
            path.add(rhythm.on(Rhythm.ACCEPTANCE, plus(first, 1), plus(report, -2)), "acceptance", decision="failed",
                     reasons=rng.choice(FAILED_ACCEPTANCE))
        path.add(report, "outcome", stage="acceptance", values=self._cleared())
        path.add(report, "step", to="completion_reported", who="street")
        if path.add(close, "acceptance", decision="passed", **self._accepted()) != close:
            raise ValueError("the path of %s does not close on %s" % (target.code, close))
        return path.acts, started, report

    def _legal(self, started: datetime.date, report: datetime.date) -> list[Act]:
        """The legal path of one lease: most lessees agree to end it; some refuse, and then the
        lease goes through exposure and the five judicial stages, shortened to fit."""
        rng = self.rng
        span = (report - started).days - 10
        if span < 30 or rng.random() > (0.35 if self.target.target_type.sort else 0.15):
            return []
        path = Path()
        recorded = path.add(plus(started, rng.randint(1, 8)), "lease", lessee=self._lessee(),
                            kind="land" if rng.random() < 0.4 else "building",
                            ends_on=plus(started, rng.randint(200, 900)))
        sent = path.add(plus(recorded, rng.randint(0, 5)), "lease_notice")
        refused = span > 200 and rng.random() < 0.45
        answered = path.add(plus(sent, rng.randint(5, 20)), "lease_answer", answer="refused" if refused else "agreed")
        if not refused:
            return path.acts
        day = path.add(plus(answered, rng.randint(3, 12)), "lease_expose")
        # Five stages of about 40 days, stretched or shortened to end about when the site is cleared.
        pace = max(0.1, ((report - day).days - 15) / 220)
        number = rng.randint(1000, 9999)
        for stage in ("research", "filing", "suit", "trial", "enforcement"):
            opened = path.add(plus(day, max(1, round(rng.randint(1, 5) * pace))), "judicial_open", stage=stage,
                              court=COURT, case_number="（%d）京0107民初%d号" % (day.year, number))
            path.acts[-1].args["due_on"] = plus(opened, round(rng.randint(30, 60) * pace) + 1)
            day = path.add(plus(opened, max(1, round(rng.randint(20, 55) * pace))), "judicial_done", stage=stage,
                           result=JUDICIAL_RESULTS[stage])
        return path.acts

    def _petition(self, started: datetime.date) -> list[Act]:
        rng = self.rng
        if rng.random() > 0.09:
            return []
        path = Path()
        content, reply = rng.choice(PETITIONS)
        span = max(0, (plus(self.close, 20) - started).days)
        received = path.add(plus(started, rng.randint(0, span)), "petition", petitioner=_person(rng),
                            channel=rng.choice(("letter", "visit", "phone", "online")), content=content,
                            stability_risk=rng.random() < 0.2)
        handling = path.add(plus(received, rng.randint(1, 5)), "petition_handle", status="handling")
        slow = rng.random() < 0.12  # past the limit for petitions: the to-do list shows them
        replied = path.add(plus(handling, rng.randint(60, 85) if slow else rng.randint(5, 35)), "petition_handle",
                           status="replied", reply=reply)
        path.add(plus(replied, rng.randint(1, 10)), "petition_handle", status="closed")
        return path.acts

    def _lesson(self) -> list[Act]:
        if not self.pilot:
            return []
        title, text = self.rng.choice(LESSONS)
        return [Act(plus(self.close, self.rng.randint(3, 15)), "lesson", {"title": title, "text": text})]

    def _after(self) -> list[Act]:
        """The re-inspections after the closing; a rebound at one of them, remediation again and,
        if it comes, the closing with its new visits."""
        rng, path = self.rng, Path()
        failing = self.rebound.visit if self.rebound else None
        for index, (_due, done) in enumerate(self.visits):
            if index == failing:
                path.add(done, "inspection", passed=False, findings=rng.choice(REBOUND_FINDINGS))
                break
            path.add(done, "inspection", passed=True, findings="" if rng.random() < 0.7 else "未见反弹")
        if self.rebound is None:
            return path.acts
        path.add(self._street(self.rebound.again, None), "step", to="in_remediation", who="street")
        reclose = self.rebound.reclose
        if reclose is not None:
            path.add(plus(reclose, -rng.randint(1, 6)), "step", to="completion_reported", who="street")
            if path.add(reclose, "acceptance", decision="passed", **self._accepted()) != reclose:
                raise ValueError("the path of %s does not close again on %s" % (self.target.code, reclose))
            for _due, done in visits(reclose, self.reinspect_after, self.rhythm, rng):
                path.add(done, "inspection", passed=True, findings="")
        return path.acts

    # What the acts carry

    def _facts(self) -> dict:
        rng, target = self.rng, self.target
        facts = {"land_rights": "collective" if target.system.sort == 0 else "state",
                 "land_rights_holder": target.land_rights_unit}
        if target.resident_population is not None and rng.random() < 0.5:
            facts["resident_population"] = max(0, round(target.resident_population * rng.uniform(0.8, 1.15)))
        if target.rented_floor_area is not None and rng.random() < 0.3:
            facts["rented_floor_area"] = (target.rented_floor_area * Decimal(repr(round(rng.uniform(0.85, 1.1), 2)))
                                          ).quantize(Decimal("0.01"))
        tenants = []
        for _i in range(rng.randint(0, 3)):
            business = rng.random() < 0.4
            name = (target.name[:4] + rng.choice(("废品回收部", "建材经营部", "物流站", "小吃店"))) if business \
                else _person(rng)
            tenants.append({"name": name, "kind": "business" if business else "person", "people": rng.randint(1, 6)})
        return {"facts": facts, "tenants": tenants}

    def _cleared(self) -> dict:
        """At acceptance: what was cleared, moved, paid, demolished and recovered."""
        rng, target = self.rng, self.target
        people = target.resident_population or 0
        area = target.rented_floor_area or Decimal(0)
        return {"tenants_cleared": rng.randint(1, 12), "people_moved": people,
                "people_employed": round(people * rng.uniform(0, 0.1)),
                "funds_paid": Decimal(rng.randint(0, 400) * 1000),
                "demolished_area": (area * Decimal(rng.randint(0, 100)) / 100).quantize(Decimal("0.01")),
                "land_recovered": ((target.land_area or Decimal(0)) * Decimal(rng.randint(60, 100)) / 100
                                   ).quantize(Decimal("0.01"))}

    def _accepted(self) -> dict:
        area = self.target.rented_floor_area or Decimal(0)
        return {"tenants_cleared": True, "structures_demolished": self.target.target_type.sort != 0,
                "demolished_area": (area * Decimal("0.6")).quantize(Decimal("0.01")),
                "site_cleaned": True, "land_returned": True}

    def _lessee(self) -> str:
        return _person(self.rng) + self.rng.choice(("", "（个体工商户）", "等三人"))

    def _plan(self, drafted: datetime.date) -> dict:
        """The plan from the preset's template for the target's type: each step's means, owner
        (the street, or the rights unit for what the holder does), due day and policies."""
        template = self.template or {"means": ["administrative"], "steps": ["清理整治"]}
        means = template["means"]
        # The last steps (clearing, demolition, handing the land over) are dated, a month, two weeks
        # and nothing before the day the plan means to finish; the first ones (notices, talks) not.
        ends = max(plus(self.close, self.rng.randint(-30, 20)), plus(drafted, 31))
        dated = dict(zip(range(len(template["steps"]), 0, -1), (ends, plus(ends, -14), plus(ends, -30)),
                         strict=False))
        steps = []
        for n, text in enumerate(template["steps"], start=1):
            step_means = next((m for word, m in STEP_MEANS if word in text and m in means), "")
            steps.append({"description": text, "means": step_means,
                          "owner": "unit" if any(word in text for word in UNIT_STEPS) else "street",
                          "due_on": dated.get(n), "policies": [title for word, title in STEP_POLICIES if word in text]})
        summary = "%s：%s" % (self.target.name, "、".join(s["description"][:8] for s in steps[:3]))
        return {"means": means, "summary": summary, "steps": steps}
