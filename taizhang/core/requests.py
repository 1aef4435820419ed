"""Request input that cannot be answered: one error, one answer (400 with the reason).

Views and forms raise `InputRefused` with a message for the user; `bad_request` (the
project's handler400) shows it. Django's own 400s (a suspicious path, too many fields)
get the same page without their message, which may name server paths.
"""

import re

from django import forms
from django.core.exceptions import BadRequest
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

# No search can build a query the database refuses: SQLite takes a LIKE pattern of at most
# 50,000 bytes and an expression tree at most 1,000 deep (one OR group per word).
SEARCH_MAX_CHARS = 200
SEARCH_MAX_WORDS = 20
# An id as a URL or a form sends it: ASCII digits only ("²" and "١" pass str.isdigit but not
# int), and short enough to fit a 64-bit key on every database.
_ID = re.compile(r"[0-9]{1,18}", re.ASCII)


class InputRefused(BadRequest):
    """Input a request cannot be answered with; the message says why, for the user."""


def bad_request(request, exception):
    message = str(exception) if isinstance(exception, InputRefused) else ""
    template = "400.html#message" if getattr(request, "htmx", False) else "400.html"
    return render(request, template, {"message": message}, status=400)


def parse_id(text) -> int | None:
    """A database id from request input, or None if it is not one."""
    if isinstance(text, str) and _ID.fullmatch(text):
        return int(text)
    return None


class SearchField(forms.CharField):
    """A search box, bounded in length and in words."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(max_length=SEARCH_MAX_CHARS, **kwargs)

    def validate(self, value):
        super().validate(value)
        if len(value.split()) > SEARCH_MAX_WORDS:
            raise forms.ValidationError(
                _("Search for at most %(limit)s words (this search has %(count)s)."),
                params={"limit": SEARCH_MAX_WORDS, "count": len(value.split())}, code="too_many_words")
