"""Notifications: the in-app centre, the e-mails users chose, and the webhooks the caller names.

A room above calls `notify` with a key that says what the notification is about and when
("order:12:remind:-1d"). The same key is never notified twice to the same user nor sent twice
to the same address or webhook: a sweep that runs again, or two that run at once, create
nothing new (INSERT … ON CONFLICT DO NOTHING under the unique constraints). Deliveries out of
the site are sent later, by the `deliveries` sweep (core/deliveries.py), never inside the
caller's transaction.

Notifications are the users' mailbox, not the ledger: they are not written to the change log.
What caused one (an order issued, a deadline passed) is logged by the service that did it.

Core does not know what the kinds mean: each room registers its own with a label
(`kind_register`) so that the e-mail choices page can offer them.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from .db import atomic
from .errors import ServiceError
from .models import Delivery, EmailChoice, Notification

TITLE_MAX = Notification._meta.get_field("title").max_length


@dataclass(frozen=True)
class Kind:
    """A kind of notification a room sends, as the e-mail choices page offers it."""

    code: str
    label: str
    # Whether it reaches a user by e-mail before they choose.
    email_default: bool = False


_KINDS: dict[str, Kind] = {}


def kind_register(code: str, label, *, email_default: bool = False) -> Kind:
    """Declare a kind of notification (from the room's AppConfig.ready); `label` may be lazy."""
    kind = Kind(code, label, email_default)
    if _KINDS.get(code, kind) != kind:
        raise ValueError("notification kind %r is already registered differently" % code)
    _KINDS[code] = kind
    return kind


def kinds() -> list[Kind]:
    return sorted(_KINDS.values(), key=lambda k: k.code)


def site_link(url: str) -> str:
    """A path on the site as a link that works outside it (an e-mail, a group chat), when
    TAIZHANG_SITE_URL says where the site is; the path alone otherwise."""
    base = getattr(settings, "TAIZHANG_SITE_URL", "")
    if url.startswith("/") and base:
        return base.rstrip("/") + url
    return url


def is_web_url(url: str) -> bool:
    """Only http(s): a webhook is posted to from the server, so file:, ftp: and the like are never followed."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


@atomic
def notify(*, recipients: Iterable, kind: str, title: str, body: str = "", url: str = "", key: str,
           webhooks: Iterable[str] = (), now=None) -> int:
    """Tell `recipients` (users) about something, once per `key`; returns how many were new.

    Each active recipient gets one notification in the centre; those who chose this kind by
    e-mail (and have an address) get one e-mail; each of `webhooks` (the caller's units'
    group robots, http(s) only) gets one post. A webhook that is not an http(s) URL is
    recorded as failed at once, so the office sees it rather than it being dropped.
    """
    if kind not in _KINDS:
        raise ValueError("unknown notification kind %r: register it with kind_register" % kind)
    now = now or timezone.now()
    if len(title) > TITLE_MAX:
        title = title[:TITLE_MAX - 1] + "…"
    users = {user.pk: user for user in recipients if user.is_active}
    known = set(Notification.objects.filter(key=key, recipient_id__in=users).values_list("recipient_id", flat=True))
    new = [Notification(recipient_id=pk, kind=kind, title=title, body=body, url=url, key=key, created_at=now)
           for pk in users if pk not in known]
    # ON CONFLICT DO NOTHING: another process notifying the same key meanwhile is not an error.
    Notification.objects.bulk_create(new, ignore_conflicts=True)
    deliveries = _emails(users, kind, key, title, body, url, now) + _posts(webhooks, key, title, body, url, now)
    Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    return len(new)


def _emails(users: dict, kind: str, key: str, title: str, body: str, url: str, now) -> list[Delivery]:
    chosen = dict(EmailChoice.objects.filter(user_id__in=users, kind=kind).values_list("user_id", "by_email"))
    default = _KINDS[kind].email_default
    emailed = [pk for pk in users if chosen.get(pk, default) and users[pk].email.strip()]
    if not emailed:
        return []
    notes = dict(Notification.objects.filter(key=key, recipient_id__in=emailed).values_list("recipient_id", "pk"))
    text = "\n\n".join(part for part in (body, site_link(url)) if part)
    return [Delivery(key=key, channel=Delivery.Channel.EMAIL, destination=users[pk].email.strip(),
                     notification_id=notes.get(pk), payload={"subject": title, "body": text},
                     next_try_at=now, created_at=now) for pk in emailed]


def _posts(webhooks: Iterable[str], key: str, title: str, body: str, url: str, now) -> list[Delivery]:
    # The group-robot format of 政务微信 / 企业微信 and 钉钉 alike: a text message.
    content = "\n".join(part for part in (title, body, site_link(url)) if part)
    posts = []
    for hook in dict.fromkeys(h.strip() for h in webhooks if h and h.strip()):
        ok = is_web_url(hook)
        posts.append(Delivery(
            key=key, channel=Delivery.Channel.WEBHOOK, destination=hook,
            payload={"msgtype": "text", "text": {"content": content}},
            state=Delivery.State.PENDING if ok else Delivery.State.FAILED,
            last_error="" if ok else _("Not an http(s) URL; nothing was sent."), next_try_at=now, created_at=now))
    return posts


def unread_count(user) -> int:
    """The header's number: one query on the recipient's unread index."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_read(*, notification: Notification, now=None) -> bool:
    """Mark one notification read (the caller found it among the user's own); False if it already was."""
    now = now or timezone.now()
    changed = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
    notification.refresh_from_db(fields=["read_at"])
    return changed == 1


def notifications_read_all(*, user, now=None) -> int:
    """Mark every unread notification of `user` read; returns how many."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=now or timezone.now())


def email_kinds(user) -> set[str]:
    """The kinds that reach `user` by e-mail: their choices, and each kind's default where they made none."""
    chosen = dict(EmailChoice.objects.filter(user=user).values_list("kind", "by_email"))
    return {k.code for k in kinds() if chosen.get(k.code, k.email_default)}


@atomic
def email_choices_set(*, user, by_email: Iterable[str]) -> set[str]:
    """Record which registered kinds reach `user` by e-mail (every other one does not)."""
    wanted = set(by_email)
    unknown = wanted - set(_KINDS)
    if unknown:
        raise ServiceError(_("Unknown kind of notification: %(kinds)s.") % {"kinds": ", ".join(sorted(unknown))})
    EmailChoice.objects.bulk_create(
        [EmailChoice(user=user, kind=code, by_email=code in wanted) for code in _KINDS],
        update_conflicts=True, unique_fields=["user", "kind"], update_fields=["by_email"])
    return email_kinds(user)
