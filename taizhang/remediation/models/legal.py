"""The legal path per lease: termination notice, answer, exposure, judicial steps."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taizhang.ledger.models import Target


class Lease(models.Model):
    """A land or building lease on a target that has to be terminated (解除租赁合同)."""

    class Kind(models.TextChoices):
        LAND = "land", _("land lease")
        BUILDING = "building", _("building lease")

    class Answer(models.TextChoices):
        PENDING = "pending", _("no answer yet")
        AGREED = "agreed", _("agreed")
        REFUSED = "refused", _("refused")

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="leases")
    lessee = models.CharField(_("lessee"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind, default=Kind.BUILDING)
    ends_on = models.DateField(_("lease ends"), null=True, blank=True)
    notice_sent_on = models.DateField(_("termination notice sent"), null=True, blank=True)
    answer = models.CharField(_("answer"), max_length=16, choices=Answer, default=Answer.PENDING)
    answered_on = models.DateField(_("answered on"), null=True, blank=True)
    exposed_on = models.DateField(_("exposed (曝光) on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["target", "id"]
        verbose_name = _("lease")

    def __str__(self):
        return "%s · %s" % (self.target, self.lessee)


class LegalStep(models.Model):
    """A judicial step on a lease: 调研, 立案, 起诉, 审理, 执行."""

    class Stage(models.TextChoices):
        RESEARCH = "research", _("research (调研)")
        FILING = "filing", _("case filed (立案)")
        SUIT = "suit", _("suit brought (起诉)")
        TRIAL = "trial", _("trial (审理)")
        ENFORCEMENT = "enforcement", _("enforcement (执行)")

    lease = models.ForeignKey(Lease, on_delete=models.CASCADE, related_name="legal_steps")
    stage = models.CharField(_("stage"), max_length=16, choices=Stage)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    done_on = models.DateField(_("done on"), null=True, blank=True)
    court = models.CharField(_("court"), max_length=200, blank=True)
    case_number = models.CharField(_("case number"), max_length=100, blank=True)
    result = models.TextField(_("result"), blank=True)

    class Meta:
        ordering = ["lease", "id"]
        verbose_name = _("legal step")

    def __str__(self):
        return "%s · %s" % (self.lease, self.get_stage_display())

    @property
    def overdue(self) -> bool:
        return self.done_on is None and self.due_on is not None and self.due_on < timezone.localdate()
