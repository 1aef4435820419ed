"""Every key a preset file may hold, and where in the text a key sits.

A misspelt key (`[pilot]` for `[pilots]`, `expected_target` for `expected_targets`) must
not load with its value silently dropped, so the loader refuses any key not declared here.
tomllib gives no line numbers: `key_lines` scans the text itself, resolving each table
header and key line to its full path (with the index of each array of tables), so a refused
key is named with its line.
"""

import difflib
import re

# A table whose keys are data, not names the loader knows (the aliases: 古城 = 古城街道).
FREE = "free"
# The value is used as it is (a string, a number, a date or a list of plain values).
VALUE = None

_UNIT = {"code": VALUE, "name": VALUE, "short_name": VALUE, "expected_targets": VALUE}
_POSTS = {"code": VALUE, "name": VALUE, "commander": VALUE, "members": VALUE}

# A dict is a table with these keys; a one-element list is an array of tables of that shape.
SCHEMA = {
    "campaign": {"slug": VALUE, "name": VALUE, "district": VALUE, "starts_on": VALUE, "ends_on": VALUE,
                 "target_total": VALUE},
    "command": _POSTS,
    "office": _POSTS,
    "groups": [dict(_UNIT, duties=VALUE)],
    "streets": [dict(_UNIT, outline=VALUE)],
    "systems": [_UNIT],
    "target_types": [{"code": VALUE, "name": VALUE, "description": VALUE}],
    "phases": [{"number": VALUE, "name": VALUE, "starts_on": VALUE, "ends_on": VALUE, "tasks": VALUE}],
    "milestones": [{"due_on": VALUE, "title": VALUE, "required_pct": VALUE, "stretch_pct": VALUE}],
    "liaisons": [{"leader": VALUE, "street": VALUE}],
    "pilots": {"per_street_min": VALUE, "per_street_max": VALUE, "per_system_min": VALUE,
               "per_system_max": VALUE},
    "anti_rebound": {"reinspect_after_days": VALUE},
    "petitions": {"open_limit_days": VALUE},
    "supervision": {"number_format": VALUE, "yellow_within_days": VALUE, "extensions_max": VALUE,
                    "remind_before_days": VALUE, "remind_after_days": VALUE, "refer_after_reminders": VALUE,
                    "refer_after_extensions": VALUE, "refer_after_overdue_days": VALUE, "outcomes": VALUE},
    "map": {"bounds": VALUE},
    "priority_rules": [{"code": VALUE, "label": VALUE, "match": VALUE, "values": VALUE}],
    "aliases": FREE,
    "publicity": {"slogans": VALUE},
    "plan_templates": [{"target_type": VALUE, "means": VALUE, "steps": VALUE}],
}

Path = tuple[str | int, ...]


def unknown_key(value, schema=SCHEMA, path: Path = ()) -> tuple[Path, list[str]] | None:
    """The first key (in document order) the schema does not declare, with the keys it
    allows there; None when every key is known. A value of the wrong kind is left to the
    loader's own checks, which name it."""
    if schema is VALUE or schema == FREE:
        return None
    if isinstance(schema, list):
        if not isinstance(value, list):
            return None
        for i, item in enumerate(value):
            if found := unknown_key(item, schema[0], (*path, i)):
                return found
        return None
    if not isinstance(value, dict):
        return None
    for key, item in value.items():
        if key not in schema:
            return (*path, key), sorted(schema)
        if found := unknown_key(item, schema[key], (*path, key)):
            return found
    return None


def closest(key: str, known: list[str]) -> str | None:
    matches = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return matches[0] if matches else None


def path_text(path: Path) -> str:
    """("phases", 2, "nmae") -> "phases[2].nmae", as the loader's other messages write keys."""
    out = ""
    for part in path:
        out += "[%d]" % part if isinstance(part, int) else ("." if out else "") + part
    return out


def line_of(text: str, path: Path) -> int | None:
    """The 1-based line that defines `path`, else the nearest enclosing key or table that has
    one (a key inside an inline table is on its parent's line); None if nothing matches."""
    lines = key_lines(text)
    for end in range(len(path), 0, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


_BARE = re.compile(r"[A-Za-z0-9_-]+")
_BASIC = re.compile(r'"((?:[^"\\]|\\.)*)"')
_LITERAL = re.compile(r"'([^']*)'")


def _key(line: str, pos: int) -> tuple[list[str], int] | None:
    """A dotted key starting at `pos` (bare, "basic" or 'literal' parts): its parts and the
    position after it, or None if no key starts there."""
    parts = []
    while True:
        while pos < len(line) and line[pos] in " \t":
            pos += 1
        for pattern in (_BARE, _BASIC, _LITERAL):
            match = pattern.match(line, pos)
            if match:
                part = match.group(1) if match.groups() else match.group(0)
                if pattern is _BASIC:
                    part = part.encode("latin-1", "backslashreplace").decode("unicode_escape")
                parts.append(part)
                pos = match.end()
                break
        else:
            return None
        while pos < len(line) and line[pos] in " \t":
            pos += 1
        if pos < len(line) and line[pos] == ".":
            pos += 1
            continue
        return parts, pos


class _Value:
    """Tracks where a value ends across lines: open brackets and multi-line strings."""

    def __init__(self):
        self.depth = 0
        self.quote = ""  # the multi-line string delimiter we are inside, if any

    @property
    def open(self) -> bool:
        return bool(self.depth or self.quote)

    def feed(self, line: str, pos: int = 0) -> None:
        while pos < len(line):
            if self.quote:
                end = line.find(self.quote, pos)
                if end < 0:
                    return
                pos, self.quote = end + 3, ""
                continue
            char = line[pos]
            if line.startswith('"""', pos) or line.startswith("'''", pos):
                self.quote, pos = line[pos:pos + 3], pos + 3
            elif char in "\"'":
                match = (_BASIC if char == '"' else _LITERAL).match(line, pos)
                pos = match.end() if match else len(line)
            elif char == "#":
                return
            else:
                self.depth += (char in "[{") - (char in "]}")
                pos += 1


def key_lines(text: str) -> dict[Path, int]:
    """Each table and key path the text defines, with the line it first appears on."""
    found: dict[Path, int] = {}
    arrays: dict[Path, int] = {}  # array of tables -> index of its latest [[item]]

    def resolve(names) -> Path:
        path: Path = ()
        for name in names:
            path = (*path, name)
            if path in arrays:
                path = (*path, arrays[path])
        return path

    table: Path = ()
    value = _Value()
    for number, line in enumerate(text.splitlines(), start=1):
        if value.open:
            value.feed(line)
            continue
        stripped = line.lstrip()
        start = len(line) - len(stripped)
        if stripped.startswith("[[") and (key := _key(line, start + 2)):
            parent, name = resolve(key[0][:-1]), key[0][-1]
            array = (*parent, name)
            arrays[array] = arrays.get(array, -1) + 1
            table = (*array, arrays[array])
            found.setdefault(array, number)
            found.setdefault(table, number)
        elif stripped.startswith("[") and (key := _key(line, start + 1)):
            table = resolve(key[0])
            for end in range(1, len(table) + 1):
                found.setdefault(table[:end], number)
        elif key := _key(line, start):
            parts, pos = key
            if pos < len(line) and line[pos] == "=":
                for end in range(1, len(parts) + 1):
                    found.setdefault((*table, *parts[:end]), number)
                value.feed(line, pos + 1)
    return found
