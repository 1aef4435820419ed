"""The campaign's change log as the HQ office and discipline inspection read it: every entry
of the campaign, filtered by user, unit, target, kind and days, paged or written to Excel.

What belongs to a campaign: the entries of its targets and of everything that belongs to them
(`ChangeLogEntry.target_id`), of the campaign's own records that belong to no target (the
declaration's `campaign` lookup: the campaign, its units, its policies), and of records of no
campaign at all (users). Values read as each model's declaration says (core.readable).
"""

import datetime
from collections.abc import Iterable, Iterator

import xlsxwriter
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from taizhang.campaigns.models import OrgUnit
from taizhang.core.models import ChangeLogEntry
from taizhang.core.readable import Readable, readable
from taizhang.core.snapshots import declarations

from .models import Target
from .selectors import LEDGER_KINDS, in_ledger

SYSTEM = "system"  # the user filter's value for entries written by no user (commands, automatic steps)
UNIT_KINDS = [kind for kind, _field in LEDGER_KINDS.values()]
# One sheet holds 1,048,576 rows; the title and header take two.
MAX_EXPORT_ROWS = 1_048_574
CHUNK = 2000


def campaign_entries(user, campaign):
    """Every change-log entry of `campaign` (see the module's doc), for a user who may read it."""
    q = Q(target_id__in=Target.objects.visible_to(user).filter(campaign=campaign).values("pk"))
    tied = []
    for serializer in declarations():
        if serializer.target_path is None and serializer.campaign_path:
            ids = (serializer.model._default_manager.filter(**{serializer.campaign_path: campaign.pk})
                   .values_list(Cast("pk", CharField()), flat=True))
            q |= Q(object_type=serializer.object_type, object_id__in=ids)
        if serializer.target_path or serializer.campaign_path:
            tied.append(serializer.object_type)
    return ChangeLogEntry.objects.filter(q | (Q(target_id__isnull=True) & ~Q(object_type__in=tied)))


def _user_name(user) -> str:
    return user.get_full_name() or user.get_username()


class HistoryFilterForm(forms.Form):
    """The change-log page's filters; the export takes the same."""

    user = forms.ChoiceField(required=False, label=gettext_lazy("User"))
    unit = forms.ChoiceField(required=False, label=gettext_lazy("Unit"))
    target = forms.CharField(required=False, max_length=32, label=gettext_lazy("Target code"))
    kind = forms.ChoiceField(required=False, label=gettext_lazy("Kind of record"))
    start = forms.DateField(required=False, label=gettext_lazy("First day"),
                            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    end = forms.DateField(required=False, label=gettext_lazy("Last day"),
                          widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, data, *, user, campaign, **kwargs):
        super().__init__(data, **kwargs)
        self.campaign, self.viewer = campaign, user
        people = (get_user_model().objects.filter(Q(memberships__unit__campaign=campaign) | Q(is_superuser=True))
                  .distinct().order_by("username"))
        self.fields["user"].choices = [("", _("All users")), (SYSTEM, _("The system (no user)")),
                                       *((str(u.pk), _user_name(u)) for u in people)]
        units = OrgUnit.objects.filter(campaign=campaign, kind__in=UNIT_KINDS).order_by("sort", "name")
        by_kind = {kind: [] for kind in UNIT_KINDS}
        for unit in units:
            by_kind[unit.kind].append((str(unit.pk), unit.name))
        self.units = {str(unit.pk): unit for unit in units}
        self.fields["unit"].choices = [("", _("All units")), *((OrgUnit.Kind(kind).label, choices)
                                                               for kind, choices in by_kind.items() if choices)]
        self.fields["kind"].choices = [("", _("All kinds")),
                                       *sorted(((s.object_type, s.kind) for s in declarations()), key=lambda c: c[1])]
        for field in self.fields.values():
            field.widget.attrs.setdefault("aria-label", str(field.label))

    def clean_target(self):
        code = self.cleaned_data["target"].strip()
        if not code:
            return None
        target = Target.objects.visible_to(self.viewer).filter(campaign=self.campaign, code=code).first()
        if target is None:
            raise forms.ValidationError(_("No target has the code “%(code)s” in this campaign."), params={"code": code},
                                        code="unknown")
        return target

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("The last day (%(end)s) is before the first (%(start)s).")
                           % {"end": data["end"].isoformat(), "start": data["start"].isoformat()})
        return data

    def apply(self, entries):
        if not self.is_valid():
            return entries.none()
        data = self.cleaned_data
        if data["user"] == SYSTEM:
            entries = entries.filter(actor__isnull=True)
        elif data["user"]:
            entries = entries.filter(actor_id=int(data["user"]))
        if data["unit"]:
            unit = self.units[data["unit"]]
            entries = entries.filter(target_id__in=in_ledger(Target.objects.filter(campaign=self.campaign), unit)
                                     .values("pk"))
        if data["target"]:
            entries = entries.filter(target_id=data["target"].pk)
        if data["kind"]:
            entries = entries.filter(object_type=data["kind"])
        if data["start"]:
            entries = entries.filter(at__gte=_start_of(data["start"]))
        if data["end"]:
            entries = entries.filter(at__lt=_start_of(data["end"] + datetime.timedelta(days=1)))
        return entries.order_by("-id")

    def described(self) -> str:
        """The filters in words, for an export's title ("all entries" when none)."""
        if not self.is_valid():
            return ""
        data, parts = self.cleaned_data, []
        for name in ("user", "unit", "kind"):
            if data[name]:
                labels = dict(_flat(self.fields[name].choices))
                parts.append("%s：%s" % (self.fields[name].label, labels[data[name]]))
        if data["target"]:
            parts.append("%s：%s" % (self.fields["target"].label, data["target"].code))
        if data["start"] or data["end"]:
            parts.append(_("days %(start)s to %(end)s") % {"start": data["start"] or "…", "end": data["end"] or "…"})
        return "；".join(parts) or _("all entries")


def _flat(choices):
    for value, label in choices:
        if isinstance(label, (list, tuple)):
            yield from label
        else:
            yield value, label


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def with_targets(items: list[Readable]) -> list[tuple[Readable, Target | None]]:
    """Each readable entry with the target it belongs to (one query)."""
    targets = Target.objects.only("pk", "code", "name").in_bulk({i.entry.target_id for i in items} - {None})
    return [(item, targets.get(item.entry.target_id)) for item in items]


def readable_chunks(entries, *, campaign_id: int) -> Iterator[list[tuple[Readable, Target | None]]]:
    """The entries as people read them, a chunk at a time: names looked up once per chunk."""
    chunk = []
    for entry in entries.iterator(chunk_size=CHUNK):
        chunk.append(entry)
        if len(chunk) == CHUNK:
            yield with_targets(readable(chunk, campaign_id=campaign_id))
            chunk = []
    if chunk:
        yield with_targets(readable(chunk, campaign_id=campaign_id))


def changes_text(item: Readable) -> str:
    """What an entry changed, one field a line: 居住人口：120 → 95 (a created record: its values)."""
    action = item.entry.action
    lines = []
    for heading, before, after in item.diffs:
        if action == ChangeLogEntry.Action.CREATE:
            lines.append("%s：%s" % (heading, after))
        elif action == ChangeLogEntry.Action.DELETE:
            lines.append("%s：%s" % (heading, before))
        else:
            lines.append("%s：%s → %s" % (heading, before or "—", after or "—"))
    return "\n".join(lines)


HEADERS = (
    (gettext_lazy("Entry"), 8), (gettext_lazy("Time"), 19), (gettext_lazy("User"), 12),
    (gettext_lazy("Kind of record"), 12), (gettext_lazy("Record"), 28), (gettext_lazy("Target code"), 11),
    (gettext_lazy("Action"), 8), (gettext_lazy("Changes"), 60), (gettext_lazy("Reason"), 24),
)


def export_history(out, *, campaign, form: HistoryFilterForm, entries) -> int:
    """Write the filtered entries to .xlsx under a title naming the campaign, the filters and
    the time; returns the number of entries written."""
    workbook = xlsxwriter.Workbook(out, {
        "constant_memory": True,
        "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
    })
    sheet = workbook.add_worksheet(_("Change log"))
    bold = workbook.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1, "text_wrap": True})
    heading = workbook.add_format({"bold": True, "font_size": 14})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    for index, (_header, width) in enumerate(HEADERS):
        sheet.set_column(index, index, width)
    title = _("%(campaign)s · change log · %(filters)s · exported %(time)s") % {
        "campaign": campaign.name, "filters": form.described(),
        "time": timezone.localtime().strftime("%Y-%m-%d %H:%M")}
    sheet.merge_range(0, 0, 0, len(HEADERS) - 1, title, heading)
    for index, (header, _width) in enumerate(HEADERS):
        sheet.write_string(1, index, str(header), bold)
    sheet.freeze_panes(2, 0)
    count = 0
    actions = {code: str(label) for code, label in ChangeLogEntry.Action.choices}
    for chunk in readable_chunks(entries, campaign_id=campaign.pk):
        for item, target in chunk:
            count += 1
            _write_entry(sheet, count + 1, item, target, actions, wrap)
    sheet.autofilter(1, 0, max(count, 1) + 1, len(HEADERS) - 1)
    workbook.close()
    return count


def _write_entry(sheet, r: int, item: Readable, target: Target | None, actions: dict, wrap) -> None:
    entry = item.entry
    cells: Iterable = (
        entry.pk, timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M:%S"), entry.actor_name or _("system"),
        item.kind, entry.object_repr, target.code if target else "", actions.get(entry.action, entry.action),
        changes_text(item), entry.reason)
    for c, value in enumerate(cells):
        if isinstance(value, int):
            sheet.write_number(r, c, value)
        elif value:
            sheet.write_string(r, c, str(value), wrap)


def export_filename(campaign) -> str:
    return "%s-%s-%s.xlsx" % (_("change-log"), campaign.name, timezone.localdate().strftime("%Y%m%d"))
