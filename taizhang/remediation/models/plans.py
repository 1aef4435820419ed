"""One compound, one policy (一院一策): versioned plans, their steps, and the policy library."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from taizhang.campaigns.models import Campaign, OrgUnit
from taizhang.ledger.models import Target


class Means(models.TextChoices):
    """The speech's different keys for different locks."""

    PERSUASION = "persuasion", _("persuasion (思想)")
    PERSONAL = "personal", _("personal ties (人情)")
    ECONOMIC = "economic", _("economic (经济)")
    ADMINISTRATIVE = "administrative", _("administrative (行政)")
    LEGAL = "legal", _("legal (法治)")


class Policy(models.Model):
    """A regulation or policy in the library (法规汇集), linkable from plan steps."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="policies")
    title = models.CharField(_("title"), max_length=300)
    issuer = models.CharField(_("issuer"), max_length=200, blank=True)
    number = models.CharField(_("document number"), max_length=100, blank=True)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    tags = models.CharField(_("tags"), max_length=300, blank=True)
    text = models.TextField(_("text"), blank=True)

    class Meta:
        ordering = ["campaign", "-issued_on", "title"]
        verbose_name = _("policy")
        verbose_name_plural = _("policy library")

    def __str__(self):
        return self.title


class Plan(models.Model):
    """A version of a target's plan; approved by the HQ office, and then never changed."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("submitted")
        APPROVED = "approved", _("approved")
        SUPERSEDED = "superseded", _("superseded")

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="plans")
    version = models.PositiveIntegerField(_("version"))
    planned_on = models.DateField(_("plan date"))
    means = models.JSONField(_("means"), default=list)
    summary = models.TextField(_("summary"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)

    class Meta:
        ordering = ["target", "-version"]
        constraints = [models.UniqueConstraint(fields=["target", "version"], name="plan_version_unique")]
        verbose_name = _("plan")

    def __str__(self):
        return "%s v%s" % (self.target, self.version)


class PlanStep(models.Model):
    """A concrete step of a plan: what, by which unit, by when, under which policies."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    description = models.TextField(_("step"))
    means = models.CharField(_("means"), max_length=16, choices=Means, blank=True)
    owner = models.ForeignKey(OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("owner unit"))
    due_on = models.DateField(_("due on"), null=True, blank=True)
    policies = models.ManyToManyField(Policy, blank=True, related_name="plan_steps", verbose_name=_("policies"))

    class Meta:
        ordering = ["plan", "order", "id"]
        verbose_name = _("plan step")

    def __str__(self):
        return self.description[:50]
