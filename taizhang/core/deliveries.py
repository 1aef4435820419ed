"""Sending deliveries: e-mails through Django's mail backend, webhooks as a JSON POST.

`deliveries_send` is the `deliveries` sweep. Each due delivery is claimed by a conditional
UPDATE on the attempts it was read with, so of two workers sending at once exactly one sends
it. A failure is tried again later (1, 5, 25, 125 minutes after), and after the last try
the delivery is `failed` with its error, on the office's page: nothing is dropped unseen.

A worker that dies between claiming and recording leaves the delivery `sending`; its claim
lapses after CLAIM and the next run sends it again. So a delivery goes out at least once,
and more than once only if a worker died in the middle of sending it.
"""

import json
import logging
import urllib.request
from datetime import timedelta
from urllib.error import HTTPError

from django.core.mail import send_mail
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import ConflictError
from .models import Delivery
from .notifications import is_web_url

logger = logging.getLogger(__name__)

ATTEMPTS = 5
FIRST_WAIT = timedelta(minutes=1)
WAIT_FACTOR = 5
CLAIM = timedelta(minutes=10)
# A group robot answers in well under a second; a server that hangs must not hold the sweep.
WEBHOOK_TIMEOUT = 10
BATCH = 200
S = Delivery.State


def wait_after(attempts: int) -> timedelta:
    """How long after the `attempts`-th failed try the next one comes."""
    return FIRST_WAIT * WAIT_FACTOR ** (attempts - 1)


def deliveries_send(*, now=None, limit: int = BATCH) -> dict:
    """Send the deliveries that are due at `now`; returns how many were sent, put off and failed."""
    now = now or timezone.now()
    counts = {"sent": 0, "retry": 0, "failed": 0}
    due = (Delivery.objects.filter(state__in=[S.PENDING, S.SENDING], next_try_at__lte=now)
           .order_by("next_try_at", "pk").values_list("pk", "attempts")[:limit])
    for pk, attempts in list(due):
        # The claim: conditional on the attempts read, so a second worker's update finds no row.
        claimed = (Delivery.objects.filter(pk=pk, attempts=attempts, state__in=[S.PENDING, S.SENDING],
                                           next_try_at__lte=now)
                   .update(state=S.SENDING, attempts=F("attempts") + 1, next_try_at=now + CLAIM))
        if not claimed:
            continue
        delivery = Delivery.objects.get(pk=pk)
        try:
            _send(delivery)
        except Exception as exc:  # any failure of one delivery is recorded; the others still go
            counts[_failed(delivery, exc, now)] += 1
        else:
            Delivery.objects.filter(pk=pk, attempts=delivery.attempts).update(
                state=S.SENT, sent_at=now, last_error="")
            counts["sent"] += 1
    return counts


def _failed(delivery: Delivery, exc: Exception, now) -> str:
    error = "%s: %s" % (type(exc).__name__, exc)
    logger.warning("delivery %s to %s failed (try %s): %s", delivery.pk, delivery.shown_destination,
                   delivery.attempts, error)
    if delivery.attempts >= ATTEMPTS:
        fields = {"state": S.FAILED}
    else:
        fields = {"state": S.PENDING, "next_try_at": now + wait_after(delivery.attempts)}
    Delivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts).update(last_error=error[:2000], **fields)
    return "failed" if fields["state"] == S.FAILED else "retry"


def _send(delivery: Delivery) -> None:
    if delivery.channel == Delivery.Channel.EMAIL:
        payload = delivery.payload
        # from_email None: DEFAULT_FROM_EMAIL (TAIZHANG_EMAIL_FROM).
        if send_mail(payload["subject"], payload["body"], None, [delivery.destination]) != 1:
            raise OSError("the mail backend sent nothing")
    else:
        webhook_post(delivery.destination, delivery.payload)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A robot does not redirect; following one could lead the server somewhere the URL did not name.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


class WebhookRefused(Exception):
    """The webhook answered, but with an error of its own (a robot's errcode)."""


def webhook_post(url: str, payload: dict, timeout: float = WEBHOOK_TIMEOUT) -> None:
    """POST `payload` as JSON to `url` (http(s) only); raises on any failure."""
    if not is_web_url(url):
        raise ValueError(_("Not an http(s) URL; nothing was sent."))
    request = urllib.request.Request(url, data=json.dumps(payload, ensure_ascii=False).encode(),
                                     headers={"Content-Type": "application/json; charset=utf-8"}, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:  # noqa: S310 (scheme checked above)
            answer = response.read(64 * 1024)
    except HTTPError as exc:
        raise WebhookRefused("HTTP %s %s" % (exc.code, exc.reason)) from None
    # 钉钉's and 企业微信's robots answer 200 with {"errcode": …, "errmsg": …}: non-zero is a refusal.
    try:
        data = json.loads(answer)
    except ValueError:
        return
    if isinstance(data, dict) and data.get("errcode") not in (None, 0):
        raise WebhookRefused("errcode %s: %s" % (data.get("errcode"), data.get("errmsg", "")))


def delivery_retry(*, delivery: Delivery, now=None) -> None:
    """The office sends a failed delivery again (after fixing an address or a robot): tries start over."""
    now = now or timezone.now()
    if not Delivery.objects.filter(pk=delivery.pk, state=S.FAILED).update(
            state=S.PENDING, attempts=0, next_try_at=now):
        raise ConflictError(_("This delivery is no longer failed; reload the page."))
    delivery.refresh_from_db()


def deliveries_failed(limit: int = 200):
    """The deliveries that gave up, newest first, for the office to see (and send again)."""
    return Delivery.objects.filter(state=S.FAILED).order_by("-created_at", "-pk")[:limit]


def deliveries_retrying(limit: int = 200):
    """The deliveries that failed at least once and will be tried again, soonest first."""
    retrying = Delivery.objects.filter(state__in=[S.PENDING, S.SENDING], attempts__gt=0)
    return retrying.order_by("next_try_at", "pk")[:limit]
