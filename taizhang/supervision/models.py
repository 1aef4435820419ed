"""Supervision orders (督办单), their trail, extensions, referrals to 纪检监察 and what each
responsible person was held to."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from taizhang.campaigns.models import Campaign, OrgUnit
from taizhang.ledger.models import Target


class Order(models.Model):
    """A supervision order: issued by the HQ office or a working group to a unit, with a deadline."""

    class State(models.TextChoices):
        ISSUED = "issued", _("issued")  # 已下达
        SIGNED = "signed", _("signed for")  # 已签收
        IN_PROGRESS = "in_progress", _("in progress")  # 办理中
        ANSWERED = "answered", _("reported done")  # 已反馈
        DONE = "done", pgettext_lazy("supervision order state", "closed")  # 已办结
        RETURNED = "returned", _("sent back")  # 已退办
        WITHDRAWN = "withdrawn", _("withdrawn")  # 已撤回
        REFERRED = "referred", _("referred to discipline inspection")  # 已移交纪检

    class Priority(models.TextChoices):
        NORMAL = "normal", _("normal")  # 一般
        URGENT = "urgent", _("urgent")  # 紧急
        CRITICAL = "critical", _("most urgent")  # 特急

    class Colour(models.TextChoices):
        GREEN = "green", _("on time")
        YELLOW = "yellow", _("deadline near")
        RED = "red", _("overdue")
        GREY = "grey", _("finished")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="orders")
    year = models.PositiveIntegerField(_("year"))
    serial = models.PositiveIntegerField(_("number in the year"))
    number = models.CharField(pgettext_lazy("supervision order", "number"), max_length=64)
    issuer = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="orders_issued",
                               verbose_name=_("issued by"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("signed by"))
    receiver = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="orders_received",
                                 verbose_name=_("sent to"))
    targets = models.ManyToManyField(Target, blank=True, related_name="orders", verbose_name=_("targets"))
    subject = models.CharField(_("subject"), max_length=200)
    text = models.TextField(_("what is to be done"))
    deadline = models.DateField(_("deadline"))
    priority = models.CharField(pgettext_lazy("supervision order", "priority"), max_length=16, choices=Priority,
                                default=Priority.NORMAL)
    state = models.CharField(_("state"), max_length=16, choices=State, default=State.ISSUED)
    version = models.PositiveIntegerField(default=0)
    extensions = models.PositiveIntegerField(_("extensions granted"), default=0)
    # Overdue reminders (催办) sent so far: the Reminder rows' count, kept here for the
    # escalation rule and the lists.
    reminders = models.PositiveIntegerField(_("reminders sent"), default=0)
    issued_at = models.DateTimeField(_("issued at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    referred_at = models.DateTimeField(_("referred at"), null=True, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "year", "serial"], name="order_number_unique",
                                    violation_error_message=_("This order number is taken.")),
        ]
        indexes = [models.Index(fields=["campaign", "state", "deadline"], name="order_state_deadline_idx")]
        verbose_name = _("supervision order")

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("supervision:order", args=[self.pk])

    def is_open(self) -> bool:
        return self.state not in FINISHED

    def colour(self, today: datetime.date, yellow_within_days: int) -> str:
        """Green, yellow within `yellow_within_days` of the deadline, red past it, grey when finished."""
        if not self.is_open():
            return self.Colour.GREY
        if today > self.deadline:
            return self.Colour.RED
        if (self.deadline - today).days <= yellow_within_days:
            return self.Colour.YELLOW
        return self.Colour.GREEN


# An order in these states asks nothing more of anyone.
FINISHED = (Order.State.DONE, Order.State.WITHDRAWN)


class OrderEvent(models.Model):
    """One line of an order's trail: a step, an answer, an extension asked or decided, a reminder."""

    class Kind(models.TextChoices):
        STEP = "step", _("step")
        FEEDBACK = "feedback", _("answer")
        EXTENSION_ASKED = "extension_asked", _("extension asked")
        EXTENSION_GRANTED = "extension_granted", _("extension granted")
        EXTENSION_REFUSED = "extension_refused", _("extension refused")
        REMINDER = "reminder", _("reminder")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="trail")
    kind = models.CharField(_("kind"), max_length=24, choices=Kind, default=Kind.STEP)
    from_state = models.CharField(_("from"), max_length=16, choices=Order.State)
    to_state = models.CharField(_("to"), max_length=16, choices=Order.State)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("time"))
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["order", "at", "id"]
        verbose_name = _("order event")

    def __str__(self):
        return "%s: %s" % (self.order_id, self.kind)


class Attachment(models.Model):
    """A file sent with an answer (反馈): a scan, a photo, a report. Stored outside the static
    root and served only through the order's page, to those who may see the order."""

    event = models.ForeignKey(OrderEvent, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="orders/%Y/%m/")
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=80)
    size = models.PositiveIntegerField(_("file size"))
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["event", "id"]
        verbose_name = _("attachment")

    def __str__(self):
        return self.name


class Extension(models.Model):
    """An extension of an order's deadline, asked by the receiving unit before the deadline and
    granted or refused by the issuer."""

    class Status(models.TextChoices):
        ASKED = "asked", _("asked")
        GRANTED = "granted", _("granted")
        REFUSED = "refused", _("refused")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="extension_requests")
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("asked by"))
    asked_at = models.DateTimeField(_("asked at"))
    reason = models.TextField(_("reason"))
    deadline_asked = models.DateField(_("new deadline asked"))
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.ASKED)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    note = models.TextField(_("decision note"), blank=True)

    class Meta:
        ordering = ["order", "asked_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order"], condition=Q(status="asked"), name="one_extension_asked",
                                    violation_error_message=_("An extension is already waiting for a decision.")),
        ]
        verbose_name = _("extension")

    def __str__(self):
        return "%s → %s" % (self.order_id, self.deadline_asked)


class Referral(models.Model):
    """An order referred to 纪检监察 with its whole trail, by the escalation rule or by hand."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="referral")
    referred_at = models.DateTimeField(_("referred at"))
    referred_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("referred by"))
    reason = models.TextField(_("why"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-referred_at", "-id"]
        verbose_name = _("referral")

    def __str__(self):
        return str(self.order)


class Accountability(models.Model):
    """What 纪检监察 held one responsible person to over a referral: an outcome from the
    preset's list (约谈, 通报批评, 诫勉, 问责) or no fault found, always with the reason."""

    NO_FAULT = "no_fault"

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="outcomes")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="accountability",
                               verbose_name=_("responsible person"))
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"))
    outcome = models.CharField(_("outcome"), max_length=32)
    reason = models.TextField(_("reason"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        ordering = ["referral", "recorded_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["referral", "person"], name="one_outcome_a_person",
                                    violation_error_message=_("An outcome is already recorded for this person.")),
        ]
        verbose_name = _("accountability outcome")

    def __str__(self):
        return "%s: %s" % (self.person_id, self.outcome)


class Reminder(models.Model):
    """One reminder of an order's deadline sent to its receiving unit: before the deadline
    (提醒) or after it (催办), as the preset's days say. Unique per order and key, so a sweep
    run twice, or two at once, sends each once."""

    class Kind(models.TextChoices):
        BEFORE = "before", _("deadline near")
        AFTER = "after", _("overdue")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="reminder_log")
    # "after:3@2016-03-11": which of the preset's days, against which deadline (an extension
    # moves the deadline, and its reminders come again).
    key = models.CharField(max_length=40)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind)
    due_on = models.DateField(_("due on"))
    sent_at = models.DateTimeField(_("sent at"))

    class Meta:
        ordering = ["order", "due_on", "id"]
        constraints = [models.UniqueConstraint(fields=["order", "key"], name="reminder_once")]
        verbose_name = _("reminder")

    def __str__(self):
        return "%s %s" % (self.order_id, self.key)


class OrderCounter(models.Model):
    """The last order number given in a campaign's year: numbers are taken under its lock."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "year"], name="order_counter_unique")]

    def __str__(self):
        return "%s/%s: %s" % (self.campaign_id, self.year, self.last)
