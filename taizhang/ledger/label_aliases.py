"""The words offices write for known labels.

An import's check groups the labels it does not know by column, with their rows and the
closest known value; the HQ office maps each to a known value (in the import page, or with
`import_ledger --map 类型:旧词=新词`), and the mapping is saved as an alias of the campaign
(`campaigns.LabelAlias`, logged) that every later import reads (`checking.Labels`).
"""

import difflib
import re
import shlex
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from taizhang.accounts.permissions import Action
from taizhang.accounts.scoping import may_in_campaign
from taizhang.campaigns.models import Campaign, LabelAlias
from taizhang.campaigns.snapshots import LABEL_ALIAS
from taizhang.core.changelog import Change, changelog_append
from taizhang.core.db import atomic, is_transient, is_unique_violation
from taizhang.core.parsing import clean_text, normalize_header

from .checking import Labels, Problem, is_clear_marker, label_key, shown_value
from .columns import BY_FIELD, COLUMNS, FLAG_SEPARATORS, header_lookup
from .models import Target
from .services import LedgerError

# The columns whose words can be mapped: labels of campaign records, and situation flags.
MAPPED = ("target_type", "street", "system", "responsible_unit", "flags")
# How close a known value must be to be suggested (difflib's ratio); a new responsible unit
# (valid as it is: the import creates it) is only questioned when it is much closer.
SUGGEST_CUTOFF = 0.5
NEW_UNIT_CUTOFF = 0.75
# Beyond this many distinct words in one check, the rest get no suggestion (each costs a
# pass over the column's known words).
MAX_SUGGESTED = 500
SHOWN_ROWS = 10
TEXT_MAX = LabelAlias._meta.get_field("text").max_length
_SHELL_SPECIAL = re.compile(r"[\s'\"\\$`!*?&;|<>(){}\[\]#~]")
_MAPPING_RE = re.compile(r"\s*(?P<column>[^:：]+?)\s*[:：](?P<text>[^=＝]*)[=＝](?P<value>.*)")


class LabelMapError(LedgerError):
    """A mapping refused; the message names the column, the word or the value."""


@dataclass(frozen=True)
class Mapping:
    """Read `text` in `column` (its header in either language, a variant, or its field name)
    as `value` (any word the column already knows for a value: a name, short name, code,
    alias or flag label)."""

    column: str
    text: str
    value: str


@dataclass
class UnknownLabel:
    """A word of one column that the check did not know, with where it is and what it may mean."""

    field: str
    header: str
    text: str
    rows: list[int] = field(default_factory=list)
    suggestion: str | None = None  # the code of the closest known value
    suggestion_label: str = ""
    # A responsible unit the import would create, named much like a known one.
    new_unit: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list, repr=False)

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def shown_rows(self) -> list[int]:
        return self.rows[:SHOWN_ROWS]

    @property
    def option(self) -> str:
        """The command line's way to map it to the suggestion."""
        argument = "%s:%s=%s" % (self.header, self.text, self.suggestion_label)
        # Quoted only where a shell needs it (shlex.quote also quotes plain Chinese).
        return "--map " + (shlex.quote(argument) if _SHELL_SPECIAL.search(argument) else argument)


def mapping_parse(spec: str) -> Mapping:
    """`类型:旧词=新词` (or with a full-width ：and ＝) as a Mapping; LabelMapError otherwise."""
    found = _MAPPING_RE.fullmatch(spec)
    if found is None:
        raise LabelMapError(_("“%(spec)s” is not a mapping: write COLUMN:WORD=VALUE, for example "
                              "类型:废品收集点=废品回收.") % {"spec": spec})
    return Mapping(found["column"], found["text"], found["value"])


def choices(labels: Labels, field_name: str) -> list[tuple[str, str]]:
    """The known values of a column as (code, label), in the preset's order."""
    if field_name == "flags":
        return [(code, str(label)) for code, label in Target.Flag.choices]
    return [(record.code, record.name) for record in labels.by_code[field_name].values()]


def _value_code(labels: Labels, field_name: str, text: str) -> str | None:
    """The code of the value `text` stands for in this column now, or None."""
    if field_name == "flags":
        return labels.flags.get(label_key(text))
    record = labels.resolve(field_name, text)
    return None if record is None else record.code


class _Suggester:
    """The closest known value of a column to a word, by difflib's ratio over every word the
    column knows (names, short names, codes, aliases, flag labels in both languages)."""

    def __init__(self, labels: Labels):
        self.labels, self.words, self.asked = labels, {}, 0

    def _words(self, field_name: str) -> dict[str, str]:
        if field_name not in self.words:
            labels = self.labels
            if field_name == "flags":
                words = dict(labels.flags)
            else:
                table = labels.by_kind[field_name]
                words = {key: record.code for key, record in table.items()}
                for key, name in labels.aliases.items():
                    if (record := table.get(label_key(name))) is not None:
                        words.setdefault(key, record.code)
            self.words[field_name] = words
        return self.words[field_name]

    def __call__(self, field_name: str, text: str, cutoff: float) -> str | None:
        self.asked += 1
        if self.asked > MAX_SUGGESTED:
            return None
        words = self._words(field_name)
        found = difflib.get_close_matches(label_key(text), words, n=1, cutoff=cutoff)
        return words[found[0]] if found else None


def unknown_labels(problems: list[Problem], labels: Labels, new_units: dict[str, list[int]]) -> list[UnknownLabel]:
    """The check's unknown labels, one per column and word, in column order, most rows first;
    and the new responsible units named much like a known one. `problems` are the cells'
    (checking.check_rows); `new_units` the rows naming each unit the import would create."""
    mapped = {str(c.header): c.field for c in COLUMNS if c.field in MAPPED}
    found: dict[tuple[str, str], list[int]] = {}
    for problem in problems:
        field_name = mapped.get(problem.column)
        if field_name is None or problem.row is None or not problem.value or is_clear_marker(problem.value):
            continue
        if field_name == "flags":
            words = [word for word, code in labels.flag_words(problem.value) if code is None]
        else:
            words = [problem.value] if labels.resolve(field_name, problem.value) is None else []
        for word in dict.fromkeys(words):
            found.setdefault((field_name, word), []).append(problem.row)
    suggest = _Suggester(labels)
    order = {c.field: position for position, c in enumerate(COLUMNS)}
    shown = {}
    out = []
    for (field_name, word), rows in sorted(found.items(), key=lambda item: (order[item[0][0]], -len(item[1]))):
        out.append(_unknown(labels, field_name, word, rows, suggest(field_name, word, SUGGEST_CUTOFF), shown))
    for name, rows in sorted(new_units.items()):
        code = suggest("responsible_unit", name, NEW_UNIT_CUTOFF)
        if code is not None:
            out.append(_unknown(labels, "responsible_unit", name, rows, code, shown, new_unit=True))
    return out


def _unknown(labels, field_name, word, rows, code, shown, *, new_unit=False) -> UnknownLabel:
    if field_name not in shown:
        shown[field_name] = choices(labels, field_name)
    known = shown[field_name]
    return UnknownLabel(field_name, str(BY_FIELD[field_name].header), word, rows, code,
                        dict(known).get(code, "") if code else "", new_unit, known)


def mappings_check(labels: Labels, mappings, saved: set[tuple[str, str]] = frozenset()) -> list[tuple[str, str, str]]:
    """Each mapping as (field, word as labels are compared, code of its value); LabelMapError
    naming every one that cannot be: an unknown column, one without labels, a value the
    column does not know, a word that already means another value (`saved` words, the office's
    own earlier mappings, may be mapped again)."""
    lookup = header_lookup()
    resolved: dict[tuple[str, str], str] = {}
    problems = []
    for mapping in mappings:
        field_name = lookup.get(normalize_header(mapping.column))
        if field_name is None:
            problems.append(_("There is no column “%(column)s”.") % {"column": mapping.column})
            continue
        header = str(BY_FIELD[field_name].header)
        if field_name not in MAPPED:
            problems.append(_("Column “%(column)s” holds no labels to map; labels are mapped in %(columns)s.") % {
                "column": header, "columns": "、".join(str(BY_FIELD[f].header) for f in MAPPED)})
            continue
        text = clean_text(mapping.text)
        key = label_key(text)
        value = clean_text(mapping.value)
        if problem := _word_problem(field_name, header, text, key):
            problems.append(problem)
            continue
        code = _value_code(labels, field_name, value) if value else None
        if code is None:
            known = [label for _code, label in choices(labels, field_name)]
            problems.append(_("“%(value)s” is not a known %(column)s; known: %(known)s.") % {
                "value": shown_value(value), "column": header,
                "known": "、".join(known[:20]) + ("…" if len(known) > 20 else "")})
            continue
        now = _value_code(labels, field_name, text)
        if now is not None and (field_name, key) not in saved:
            if now != code:
                problems.append(_("“%(text)s” already means %(column)s “%(value)s”; it cannot be mapped to "
                                  "another.") % {"text": text, "column": header,
                                                 "value": dict(choices(labels, field_name)).get(now, now)})
            continue  # nothing to map: the word already means that
        if resolved.setdefault((field_name, key), code) != code:
            problems.append(_("“%(text)s” in column “%(column)s” is mapped twice, to different values.")
                            % {"text": text, "column": header})
    if problems:
        raise LabelMapError(" ".join(problems))
    return [(field_name, key, code) for (field_name, key), code in resolved.items()]


def _word_problem(field_name: str, header: str, text: str, key: str) -> str | None:
    if not key or is_clear_marker(text):
        return _("Write the word to map in column “%(column)s”.") % {"column": header}
    if len(key) > TEXT_MAX:
        return _("“%(text)s” is longer than %(max)s characters.") % {"text": text[:40] + "…", "max": TEXT_MAX}
    if shown_value(key) != key:
        return _("“%(text)s” holds a control character; it cannot be mapped.") % {"text": shown_value(text)}
    if field_name == "flags" and (FLAG_SEPARATORS.search(key) or key == "无"):
        return _("“%(text)s” is not one situation flag: map each word alone.") % {"text": text}
    return None


def label_aliases_write(*, campaign: Campaign, actor, mappings) -> list[Change]:
    """Save the mappings as aliases of the campaign, inside the caller's transaction; returns
    their change-log entries for the caller to append (with its own, so that the chain head is
    locked last). LabelMapError when the actor may not map labels or a mapping cannot be made;
    then nothing is written."""
    if not may_in_campaign(actor, campaign, Action.LABELS_MAP):
        raise LabelMapError(_("Only the HQ office may map labels."))
    labels = Labels(campaign)
    aliases = LabelAlias.objects.filter(campaign=campaign)
    saved = set(aliases.values_list("column", "text"))
    resolved = mappings_check(labels, mappings, saved)
    # The office's earlier mappings of these words, locked: two offices mapping the same word
    # at once write one after the other (a word inserted twice meanwhile is retried).
    existing = {(a.column, a.text): a for a in aliases.select_for_update().filter(
        text__in=[key for _field, key, _code in resolved])}
    changes = []
    for field_name, key, code in resolved:
        alias = existing.get((field_name, key))
        if alias is None:
            alias = LabelAlias.objects.create(campaign=campaign, column=field_name, text=key, value=code)
            changes.append(LABEL_ALIAS.created(alias))
        elif alias.value != code:
            before = LABEL_ALIAS.snapshot(alias)
            alias.value = code
            alias.save(update_fields=["value"])
            changes.append(LABEL_ALIAS.change(alias, "update", before, LABEL_ALIAS.snapshot(alias)))
    return changes


def _retry(exc) -> bool:
    return is_transient(exc) or is_unique_violation(exc)


def mappings_apply(*, campaign: Campaign, actor, mappings, labels: Labels) -> None:
    """Read the mappings in this check only (a dry run: nothing is saved); LabelMapError as
    `label_aliases_write` would refuse them."""
    if not may_in_campaign(actor, campaign, Action.LABELS_MAP):
        raise LabelMapError(_("Only the HQ office may map labels."))
    saved = set(LabelAlias.objects.filter(campaign=campaign).values_list("column", "text"))
    for field_name, key, code in mappings_check(labels, mappings, saved):
        labels.alias_add(field_name, key, code, replace=True)


@atomic(retry_when=_retry)
def label_aliases_save(*, campaign: Campaign, actor, mappings, reason: str = "") -> int:
    """Save the mappings as aliases of the campaign, logged; returns how many were written
    (a mapping the campaign already holds writes nothing)."""
    changes = label_aliases_write(campaign=campaign, actor=actor, mappings=mappings)
    changelog_append(changes=changes, actor=actor, reason=reason or _("labels mapped"))
    return len(changes)
