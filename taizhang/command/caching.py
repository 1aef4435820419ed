"""The command room's answers, kept for as long as the change log stands still.

Every figure the dashboard and the map give is read from what the change log holds (the
targets, their history and its projection, the campaign, the memberships that scope a user),
and every write appends to the log and moves its head on. So an answer computed for one user
and one question is the same answer until the head moves: a board is kept in Django's cache
under (what was asked, who asked, the head's hash), and for the map's data the same key is an
ETag, so that a browser asking again gets "not modified" without a figure being read.

The head is read before the answer is computed, never after: a write landing in between makes
the answer newer than its key, which the next request replaces, never older.
"""

import hashlib

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import get_language

from taizhang.core.changelog import changelog_head_hash

# An answer nobody asked for this long leaves the cache (a write replaces it sooner: its key changes).
SECONDS = 3600


def log_state_key(kind: str, user, *asked) -> str:
    """A key for `kind` of answer to `asked`, for `user`, at the change log's current head."""
    raw = "\x1f".join(str(part) for part in (kind, user.pk, *asked, changelog_head_hash()))
    return "command:%s:%s" % (kind, hashlib.sha256(raw.encode()).hexdigest())


def request_key(kind: str, request, *asked) -> str:
    """A key for `kind` of answer to `request`: all it is asked by (its query, the campaign its
    session chose, its language, today's date for "as of today", and `asked`) and who asks."""
    return log_state_key(kind, request.user, request.GET.urlencode(), request.session.get("campaign_id"),
                         get_language(), timezone.localdate(), *asked)


def cached(key: str, compute):
    """The answer kept under `key`, computed (and kept) when there is none."""
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, SECONDS)
    return found
