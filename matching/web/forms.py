"""Forms of the review app: every request's input is validated here before a view acts on it."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import User

from matching.casework.audit import action_label
from matching.casework.lifecycle import OutcomeInput, validate_outcome
from matching.casework.models import Band, Category, LinkageLabel, Role, Status
from matching.casework.queries import SORTS, QueueFilters
from matching.casework.shown_money import NotPounds, typed_pounds


def pounds_to_pence(text: str, label: str) -> int | None:
    """"£1,234.56" → 123456; blank → None. Raises ValidationError in the words of the form."""
    try:
        return typed_pounds(text)
    except NotPounds as exc:
        raise forms.ValidationError(
            f"{label} must be £0 or more" if exc.negative else f"{label} must be an amount in pounds, like £1,234.56"
        ) from exc


class SignInForm(AuthenticationForm):
    """Django's sign-in form in GOV.UK words. A wrong password, an unknown username and an
    inactive account all get the same message, so the form never tells which usernames exist."""

    INVALID = "Enter a correct username and password"
    error_messages = {"invalid_login": INVALID, "inactive": INVALID}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].error_messages["required"] = "Enter your username"
        self.fields["password"].error_messages["required"] = "Enter your password"

    def summary(self) -> list[tuple[str, str]]:
        """(link, message) for the error summary: each message links to the field it is about;
        a wrong username or password links to the username, where the user starts again."""
        out = [(f"#{self['username'].auto_id}", e) for e in self.non_field_errors()]
        for name in ("username", "password"):
            out.extend((f"#{self[name].auto_id}", e) for e in self[name].errors)
        return out


class VersionForm(forms.Form):
    """Every change to a match carries the version the user saw (optimistic locking)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, error_messages={
        "required": "The form was incomplete: reload the match and try again",
        "invalid": "The form was incomplete: reload the match and try again",
        "min_value": "The form was incomplete: reload the match and try again",
    })


class OutcomeForm(VersionForm):
    category = forms.ChoiceField(
        label="Outcome", choices=Category.choices, widget=forms.RadioSelect,
        error_messages={"required": "Select the outcome"},
    )
    case_reference = forms.CharField(label="Case reference", required=False, max_length=100)
    linkage_label = forms.ChoiceField(
        label="Are the two records the same person?", choices=LinkageLabel.choices, widget=forms.RadioSelect,
        error_messages={"required": "Select whether the two records are the same person"},
    )
    actual_amount = forms.CharField(label="Actual amount (optional)", required=False,
                                    help_text="An overpayment found, in pounds, for example £1,234.56")
    estimated_amount = forms.CharField(label="Estimated amount (optional)", required=False,
                                       help_text="A forward saving, in pounds, for example £2,500")
    estimate_basis = forms.CharField(label="Basis of the estimate (optional)", required=False, max_length=500,
                                     help_text="For example, 52 weeks of pension")
    note = forms.CharField(label="Note (optional)", required=False, widget=forms.Textarea(attrs={"rows": 3}),
                           max_length=10_000)

    FIELD_OF = {"actual_pence": "actual_amount", "estimated_pence": "estimated_amount"}

    def __init__(self, *args: Any, subject: str = "person", **kwargs: Any) -> None:
        """``subject``: what the job links, a person's records or a property's (a property job,
        such as single person discount to electoral register, links different people at one
        property: its label says whether the records are of the same property)."""
        super().__init__(*args, **kwargs)
        if subject == "property":
            field = self.fields["linkage_label"]
            field.label = "Do the two records describe the same property?"
            field.choices = [("same", "Same property"), ("not_same", "Not the same property"), ("not_sure", "Not sure")]
            field.error_messages["required"] = "Select whether the two records describe the same property"

    def clean_actual_amount(self) -> int | None:
        return pounds_to_pence(self.cleaned_data.get("actual_amount", ""), "Actual amount")

    def clean_estimated_amount(self) -> int | None:
        return pounds_to_pence(self.cleaned_data.get("estimated_amount", ""), "Estimated amount")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # Every error at once: a fraud outcome without its case reference is named beside an
        # amount that is not one, not on the next submission.
        for field, message in validate_outcome(self.outcome_input()).items():
            if self.FIELD_OF.get(field, field) not in self.errors:
                self.add_lifecycle_error(field, message)
        return data

    def add_lifecycle_error(self, field: str, message: str) -> None:
        field = self.FIELD_OF.get(field, field)
        self.add_error(field if field in self.fields else None, message)

    def outcome_input(self) -> OutcomeInput:
        d = self.cleaned_data
        return OutcomeInput(
            category=d.get("category", ""), linkage_label=d.get("linkage_label", ""),
            case_reference=d.get("case_reference", ""), actual_pence=d.get("actual_amount"),
            estimated_pence=d.get("estimated_amount"), estimate_basis=d.get("estimate_basis", ""),
            note=d.get("note", ""),
        )


class NoteForm(VersionForm):
    text = forms.CharField(label="Add a note", widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000,
                           error_messages={"required": "Enter a note"})

    def __init__(self, *args: Any, closed: bool = False, **kwargs: Any) -> None:
        """``closed``: the match is closed, and a note added now is said to be added after."""
        super().__init__(*args, **kwargs)
        if closed:
            self.fields["text"].help_text = (
                "The match is closed. A note added now (for example, money recovered after the outcome) "
                "does not reopen it, and its history shows it was added after the match was closed.")


class ReopenForm(VersionForm):
    reason = forms.CharField(label="Why are you reopening this match?", widget=forms.Textarea(attrs={"rows": 2}),
                             max_length=1000, error_messages={"required": "Enter why the match is being reopened"})


class AllocateForm(VersionForm):
    allocated_to = forms.TypedChoiceField(label="Allocate to", coerce=int, empty_value=None, required=False, error_messages={
        "invalid_choice": "Choose someone from the list: a match is allocated only to an investigator or key contact "
                          "of its body who can work it",
    })

    def __init__(self, *args: Any, people: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["allocated_to"].choices = [("", "Nobody (unallocated)"), *people]


NOBODY = "nobody"
SEEN = re.compile(r"^(\d{1,12}):(\d{1,12})$")


class BulkAllocateForm(forms.Form):
    """The queue's "allocate selected": each ticked row carries its match and the version the
    user saw, as "id:version", so a match changed since the page was shown is left alone."""

    match = forms.MultipleChoiceField(label="Select matches", error_messages={
        "required": "Select at least one match to allocate",
    })
    allocated_to = forms.ChoiceField(label="Allocate selected matches to", error_messages={
        "required": "Select who to allocate the matches to",
        "invalid_choice": "Select who to allocate the matches to from the list",
    })

    def __init__(self, *args: Any, people: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["allocated_to"].choices = [("", "Choose a person"), *people, (NOBODY, "Nobody (unallocate them)")]
        self.fields["match"].valid_value = lambda value: bool(SEEN.match(str(value)))
        self.fields["match"].error_messages["invalid_choice"] = "The form was incomplete: reload the page and try again"

    def chosen(self) -> list[tuple[int, int]]:
        """(match id, version seen) of each ticked row, in the order shown, once each."""
        chosen: dict[int, int] = {}
        for value in self.cleaned_data["match"]:
            pk, version = str(value).split(":")  # valid_value let only "id:version" through
            chosen.setdefault(int(pk), int(version))
        return list(chosen.items())

    def person(self) -> int | None:
        """The user id chosen, or None to unallocate."""
        value = self.cleaned_data["allocated_to"]
        return None if value == NOBODY else int(value)


class QueueFilterForm(forms.Form):
    """The queue's GET filters; an invalid value is reported and ignored, never an error page."""

    job = forms.ChoiceField(label="Match job", required=False)
    # Open work first: without a status the queue shows new and in-progress matches.
    status = forms.ChoiceField(label="Status", required=False,
                               choices=[("open", "Open"), *Status.choices, ("all", "All")])
    band = forms.ChoiceField(label="Priority", required=False, choices=[("", "Any priority"), *Band.choices])
    allocated = forms.ChoiceField(label="Allocated to", required=False)
    body = forms.ChoiceField(label="Body", required=False)
    date_from = forms.DateField(label="First seen from", required=False, input_formats=["%Y-%m-%d", "%d/%m/%Y"],
                                help_text="For example, 2026-10-01",
                                error_messages={"invalid": "First seen from must be a date, like 2026-10-01"})
    date_to = forms.DateField(label="First seen to", required=False, input_formats=["%Y-%m-%d", "%d/%m/%Y"],
                              help_text="For example, 2026-10-31",
                              error_messages={"invalid": "First seen to must be a date, like 2026-10-31"})
    sort = forms.ChoiceField(label="Sort by", required=False, choices=[
        ("priority", "Priority, highest first"), ("newest", "Newest first"), ("oldest", "Oldest first"),
    ])
    search = forms.CharField(label="Search", required=False, max_length=100, strip=True,
                             help_text="A match number, a record's reference (a claim, account or employee number) or a name",
                             error_messages={"max_length": "Search must be 100 characters or fewer"})

    def __init__(self, *args: Any, jobs: list[tuple[str, str]], people: list[tuple[int, str]],
                 bodies: list[tuple[str, str]], oversees: bool = True, **kwargs: Any) -> None:
        """``oversees``: the user sees matches allocated to others (a key contact, auditor or
        superuser somewhere). Without it every match they see is theirs, so "Allocated to"
        would filter nothing and is left out (and so is never applied)."""
        super().__init__(*args, **kwargs)
        self.fields["job"].choices = [("", "Any job"), *jobs]
        if oversees:
            self.fields["allocated"].choices = [
                ("", "Anyone"), ("me", "Me"), ("unallocated", "Unallocated"), *[(str(i), n) for i, n in people],
            ]
        else:
            del self.fields["allocated"]
        self.fields["body"].choices = [("", "Any body"), *bodies]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "First seen to must be the same as or after first seen from")
        return data

    def filters(self) -> QueueFilters:
        """The valid filters (an invalid field is left out)."""
        self.is_valid()
        data = {k: v for k, v in getattr(self, "cleaned_data", {}).items() if k not in self.errors}
        sort = data.get("sort") or "priority"
        return QueueFilters(
            job=data.get("job", ""), status=data.get("status") or "open", band=data.get("band", ""),
            allocated=data.get("allocated", ""), body=data.get("body", ""),
            date_from=data.get("date_from"), date_to=data.get("date_to"),
            sort=sort if sort in SORTS else "priority", search=data.get("search", ""),
        )


class DashboardFilterForm(forms.Form):
    body = forms.ChoiceField(label="Body", required=False)
    exercise = forms.TypedChoiceField(label="Exercise", required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, bodies: list[tuple[str, str]], exercises: list[tuple[int, str]],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["body"].choices = [("", "All bodies"), *bodies]
        self.fields["exercise"].choices = [("", "All exercises"), *exercises]


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label="Action", required=False)
    actor = forms.CharField(label="Who (username)", required=False, max_length=150)
    date_from = forms.DateField(label="From", required=False, input_formats=["%Y-%m-%d", "%d/%m/%Y"],
                                help_text="For example, 2026-10-01",
                                error_messages={"invalid": "From must be a date, like 2026-10-01"})
    date_to = forms.DateField(label="To", required=False, input_formats=["%Y-%m-%d", "%d/%m/%Y"],
                              help_text="For example, 2026-10-31",
                              error_messages={"invalid": "To must be a date, like 2026-10-31"})

    def __init__(self, *args: Any, actions: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "Any action"), *sorted(((a, action_label(a)) for a in actions), key=lambda c: c[1])]


class BodyForm(forms.Form):
    code = forms.SlugField(label="Code", max_length=64, help_text="As in submissions, for example kingston",
                           error_messages={"required": "Enter the body's code", "invalid": "Code must be lower-case letters, numbers and hyphens"})
    name = forms.CharField(label="Name", max_length=200, error_messages={"required": "Enter the body's name"})

    def clean_code(self) -> str:
        from matching.casework.models import Body

        code = self.cleaned_data["code"].lower()
        if Body.objects.filter(code=code).exists():
            raise forms.ValidationError(f"A body with code {code} already exists")
        return code


# What a key contact is told of a username that is an account they may not add, whoever holds it.
TAKEN = "That username is taken: choose another, or ask a superuser to add an existing user to this body"


class AddMemberForm(forms.Form):
    """Add a user to a body: a new user with an initial password, or an existing user (passwords blank)."""

    username = forms.RegexField(label="Username", max_length=150, regex=r"^[\w.@+-]+$",
                                error_messages={"required": "Enter a username",
                                                "invalid": "Username may contain only letters, numbers and @ . + - _"})
    role = forms.ChoiceField(label="Role", choices=Role.choices, widget=forms.RadioSelect,
                             error_messages={"required": "Select a role"})
    password1 = forms.CharField(label="Initial password", required=False, strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                help_text=("At least 12 characters; not a common password, not all numbers, and not like the "
                                           "username. They will choose their own at first sign-in. Leave blank to add an existing user"))
    password2 = forms.CharField(label="Initial password again", required=False, strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    is_superuser = forms.BooleanField(label="Also make this user a superuser", required=False)

    def __init__(self, *args: Any, body: Any, may_grant_superuser: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.body = body
        if not may_grant_superuser:
            del self.fields["is_superuser"]
        self.by_superuser = may_grant_superuser
        self.existing: User | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        username = data.get("username")
        if not username:
            return data
        self.existing = User.objects.filter(username=username).first()
        p1, p2 = data.get("password1") or "", data.get("password2") or ""
        if self.existing is not None:
            if self.existing.memberships.filter(body=self.body).exists():
                self.add_error("username", f"{username} is already a member of {self.body.code}")
            elif p1 or p2:
                # Only one who may add the account learns that it exists (a key contact may
                # re-add a user of no other body; not another body's, nor a superuser).
                ours = not self.existing.is_superuser and not self.existing.memberships.exclude(body=self.body).exists()
                self.add_error("username", f"A user called {username} already exists: leave the passwords blank to add them"
                               if self.by_superuser or ours else TAKEN)
            return data
        if not p1:
            self.add_error("password1", "Enter an initial password")
            return data
        if p1 != p2:
            self.add_error("password2", "The two passwords do not match")
            return data
        try:
            password_validation.validate_password(p1, User(username=username))
        except forms.ValidationError as exc:
            for message in exc.messages:
                self.add_error("password1", message)
        return data


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices, error_messages={"required": "Select a role"})


class DeclarationForm(forms.Form):
    exercise = forms.TypedChoiceField(label="Exercise", coerce=int,
                                      error_messages={"required": "Select the exercise"})

    def __init__(self, *args: Any, exercises: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["exercise"].choices = [("", "Select an exercise"), *exercises]
