"""The case store's tables. Rules of the case lifecycle live in ``lifecycle.py``; who may see
and do what lives in ``access.py``; the audit chain in ``audit.py``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    KEY_CONTACT = "key_contact", "Key contact"
    INVESTIGATOR = "investigator", "Investigator"
    AUDITOR = "auditor", "Auditor"


class Status(models.TextChoices):
    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In progress"
    CLOSED = "closed", "Closed"


class Band(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class Category(models.TextChoices):
    NO_ISSUE = "no_issue", "No issue / other explanation"
    ERROR = "error", "Error"
    FRAUD = "fraud", "Fraud"


class LinkageLabel(models.TextChoices):
    SAME = "same", "Same person"
    NOT_SAME = "not_same", "Not the same person"
    NOT_SURE = "not_sure", "Not sure"


class Body(models.Model):
    """A council, benefits or education body taking part in the exercise."""

    code = models.SlugField(max_length=64, unique=True, help_text="As in submissions, e.g. kingston")
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "bodies"

    def __str__(self) -> str:
        return self.name or self.code


class Membership(models.Model):
    """A user's role in one body."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    body = models.ForeignKey(Body, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "body"], name="one_role_per_body")]
        ordering = ["body__code", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.body.code}"


class PasswordChangeRequired(models.Model):
    """A user whose password somebody else chose (a key contact adding them, an administrator
    on the command line): they must choose their own before anything else."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="password_change_required")
    set_by = models.CharField(max_length=150)
    set_at = models.DateTimeField(default=timezone.now)


class Exercise(models.Model):
    """One data-matching exercise, identified by the date its data is true on."""

    as_at = models.DateField(unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-as_at"]

    def __str__(self) -> str:
        return f"Exercise of {self.as_at:%-d %B %Y}"


class Declaration(models.Model):
    """A body's privacy-notice declaration for an exercise: its matches are released only after."""

    body = models.ForeignKey(Body, on_delete=models.CASCADE, related_name="declarations")
    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="declarations")
    declared_by = models.CharField(max_length=150)
    declared_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["body", "exercise"], name="one_declaration")]


class Submission(models.Model):
    """A submitted dataset, as the run manifests describe it."""

    submission_id = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=64)
    body = models.ForeignKey(Body, on_delete=models.PROTECT, related_name="submissions")
    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="submissions")
    file_name = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    rows_loaded = models.PositiveIntegerField(default=0)
    dataset_path = models.CharField(max_length=1000, blank=True)


class Run(models.Model):
    """A published run bundle."""

    run_id = models.CharField(max_length=200, unique=True)
    job = models.CharField(max_length=100, db_index=True)
    title = models.CharField(max_length=300)
    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="runs")
    created_at = models.DateTimeField()
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.CharField(max_length=150)
    bundle_path = models.CharField(max_length=1000)
    manifest = models.JSONField()
    submissions = models.ManyToManyField(Submission, related_name="runs")
    inconsistencies = models.PositiveIntegerField(default=0)
    new_matches = models.PositiveIntegerField(default=0)
    seen_again = models.PositiveIntegerField(default=0)
    reopened = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.run_id


QUEUE_FILTERS = ["priority_band", "job", "allocated_to", "created_at"]


class SetAside(models.Model):
    """An inconsistency that a job's ``rule.not_if_also_linked`` set aside instead of queueing
    (the admissions jobs: a namesake's record elsewhere, when the parent also links at the very
    address the application gives). Published with its run so that the body's key contacts
    and auditors can see what the engine held back, and the link that held it back."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="set_aside")
    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="set_aside")
    owning_body = models.ForeignKey(Body, on_delete=models.PROTECT, related_name="set_aside", db_index=False)
    job = models.CharField(max_length=100)
    job_title = models.CharField(max_length=300)
    left_kind = models.CharField(max_length=64)
    left_body = models.CharField(max_length=64)
    left_submission_id = models.CharField(max_length=200)
    left_record_id = models.CharField(max_length=200)
    right_kind = models.CharField(max_length=64)
    right_body = models.CharField(max_length=64)
    right_submission_id = models.CharField(max_length=200)
    right_record_id = models.CharField(max_length=200)
    match_probability = models.FloatField()
    explanation = models.TextField()
    also_linked_right_body = models.CharField(max_length=64)
    also_linked_right_submission_id = models.CharField(max_length=200, blank=True, default="")  # bundles since 30 Nov 2026
    also_linked_right_record_id = models.CharField(max_length=200)
    also_linked_match_probability = models.FloatField()

    class Meta:
        verbose_name_plural = "set aside"
        indexes = [models.Index(fields=["owning_body", "exercise", "job"], name="set_aside_by_body")]

    def __str__(self) -> str:
        return f"Set aside {self.pk} ({self.job})"


# Of each record's text: its references and names come first. An index holds both records'
# texts with both record ids (up to 200 characters each): 2 x 500 bytes keeps an entry within
# PostgreSQL's 2,704, whatever the ids are written in.
SEARCHED_BYTES = 500


SEARCHED_VALUE = 100  # characters: longer is free text (a note), not what a caller quotes


def record_text(record: dict[str, Any] | None) -> str:
    """A record's shown values as the queue searches them: in capitals, one space apart, each
    of up to ``SEARCHED_VALUE`` characters (a name, a reference, an address line), and the first
    ``SEARCHED_BYTES`` of them, so that the search's index stays within what an index entry may
    hold on PostgreSQL."""
    values = (str(v).strip() for v in (record or {}).values() if v is not None)
    text = " ".join(v.upper() for v in values if v and len(v) <= SEARCHED_VALUE)
    return text.encode("utf-8")[:SEARCHED_BYTES].decode("utf-8", "ignore")


class Match(models.Model):
    """One inconsistency requiring investigation: a linked pair that a job's rule flagged.

    Keyed by job and both records' keys (kind, body, record id), so a later run of the same
    job finds the same match. ``version`` is the optimistic lock: every change bumps it.
    """

    key = models.CharField(max_length=64, unique=True, help_text="SHA-256 of job and both record keys")
    job = models.CharField(max_length=100)
    job_title = models.CharField(max_length=300)
    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="matches")
    owning_body = models.ForeignKey(Body, on_delete=models.PROTECT, related_name="matches", db_index=False)
    left_kind = models.CharField(max_length=64)
    left_body = models.CharField(max_length=64)
    left_submission_id = models.CharField(max_length=200)
    left_record_id = models.CharField(max_length=200)
    left_record = models.JSONField()
    right_kind = models.CharField(max_length=64)
    right_body = models.CharField(max_length=64)
    right_submission_id = models.CharField(max_length=200)
    right_record_id = models.CharField(max_length=200)
    right_record = models.JSONField()
    # What the queue's search reads: each record's shown values (not its field names), in
    # capitals, so that searching for a name reads a short text, not each record's JSON.
    left_text = models.TextField(default="", editable=False)
    right_text = models.TextField(default="", editable=False)
    records_fingerprint = models.CharField(max_length=64)
    explanation = models.TextField()
    contributions = models.JSONField(default=list)
    match_probability = models.FloatField()
    match_weight = models.FloatField()
    priority_score = models.FloatField()
    priority_band = models.CharField(max_length=10, choices=Band.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    allocated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="allocated_matches",
        db_index=False,  # queue_by_user leads with it
    )
    first_run = models.ForeignKey(Run, on_delete=models.SET_NULL, null=True, related_name="+")
    last_run = models.ForeignKey(Run, on_delete=models.SET_NULL, null=True, related_name="+")
    # The first later run of the job that looked for this pair (both records' bodies were among
    # its inputs, and it covered the owning body) and did not find it, while the match was open:
    # a record may have been corrected since. Cleared when a run finds the pair again.
    not_found_by = models.ForeignKey(Run, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    times_seen = models.PositiveIntegerField(default=1)
    seen_since_closed = models.BooleanField(default=False)
    times_reopened = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name_plural = "matches"
        indexes = [
            # The queue: each index leads with a body's released exercise, orders one way
            # (priority within status, priority, age) and carries every column the queue
            # filters on, so counts and pages never read the records themselves.
            models.Index(
                fields=["owning_body", "exercise", "status", "-priority_score", *QUEUE_FILTERS],
                name="queue_by_body",
            ),
            models.Index(
                fields=["owning_body", "exercise", "-priority_score", "status", *QUEUE_FILTERS],
                name="queue_by_priority",
            ),
            models.Index(
                fields=["owning_body", "exercise", "created_at", "status", "priority_band", "job", "allocated_to"],
                name="queue_by_age",
            ),
            models.Index(fields=["allocated_to", "status", "-priority_score"], name="queue_by_user"),
            models.Index(fields=["job", "owning_body"], name="match_job_body"),
            # The queue's search by a record's reference, as a caller quotes it.
            models.Index(fields=["left_record_id"], name="match_left_record_id"),
            models.Index(fields=["right_record_id"], name="match_right_record_id"),
            # ... and by a name: counting what a search finds reads this, not every record.
            models.Index(fields=["owning_body", "exercise", "status", "left_record_id", "right_record_id",
                                 "left_text", "right_text"], name="match_search"),
        ]

    def __str__(self) -> str:
        return f"Match {self.pk} ({self.job})"

    @property
    def current_outcome(self) -> Outcome | None:
        return self.outcomes.order_by("-recorded_at", "-pk").first()

    def record(self, side: str) -> dict[str, Any]:
        return self.left_record if side == "left" else self.right_record

    def why_matched(self, most: int = 8) -> str:
        """The comparisons that linked the two records, strongest first, in one line:
        "dob: exact match (+12.3); surname: ... (+8.1)" (for the CLI and exports)."""
        items = sorted((c for c in (self.contributions or []) if isinstance(c, dict) and c.get("match_weight")),
                       key=lambda c: -float(c["match_weight"]))
        return "; ".join(f"{c.get('comparison')}: {c.get('level') or 'level not named'} ({float(c['match_weight']):+.1f})"
                         for c in items[:most])


class Outcome(models.Model):
    """What an investigator found. Only a person records one; a fraud outcome needs a case reference."""

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="outcomes")
    category = models.CharField(max_length=20, choices=Category.choices)
    case_reference = models.CharField(max_length=100, blank=True)
    actual_pence = models.BigIntegerField(null=True, blank=True)
    estimated_pence = models.BigIntegerField(null=True, blank=True)
    estimate_basis = models.CharField(max_length=500, blank=True)
    note = models.TextField(blank=True)
    linkage_label = models.CharField(max_length=20, choices=LinkageLabel.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-recorded_at"]


class Note(models.Model):
    """A free-text note an investigator adds to a match."""

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]


class AuditEvent(models.Model):
    """One entry in the append-only, hash-chained audit trail.

    ``hash`` = SHA-256 of the previous event's hash and this event's canonical content, so
    editing, deleting or reordering any event breaks the chain (`matching audit verify`);
    cutting events from the end, or working the chain out again, shows against an anchor
    recorded earlier outside the store (``audit.verify(anchor)``).
    Events name records by id and never copy personal data, so the trail outlives a purge.
    """

    seq = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField()
    actor = models.CharField(max_length=150)
    action = models.CharField(max_length=50, db_index=True)
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=200, blank=True, db_index=True)
    body = models.CharField(max_length=64, blank=True, db_index=True)
    detail = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("The audit trail is append-only: events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("The audit trail is append-only: events cannot be deleted.")


class AuditHead(models.Model):
    """A single row locked while appending, so concurrent writers extend the chain in turn."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)
