"""The queue commands (list, show, allocate, close) and export, acting as a named user.

``--as USERNAME`` names the person acting: every check is ``access.visible_matches`` or a
``lifecycle`` function with that user, exactly as in the review app, so a match they may
not see does not exist for them here either.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from matching.cli import Context, _workspace_option, cli, console, pass_ctx
from matching.cli_casework import _json_out, acting, casework, parse_pence, say
from matching.errors import UserError
from matching.wording import plural
from matching.workspace import replaced_atomically

AS_OPTION = click.option("--as", "as_user", required=True, help="The username of the person acting.")


def visible_match(user: Any, match_id: int) -> Any:
    """The match if ``user`` may see it; otherwise a UserError that does not say whether it exists."""
    from matching.casework.access import visible_matches

    match = visible_matches(user).select_related("owning_body", "allocated_to", "not_found_by").filter(pk=match_id).first()
    if match is None:
        raise UserError(f"No match {match_id} visible to {user.username}.")
    return match


def _filtered(user: Any, body: str | None, job: str | None, status: str | None, band: str | None,
              allocated_to: str | None = None) -> Any:
    """The matches ``user`` may see, chosen by the options given. A job, body or user that does
    not exist is refused with the nearest name, not answered with nothing."""
    from matching.casework.access import visible_matches
    from matching.casework.people import check_job, existing_user, get_body
    from matching.casework.queries import with_status_of

    check_job(job)
    if body:
        get_body(body)
    if allocated_to:
        existing_user(allocated_to)
    qs = visible_matches(user)
    if body:
        qs = qs.filter(owning_body__code=body)
    if job:
        qs = qs.filter(job=job)
    if status:
        qs = with_status_of(qs, status)
    if band:
        qs = qs.filter(priority_band=band)
    if allocated_to:
        qs = qs.filter(allocated_to__username=allocated_to)
    return qs


def _summary(m: Any, names: dict[str, str]) -> dict[str, Any]:
    from matching.casework.explained import explanation_of

    return {
        "id": m.pk, "job": m.job, "body": m.owning_body.code, "status": m.status,
        "band": m.priority_band, "priority_score": round(m.priority_score, 2),
        "allocated_to": m.allocated_to.username if m.allocated_to else None,
        "explanation": explanation_of(m, names),
        "times_seen": m.times_seen, "version": m.version, "not_found_by_run": m.not_found_by.run_id if m.not_found_by_id else None,
    }


STATUS = click.Choice(["open", "new", "in_progress", "closed", "all"])
BAND = click.Choice(["high", "medium", "low"])


@cli.group("queue")
def queue_group() -> None:
    """Inconsistencies requiring investigation, as one user sees them."""


@queue_group.command("list")
@click.option("--body", default=None)
@click.option("--job", default=None)
@click.option("--status", type=STATUS, default="open", show_default=True,
              help="open: new or in progress (the work still to do); all: any status.")
@click.option("--band", type=BAND, default=None)
@click.option("--allocated-to", default=None, help="Only matches allocated to this username.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True, help="At most this many matches (1 to 10,000).")
@click.option("--json", "as_json", is_flag=True)
@AS_OPTION
@_workspace_option
@pass_ctx
def queue_list(ctx: Context, body: str | None, job: str | None, status: str | None, band: str | None,
               allocated_to: str | None, limit: int, as_json: bool, as_user: str) -> None:
    """List the matches the user may see, highest priority first."""
    casework(ctx, create=False)
    user = acting(as_user)
    qs = _filtered(user, body, job, status, band, allocated_to)
    from matching.casework import audit
    from matching.casework.access import withheld
    from matching.casework.explained import body_names

    names = body_names()
    shown = list(qs.select_related("owning_body", "allocated_to", "not_found_by").order_by("-priority_score", "pk")[:limit])
    rows = [_summary(m, names) for m in shown]
    # Explanations name people: a listing is audited as the web queue's pages are.
    audit.record_listing(user, "view_queue", shown, detail={"via": "cli"})
    if as_json:
        _json_out(rows)
        return
    table = Table(title=f"Inconsistencies requiring investigation, as {user.username} sees them", title_justify="left")
    for col, key in (("id", "id"), ("job", "job"), ("body", "body"), ("status", "status"), ("band", "band"),
                     ("allocated to", "allocated_to")):
        widest = max([len(col), *(len(str(r[key] or "")) for r in rows)])
        table.add_column(col, no_wrap=True, min_width=widest, justify="right" if col == "id" else "left")
    table.add_column("explanation", overflow="fold", min_width=12)  # wraps in what is left
    for r in rows:
        table.add_row(str(r["id"]), r["job"], r["body"], r["status"], r["band"], r["allocated_to"] or "", r["explanation"])
    console.print(table)
    say(f"{len(rows)} shown of {qs.count():,}. A match is not evidence of fraud.")
    if not rows and (held := withheld(user)):
        say(f"{plural(held, 'match waits', 'matches wait')} for a declaration: a body's matches are released once it, "
            "and each body whose records they show, has recorded its declaration for the exercise (matching declare BODY).")


@queue_group.command("show")
@click.argument("match_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@AS_OPTION
@_workspace_option
@pass_ctx
def queue_show(ctx: Context, match_id: int, as_json: bool, as_user: str) -> None:
    """Show one match: both records, the explanation and its history (audited as a view)."""
    casework(ctx, create=False)
    from matching.casework import audit
    from matching.casework.models import Category, LinkageLabel
    from matching.casework.shown_money import as_pounds

    user = acting(as_user)
    m = visible_match(user, match_id)
    audit.record_view(user, m, detail={"via": "cli"})
    outcomes = [{"category": o.category, "case_reference": o.case_reference, "actual_pence": o.actual_pence,
                 "estimated_pence": o.estimated_pence, "linkage_label": o.linkage_label,
                 "recorded_by": o.recorded_by.username, "recorded_at": o.recorded_at.isoformat()}
                for o in m.outcomes.select_related("recorded_by")]
    from matching.casework.explained import body_names

    data = {**_summary(m, body_names()), "left": {"kind": m.left_kind, "body": m.left_body, "record_id": m.left_record_id, "record": m.left_record},
            "right": {"kind": m.right_kind, "body": m.right_body, "record_id": m.right_record_id, "record": m.right_record},
            "contributions": m.contributions, "outcomes": outcomes,
            "notes": [{"author": n.author.username, "text": n.text} for n in m.notes.select_related("author")]}
    if as_json:
        _json_out(data)
        return
    say(f"Match {m.pk}: {m.job_title} — an inconsistency requiring investigation", style="bold")
    say(f"{m.get_status_display()}, {m.priority_band} priority ({m.priority_score:.1f} of 100), owned by "
        f"{m.owning_body.code}, allocated to {data['allocated_to'] or 'nobody'}; version {m.version} "
        f"(queue close {m.pk} --version {m.version} ... closes it only if nothing has changed since)")
    say(data["explanation"], markup=False)
    if m.not_found_by is not None:
        from django.utils import timezone

        say(f"Not found since run {m.not_found_by.run_id} ({timezone.localtime(m.not_found_by.created_at):%-d %B %Y}): it "
            "looked for this pair and did not find it, and no run since has found it; a record may have been corrected. "
            "Check the current records before acting.", markup=False)
    if why := m.why_matched():
        say(f"Why they matched (each comparison's match weight, strongest first): {why}.", markup=False)
    fields = list(dict.fromkeys([*m.left_record, *m.right_record]))
    table = Table("field", f"{m.left_kind} {m.left_record_id}", f"{m.right_kind} {m.right_record_id}")
    for f in fields:
        table.add_row(f, str(m.left_record.get(f) or ""), str(m.right_record.get(f) or ""))
    console.print(table)
    for o in outcomes:
        amounts = "".join(f"; {kind} {as_pounds(o[key])}" for kind, key in (("actual", "actual_pence"), ("estimated", "estimated_pence"))
                          if o[key] is not None)
        reference = f", case {o['case_reference']}" if o["case_reference"] else ""
        say(f"Outcome: {dict(Category.choices).get(o['category'], o['category'])}{reference} "
            f"({dict(LinkageLabel.choices).get(o['linkage_label'], o['linkage_label']).lower()}{amounts}) "
            f"by {o['recorded_by']} at {o['recorded_at']}", markup=False)


@queue_group.command("allocate")
@click.argument("match_ids", nargs=-1, type=int)
@click.argument("username")
@click.option("--job", default=None, help="Instead of match ids: the matches of this job...")
@click.option("--band", type=BAND, default=None, help="...of this priority band...")
@click.option("--body", default=None, help="...owned by this body...")
@click.option("--unallocated", is_flag=True, help="...not yet allocated to anyone...")
@click.option("--limit", type=click.IntRange(1, 10_000), default=None,
              help="...the highest priority this many of them (1 to 10,000).")
@click.option("--json", "as_json", is_flag=True)
@AS_OPTION
@_workspace_option
@pass_ctx
def queue_allocate(ctx: Context, match_ids: tuple[int, ...], username: str, job: str | None, band: str | None,
                   body: str | None, unallocated: bool, limit: int | None, as_json: bool, as_user: str) -> None:
    """Allocate matches to USERNAME (an investigator or key contact of their body; "nobody"
    unallocates them): the MATCH_IDS named, or the open matches chosen by --job, --band,
    --body and --unallocated, highest priority first, at most --limit of them.

    A match that is closed, or that USERNAME may not be given, is left as it was and named;
    the rest are allocated. Exits 2 if any was left."""
    casework(ctx, create=False)
    from matching.casework import lifecycle
    from matching.casework.models import Status

    user = acting(as_user)
    choosing = job or band or body or unallocated or limit
    if match_ids and choosing:
        raise UserError("Name match ids, or choose matches with --job, --band, --body, --unallocated and --limit: not both.")
    if not match_ids and not choosing:
        raise UserError("Name the match ids to allocate, or choose them with --job, --band, --body, "
                        "--unallocated and --limit (for example: --job hb-to-payroll --band high --unallocated --limit 20).")
    to_user = None if username == "nobody" else acting(username)
    unseen: list[int] = []  # ids named that the user cannot see
    if match_ids:
        from matching.casework.access import visible_matches

        wanted = list(dict.fromkeys(match_ids))
        found = {m.pk: m for m in visible_matches(user).select_related("owning_body", "allocated_to").filter(pk__in=wanted)}
        matches = [found[pk] for pk in wanted if pk in found]
        unseen = [pk for pk in wanted if pk not in found]
    else:
        from matching.casework.access import body_ids_for

        qs = (_filtered(user, body, job, None, band).exclude(status=Status.CLOSED)
              .filter(owning_body_id__in=body_ids_for(user, "allocate_match")))  # only what they may allocate
        if unallocated:
            qs = qs.filter(allocated_to__isnull=True)
        qs = qs.select_related("owning_body", "allocated_to").order_by("-priority_score", "pk")
        matches = list(qs[:limit] if limit else qs)
    done = lifecycle.allocate_many([(m, m.version) for m in matches], to_user, user)
    not_visible = {pk: f"No match {pk} visible to {user.username}." for pk in unseen}
    left = [reason for _, reason in done.left] + list(not_visible.values())
    if as_json:
        _json_out({"allocated": [m.pk for m in done.allocated], "unchanged": [m.pk for m in done.unchanged],
                   "not_allocated": [{"id": m.pk, "reason": reason} for m, reason in done.left]
                   + [{"id": pk, "reason": reason} for pk, reason in not_visible.items()]})
    else:
        target = f"allocated to {username}" if to_user else "unallocated"
        if not matches and not unseen:
            say("No open match fits those options: nothing was allocated.")
        if len(done.allocated) == 1:
            say(f"Match {done.allocated[0].pk} {target}.")
        elif done.allocated:
            ids = ", ".join(str(m.pk) for m in done.allocated[:20]) + (", ..." if len(done.allocated) > 20 else "")
            say(f"{len(done.allocated):,} matches {target}: {ids}.")
        if done.unchanged:
            say(f"{len(done.unchanged):,} already {target}: " + ", ".join(str(m.pk) for m in done.unchanged[:20]) + ".")
    asked = len(matches) + len(unseen)
    if asked == 1 and left:
        raise UserError(left[0])
    if left:
        raise UserError(f"{len(left):,} of {asked:,} matches were not allocated:\n" + "\n".join(left))


@queue_group.command("close")
@click.argument("match_id", type=int)
@click.option("--outcome", required=True, type=click.Choice(["no_issue", "error", "fraud"]))
@click.option("--linkage", required=True, type=click.Choice(["same", "not_same", "not_sure"]),
              help="Do the two records describe the same person (for a property job such as "
                   "spd-to-electoral-register, the same property)? The analysts' label.")
@click.option("--case-reference", default="", help="Required when the outcome is fraud.")
@click.option("--actual", default=None, help="Actual amount, e.g. £1,234.56.")
@click.option("--estimated", default=None, help="Estimated amount, e.g. 1234.56.")
@click.option("--basis", default="", help="The basis of the estimate.")
@click.option("--note", default="")
@click.option("--version", "seen_version", type=click.IntRange(1), default=None,
              help="The match's version as you reviewed it (queue show prints it): the outcome is refused if "
                   "the match has changed since (a newer run's records, another person's change). Without it, "
                   "the outcome is recorded against the match as it is now.")
@AS_OPTION
@_workspace_option
@pass_ctx
def queue_close(ctx: Context, match_id: int, outcome: str, linkage: str, case_reference: str,
                actual: str | None, estimated: str | None, basis: str, note: str, seen_version: int | None,
                as_user: str) -> None:
    """Record a person's outcome for a match and close it."""
    casework(ctx, create=False)
    from matching.casework import lifecycle

    user = acting(as_user)
    m = visible_match(user, match_id)
    data = lifecycle.OutcomeInput(
        category=outcome, linkage_label=linkage, case_reference=case_reference,
        actual_pence=parse_pence(actual, "--actual"), estimated_pence=parse_pence(estimated, "--estimated"),
        estimate_basis=basis, note=note,
    )
    try:
        lifecycle.record_outcome(m, user, data, m.version if seen_version is None else seen_version)
    except lifecycle.Conflict as exc:
        now = f"it is now version {exc.match.version}, {exc.match.get_status_display().lower()}"
        if seen_version is None:  # changed between reading it and recording the outcome
            what = f"Match {m.pk} {exc.changed} as the outcome was being recorded; {now}."
        elif seen_version > m.version:
            what = f"Match {m.pk} has never been version {seen_version}: {now}."
        else:
            what = f"Match {m.pk} {exc.changed} since version {seen_version}, which you reviewed; {now}."
        raise UserError(
            f"{what} Nothing was recorded.\n"
            f"  Fix: review it again (matching queue show {m.pk} --as {as_user}) and, if your outcome still applies, "
            "close it with the version shown."
        ) from None
    except lifecycle.InvalidOutcome as exc:  # every problem at once, by the options that carry them
        options = {"category": "--outcome", "linkage_label": "--linkage", "case_reference": "--case-reference",
                   "actual_pence": "--actual", "estimated_pence": "--estimated", "estimate_basis": "--basis", "note": "--note"}
        raise UserError(f"Match {m.pk} was not closed:\n" + "\n".join(
            f"  {options.get(field, field)}: {message}." for field, message in exc.errors.items())) from None
    say(f"Match {m.pk} closed: {outcome}.")


@cli.command("export")
@click.option("--format", "fmt", required=True, type=click.Choice(["csv", "xlsx"]))
@click.option("--out", required=True, type=click.Path(dir_okay=False))
@click.option("--body", default=None)
@click.option("--job", default=None)
@click.option("--status", type=STATUS, default=None, help="open: new or in progress; all (as without it): any status.")
@click.option("--band", type=BAND, default=None)
@AS_OPTION
@_workspace_option
@pass_ctx
def export_command(ctx: Context, fmt: str, out: str, body: str | None, job: str | None,
                   status: str | None, band: str | None, as_user: str) -> None:
    """Export the matches the user may export to a protectively marked CSV or XLSX file."""
    casework(ctx, create=False)
    from matching.casework.access import allowed, bodies_for
    from matching.casework.export import export_matches
    from matching.casework.people import get_body

    user = acting(as_user)
    target = get_body(body) if body else None
    if not allowed(user, "export", target):
        where = f" for {body}" if body else ""
        raise UserError(f"{user.username} may not export matches{where}: only key contacts, auditors and superusers may.")
    qs = _filtered(user, body, job, status, band).filter(owning_body__in=bodies_for(user, "export"))
    label = (target.name or target.code) if target else "every body " + user.username + " may export"
    path = Path(out)
    with replaced_atomically(path) as tmp, tmp.open("wb") as fh:
        rows = export_matches(user, qs, fmt, fh, body_label=label,
                              filters={"body": body, "job": job, "status": status, "band": band})
    say(f"Exported {plural(rows, 'inconsistency', 'inconsistencies')} requiring investigation to {path} (protectively marked).")
