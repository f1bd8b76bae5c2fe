"""The casework commands: publish runs, serve the review app, administer bodies and users,
work the queue, export, verify the audit trail, purge, and answer subject access requests.

Each command is a thin shell over ``matching.casework``: it starts Django for the
workspace, finds the acting user (``--as``), calls one function and prints its result.
"""

from __future__ import annotations

import getpass
import ipaddress
import json
import os
import sys
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from matching.cli import (
    DATE,
    Context,
    _workspace_option,
    cli,
    console,
    err_console,
    pass_ctx,
    print_counts,
)
from matching.errors import UserError
from matching.wording import plural
from matching.workspace import read_run_manifest, write_json_atomic


def command_line_actor() -> str:
    """Who ran an administrative command, for the audit trail: the operating-system account,
    marked as such (shell access to the server is the administrator's; the queue commands
    act as a named case-store user with --as)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, as in some containers
        user = f"uid {os.getuid()}"
    return f"{user} (command line)"

def casework(ctx: Context, *, create: bool = True) -> None:
    """Start Django on the workspace's case store (and bring its schema up to date).
    ``create=False``: a command that reads the case store, or acts as one of its users, refuses
    a workspace that does not exist instead of making an empty one to find nothing in."""
    from matching.casework.setup import use_workspace

    use_workspace(ctx.workspace.root, create=create)


def existing_workspace(ctx: Context, so: str) -> None:
    """Refuse a workspace folder that does not exist (a mistyped --workspace) before a command
    that needs its runs or exercises makes a case store there."""
    if not ctx.workspace.root.is_dir():
        raise UserError(
            f"{ctx.workspace.root}: there is no workspace there, so {so}.\n"
            "  Fix: give the workspace the runs were made in (--workspace, or $MATCHING_WORKSPACE)."
        )


def acting(username: str) -> Any:
    from matching.casework.people import get_user

    return get_user(username)


def parse_pence(text: str | None, option: str) -> int | None:
    """"1234.56" or "£1,234.56" as pence, as the web form reads it; None for no value;
    UserError for anything else."""
    from matching.casework.shown_money import NotPounds, typed_pounds

    try:
        return typed_pounds(text)
    except NotPounds as exc:
        if exc.negative:
            raise UserError(f"{option} '{text}': an amount must be £0 or more.") from None
        raise UserError(
            f"{option} '{text}' is not an amount of money: give pounds and pence, e.g. 1234.56 or £1,234.56 "
            "(commas only between thousands)."
        ) from None


def say(text: str, **kwargs: Any) -> None:
    """Print a sentence unwrapped, so scripts and tests see it whole whatever the width."""
    console.print(text, soft_wrap=True, **kwargs)


def _json_out(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


# -- publish and serve ---------------------------------------------------------------------


def publish_runs(ctx: Context, run_ids: list[str], as_json: bool, skip_older: bool = False) -> None:
    """Publish each run into the case store and print what each did (shared with `run --publish`).
    ``skip_older`` (``publish --all``): a run older than one of its job already published is
    passed over and named, not a failure."""
    casework(ctx)

    from matching.casework.publish import OlderRun, publish

    results = []
    older: list[str] = []
    failure: UserError | None = None
    for n, run_id in enumerate(run_ids):
        try:
            results.append(publish(ctx.workspace, run_id, actor=command_line_actor()))
        except OlderRun:
            if not skip_older:
                raise
            older.append(run_id)
        except UserError as exc:
            # Runs publish oldest first (a later one replaces what an earlier one queued), so the
            # first that fails stops the rest; those before it are published, and are shown.
            if not results:
                raise
            rest = run_ids[n:]
            failure = UserError(f"{exc.message}\n  Not published: {', '.join(rest)}. The {len(results)} run(s) before it were published.")
            break
    if as_json:
        _json_out([r.as_dict() for r in results])
    elif results:
        _published_table(results)
    if older:  # (on stderr: --json's output stays JSON)
        err_console.print(f"Not published, as older than a run of the same job published already (they would put older "
                          f"records back over newer ones): {', '.join(older)}.", style="yellow", soft_wrap=True)
    if failure:
        raise failure


def publish_counts(r: Any) -> str:
    """What publishing a run did, in a line that accounts for each inconsistency (``run --publish``)."""
    counts = [(r.new, "new"), (r.updated, "updated"), (r.seen_again, "seen again"), (r.reopened, "reopened")]
    counts += [(n, word) for n, word in ((r.set_aside, "set aside"), (r.not_found, "no longer found")) if n]
    return ", ".join(f"{n:,} {word}" for n, word in counts)


def _published_table(results: list[Any]) -> None:
    columns = ("found", "new", "updated", "seen again", "reopened", "set aside", "no longer found", "seconds")
    rows = [(r.job, f"{r.inconsistencies:,}", f"{r.new:,}", f"{r.updated:,}", f"{r.seen_again:,}",
             f"{r.reopened:,}", f"{r.set_aside:,}", f"{r.not_found:,}", f"{r.seconds:.1f}") for r in results]
    print_counts("Published: inconsistencies by what publishing did", columns, rows,
                 lambda r: f"{r[0]}: " + ", ".join(f"{n} {c}" for n, c in zip(r[1:-1], columns[:-1], strict=True)) + f" ({r[-1]} s)")
    say("Runs published: " + ", ".join(r.run_id for r in results))
    say("Each inconsistency requires investigation; a match is not evidence of fraud.")
    if any(r.not_found for r in results):
        say("No longer found: open matches a run looked for and did not find (a record may have been corrected); "
            "each says so on its page. Check the current records before acting on them.")


@cli.command("publish")
@click.argument("run_ids", nargs=-1)
@click.option("--all", "all_runs", is_flag=True, help="Publish every unpublished run, oldest first.")
@click.option("--json", "as_json", is_flag=True, help="Print each run's counts as JSON.")
@_workspace_option
@pass_ctx
def publish_command(ctx: Context, run_ids: tuple[str, ...], all_runs: bool, as_json: bool) -> None:
    """Publish RUN-ID(s), or --all unpublished runs, into the case store for review."""
    existing_workspace(ctx, "no runs to publish")
    if all_runs and not ctx.workspace.run_folders():
        say(f"Nothing to publish: there are no runs in {ctx.workspace.runs} yet.\n  Start one: matching run JOB")
        return
    casework(ctx)

    from matching.casework.publish import unpublished, without_manifest

    ids = unpublished(ctx.workspace) if all_runs else list(run_ids)
    unfinished = without_manifest(ctx.workspace) if all_runs else []
    if unfinished:
        err_console.print(
            f"Not published, as their folders have no manifest.json (a run that did not finish, or a damaged bundle): "
            f"{', '.join(unfinished)}.\n  Fix: run their jobs again (matching run JOB) and remove these folders.",
            style="yellow", soft_wrap=True)
    if not ids:
        if all_runs:
            say("Nothing to publish: every finished run in the workspace is already published." if unfinished
                else "Nothing to publish: every run in the workspace is already published.")
            return
        raise UserError("Name at least one RUN-ID, or --all.")
    publish_runs(ctx, ids, as_json, skip_older=all_runs)


# -- runs ----------------------------------------------------------------------------------


def _run_rows(ctx: Context, jobs: tuple[str, ...]) -> tuple[list[dict[str, Any]], list[str]]:
    """The finished runs in the workspace, newest first (of ``jobs`` if any are named), and the
    run folders whose manifest cannot be read."""
    rows: list[dict[str, Any]] = []
    damaged: list[str] = []
    for folder in reversed(ctx.workspace.run_folders()):
        manifest = read_run_manifest(folder)
        if manifest is None:
            damaged.append(folder.name)
            continue
        if jobs and manifest.get("job") not in jobs:
            continue
        counts = manifest.get("counts") or {}
        rows.append({
            "run_id": folder.name, "job": manifest.get("job"), "created_at": manifest.get("created_at"),
            "as_at": manifest.get("as_at"), "threshold": manifest.get("threshold"), "body": manifest.get("body"),
            "backend": manifest.get("backend", "duckdb"), "pairs": counts.get("pairs"),
            "inconsistencies": counts.get("inconsistencies"), "by_band": counts.get("by_band"),
            "set_aside": counts.get("inconsistencies_set_aside"), "review": manifest.get("review", True) is not False,
            "notes": manifest.get("notes") or [],
        })
    return rows, damaged


def _known_jobs(jobs: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """Each job named has a config or a run among ``rows`` (the runs of the jobs named); else a
    UserError with the nearest name (a mistyped job would otherwise be answered "No runs of ...")."""
    from matching.jobs.config import list_jobs
    from matching.wording import did_you_mean

    configured = list_jobs()
    for job in jobs:
        if job not in configured and not any(r["job"] == job for r in rows):
            raise UserError(f"Unknown job '{job}': no job config and no run of it in the workspace."
                            + did_you_mean(job, configured))


@cli.command("runs")
@click.argument("jobs", nargs=-1)
@click.option("--unpublished", is_flag=True, help="Only the runs for review not yet published.")
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
@_workspace_option
@pass_ctx
def runs_command(ctx: Context, jobs: tuple[str, ...], unpublished: bool, as_json: bool) -> None:
    """List the finished runs in the workspace, newest first (of JOB(s) if named): what each
    found, what it set aside, and whether it is published for review."""
    if not ctx.workspace.root.is_dir():  # nothing there yet, and nothing made
        if as_json:
            _json_out([])
        else:
            say(f"No runs in {ctx.workspace.runs} (there is no workspace there yet).\n  Start one: matching run JOB")
        return
    rows, damaged = _run_rows(ctx, jobs)
    _known_jobs(jobs, rows)
    try:
        casework(ctx, create=False)
    except UserError:  # the workspace has no case store yet: nothing has been published
        published: set[str] = set()
    else:
        from matching.casework.models import Run

        published = set(Run.objects.filter(run_id__in=[r["run_id"] for r in rows]).values_list("run_id", flat=True))
    for r in rows:
        r["published"] = r["run_id"] in published
    if unpublished:
        rows = [r for r in rows if r["review"] and not r["published"]]
    if as_json:
        _json_out(rows)
    elif rows:
        # A run id is long: each run is a line to copy it from, and a line of what it found.
        say("Runs, newest first:")
        for r in rows:
            status = "published" if r["published"] else "not published" if r["review"] else "for analysis (not for review)"
            bands = r["by_band"]
            found = [plural(r["inconsistencies"], "inconsistency", "inconsistencies") if r["inconsistencies"] is not None
                     else "inconsistencies not counted"]
            if not r["review"]:
                found = []  # an analysts' link keeps linked pairs (below), not inconsistencies
            elif bands:
                found[0] += " (" + ", ".join(f"{bands.get(b, 0):,} {b}" for b in ("high", "medium", "low")) + ")"
            if r["set_aside"] is not None:
                found.append(f"{r['set_aside']:,} set aside")
            if r["pairs"] is not None:
                found.append(f"{r['pairs']:,} linked pairs")
            say(f"{r['run_id']}  {status}")
            say(f"  as at {r['as_at'] or '?'}, threshold {r['threshold']}: " + ", ".join(found))
            for note in r["notes"]:  # e.g. a submission ingested without a column the job compares
                say(f"  Note: {note}", style="yellow")
    elif unpublished:
        say(f"Nothing to publish: every run{' of ' + ', '.join(jobs) if jobs else ''} in {ctx.workspace.runs} is published.")
    elif jobs:
        say(f"No runs of {', '.join(jobs)} in {ctx.workspace.runs}.")
    else:
        say(f"No runs in {ctx.workspace.runs}.\n  Start one: matching run JOB")
    for name in damaged:
        err_console.print(f"Skipped {ctx.workspace.runs / name}: its manifest.json cannot be read (a damaged or foreign folder).", soft_wrap=True)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--threads", type=int, default=8, show_default=True)
@click.option("--insecure-http", is_flag=True, help="Listen beyond this machine without HTTPS (not for real data).")
@click.option("--trusted-proxy", envvar="MATCHING_TRUSTED_PROXY", default=None,
              help="With MATCHING_HTTPS=1: the address of the TLS proxy in front, whose X-Forwarded-Proto is believed "
                   "(default 127.0.0.1, a proxy on this machine; or $MATCHING_TRUSTED_PROXY).")
@_workspace_option
@pass_ctx
def serve_command(ctx: Context, host: str, port: int, threads: int, insecure_http: bool, trusted_proxy: str | None) -> None:
    """Serve the review web app with waitress."""
    https = os.environ.get("MATCHING_HTTPS", "").strip().lower() in {"1", "true", "yes", "on"}
    if trusted_proxy and not https:
        raise UserError("--trusted-proxy names the TLS proxy in front of the app: set MATCHING_HTTPS=1 as well.")
    if not _loopback(host) and not (https or insecure_http):
        raise UserError(
            f"Refusing to listen on {host} over plain HTTP: passwords and personal data would cross "
            "the network unencrypted. Put the app behind a TLS proxy and set MATCHING_HTTPS=1, or "
            "say --insecure-http for a test network."
        )
    casework(ctx)
    import waitress

    from matching.web.wsgi import application

    shown = f"[{host}]" if ":" in host else host
    say(f"Serving the review app at http://{shown}:{port}/ — Ctrl-C to stop")
    waitress.serve(application, host=host, port=port, threads=threads, **waitress_proxy(https, trusted_proxy))


def waitress_proxy(https: bool, trusted_proxy: str | None) -> dict[str, Any]:
    """Under HTTPS the app sits behind a TLS proxy: waitress must believe that proxy's (and
    only that proxy's) X-Forwarded-Proto, or it strips the header, Django sees every request
    as plain HTTP and redirects it to HTTPS for ever; and its X-Forwarded-For, the client's
    address."""
    if not https:
        return {}
    # X-Forwarded-For too: the sign-in throttle counts failures by the client's address, and
    # without it every client would be the proxy's (one address's failures would stop everyone).
    return {"trusted_proxy": trusted_proxy or "127.0.0.1", "trusted_proxy_count": 1,
            "trusted_proxy_headers": {"x-forwarded-proto", "x-forwarded-for"}, "clear_untrusted_proxy_headers": True}


# -- bodies, users, declarations -----------------------------------------------------------


@cli.group("bodies")
def bodies_group() -> None:
    """The bodies taking part."""


@bodies_group.command("add")
@click.argument("code")
@click.option("--name", default=None, help="The body's full name.")
@_workspace_option
@pass_ctx
def bodies_add(ctx: Context, code: str, name: str | None) -> None:
    """Add body CODE, or rename it."""
    casework(ctx)

    from matching.casework.people import add_body

    body, what = add_body(code, name, actor=command_line_actor())
    say(f"Body {body.code} ({body.name}): {what}.")


@bodies_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@_workspace_option
@pass_ctx
def bodies_list(ctx: Context, as_json: bool) -> None:
    """List the bodies."""
    casework(ctx, create=False)

    from matching.casework.models import Body

    rows = [{"code": b.code, "name": b.name, "created_at": b.created_at.isoformat(timespec="seconds")}
            for b in Body.objects.all()]
    if as_json:
        _json_out(rows)
        return
    table = Table("code", "name", title="Bodies", title_justify="left")
    for r in rows:
        table.add_row(r["code"], r["name"])
    console.print(table)


@cli.group("users")
def users_group() -> None:
    """The people who review matches, and their roles."""


@users_group.command("add")
@click.argument("username")
@click.option("--body", required=True, help="The body the user works for.")
@click.option("--role", required=True, type=click.Choice(["key_contact", "investigator", "auditor"]))
@click.option("--superuser", is_flag=True, help="Also administer every body.")
@click.option("--email", default="")
@click.option("--password-is-theirs", is_flag=True,
              help="The user typed the password themselves: do not make them change it at first sign-in.")
@_workspace_option
@pass_ctx
def users_add(ctx: Context, username: str, body: str, role: str, superuser: bool, email: str, password_is_theirs: bool) -> None:
    """Add USERNAME with ROLE at BODY (password from $MATCHING_PASSWORD or a prompt). A new
    user must choose their own password at first sign-in, unless --password-is-theirs."""
    casework(ctx)

    from django.contrib.auth import get_user_model

    from matching.casework.people import add_user, get_body

    get_body(body)  # an unknown body is reported before asking for a password
    password = None
    if not get_user_model().objects.filter(username=username).exists():
        password = os.environ.get("MATCHING_PASSWORD") or click.prompt(
            f"Password for {username}", hide_input=True, confirmation_prompt=True)
    added = add_user(username, body, role, password, actor=command_line_actor(), superuser=superuser, email=email,
                     must_change_password=not password_is_theirs)
    verb = "Added" if added.created else "Updated"
    say(f"{verb} {added.username}: {added.role} at {added.body}.")
    if added.returned:
        from matching.casework.lifecycle import returned_to_queue

        say(returned_to_queue(added.returned, added.username) + ": they can no longer work them.")


@users_group.command("set-password")
@click.argument("username")
@click.option("--password-is-theirs", is_flag=True,
              help="The user typed the password themselves: do not make them change it at their next sign-in.")
@_workspace_option
@pass_ctx
def users_set_password(ctx: Context, username: str, password_is_theirs: bool) -> None:
    """Give USERNAME a new password (from $MATCHING_PASSWORD or a prompt), to be changed at
    their next sign-in; a lockout for failed sign-ins ends. Audited, never the password."""
    casework(ctx, create=False)
    from matching.casework.people import existing_user, set_password

    existing_user(username)  # before asking for a password
    password = os.environ.get("MATCHING_PASSWORD") or click.prompt(
        f"New password for {username}", hide_input=True, confirmation_prompt=True)
    cleared = set_password(username, password, actor=command_line_actor(), must_change_password=not password_is_theirs)
    then = "" if password_is_theirs else " They must choose their own at their next sign-in."
    unlocked = f" {plural(cleared, 'failed sign-in')} cleared." if cleared else ""
    say(f"Password set for {username}.{then}{unlocked}")


@users_group.command("list")
@click.option("--body", default=None)
@click.option("--json", "as_json", is_flag=True)
@_workspace_option
@pass_ctx
def users_list(ctx: Context, body: str | None, as_json: bool) -> None:
    """List users and their roles (at one --body)."""
    casework(ctx, create=False)

    from matching.casework.people import list_users

    rows = list_users(body)
    if as_json:
        _json_out(rows)
        return
    table = Table("username", "body", "role", "superuser", "active", title="Users", title_justify="left")
    for r in rows:
        table.add_row(r["username"], r["body"], r["role"], "yes" if r["superuser"] else "", "yes" if r["active"] else "no")
    console.print(table)


@cli.command("declare")
@click.argument("body")
@click.option("--exercise", type=DATE, default=None, help="The exercise's as-at date (default: the latest).")
@click.option("--by", "by", default=None, help="Who made the declaration (default: your login name).")
@_workspace_option
@pass_ctx
def declare_command(ctx: Context, body: str, exercise: Any, by: str | None) -> None:
    """Record BODY's privacy-notice declaration: its matches are released for review after it,
    and so are other bodies' matches that show its records, once those bodies have declared too."""
    existing_workspace(ctx, "no exercise to declare for")
    casework(ctx)

    import getpass

    from matching.casework.people import declare

    who = by or getpass.getuser()
    declaration, created = declare(body, exercise.date() if exercise else None, who, actor=command_line_actor())
    state = "Recorded" if created else "Already recorded"
    say(f"{state}: {body}'s declaration for the exercise of {declaration.exercise.as_at:%-d %B %Y} "
                  f"by {declaration.declared_by}.")


# -- audit, purge, subject access ----------------------------------------------------------


@cli.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
@click.option("--anchor", default=None, metavar="EVENT:HASH",
              help="An anchor an earlier verify printed: also check that no event up to it was removed or rewritten.")
@click.option("--json", "as_json", is_flag=True)
@_workspace_option
@pass_ctx
def audit_verify(ctx: Context, anchor: str | None, as_json: bool) -> None:
    """Check that no audit event was changed, removed or reordered, and print the trail's
    anchor: kept outside the case store, it shows later that no event was removed from the
    end or rewritten (which the chain alone cannot show)."""
    casework(ctx, create=False)
    from matching.casework import audit

    try:
        expected = audit.parse_anchor(anchor) if anchor is not None else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--anchor") from None
    result = audit.verify(expected)
    if as_json:
        _json_out({"ok": result.ok, "events": result.events, "problem": result.problem, "seq": result.seq,
                   "anchor": result.anchor})
    elif result.ok:
        say(f"Audit trail intact: {result.events:,} events" + (f", the anchor's event {expected[0]:,} among them" if expected else ""))
        if result.anchor:
            say(f"Anchor: {result.anchor}")
            say("Keep the anchor outside the case store (with the exercise's papers, say): "
                "'matching audit verify --anchor' with it later shows that no event up to it was removed or rewritten.")
    else:
        err_console.print(f"Audit trail BROKEN: {result.problem}.", soft_wrap=True)
    if not result.ok:
        sys.exit(1)


@cli.command("purge")
@click.option("--before", required=True, type=DATE, help="Delete exercises and submissions dated before this day.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--dry-run", is_flag=True, help="Only say what would be deleted.")
@click.option("--json", "as_json", is_flag=True)
@_workspace_option
@pass_ctx
def purge_command(ctx: Context, before: Any, yes: bool, dry_run: bool, as_json: bool) -> None:
    """Delete data and matches past their retention: exercises and submissions before a date."""
    casework(ctx, create=False)

    from matching.casework.retention import purge

    day = before.date()
    plan = purge(ctx.workspace, day, command_line_actor(), dry_run=True)
    if not any(plan.counts.values()) and not any(plan.file_counts().values()):
        # Nothing to delete: nothing to confirm, and no deletion for the audit trail to record.
        if as_json:
            _json_out(plan.as_dict())
            return
        say(f"Nothing to purge: nothing held is dated before {day:%-d %B %Y}.")
        _not_purged(plan)
        return
    if not dry_run and not yes:
        _print_purge(plan, as_json=False)
        click.confirm("Delete all of this permanently?", abort=True)
    result = plan if dry_run else purge(ctx.workspace, day, command_line_actor())
    _print_purge(result, as_json)


def _print_purge(result: Any, as_json: bool) -> None:
    if as_json:
        _json_out(result.as_dict())
        return
    verb = "Would delete" if result.dry_run else "Deleted"
    say(f"{verb}: everything dated before {result.before:%-d %B %Y}")
    table = Table("", "count")
    for name, n in {**result.counts, **result.file_counts()}.items():
        table.add_row(name.replace("_", " "), f"{n:,}")
    console.print(table)
    if not result.dry_run:
        say("The deletion is recorded in the audit trail.")
    _not_purged(result)


def _not_purged(result: Any) -> None:
    if result.not_managed:
        shown = ", ".join(str(p) for p in result.not_managed[:10]) + (f" and {len(result.not_managed) - 10:,} more" if len(result.not_managed) > 10 else "")
        n = len(result.not_managed)
        say(f"Not purged: {n:,} file{'' if n == 1 else 's'} in the workspace that no exercise accounts for ({shown}). "
            "Notebooks' charts and exports saved there may hold personal data: delete those past retention.",
            style="yellow", markup=False)


@cli.command("subject-access")
@click.option("--surname", required=True)
@click.option("--dob", required=True, type=DATE, help="Date of birth, YYYY-MM-DD.")
@click.option("--forename", default=None)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write the full report to this JSON file.")
@click.option("--as", "as_user", required=True, help="The superuser or key contact answering the request.")
@_workspace_option
@pass_ctx
def subject_access_command(ctx: Context, surname: str, dob: Any, forename: str | None, out: str | None, as_user: str) -> None:
    """Find everything held about one person: dataset rows (as the record's person, a partner,
    joint liable person, pupil or parent), rejected rows that may be them, matches and run
    bundles."""
    casework(ctx, create=False)

    from matching.casework.subject_access import subject_access

    report = subject_access(ctx.workspace, acting(as_user), surname=surname, dob=dob.date().isoformat(), forename=forename)
    table = Table("where", "kind", "body", "records", title="Held about this person", title_justify="left")
    for d in report.datasets:
        table.add_row(d["submission_id"], d["kind"], d["body"], f"{len(d['rows']):,}")
    for d in report.rejected:
        table.add_row(f"{d['submission_id']} (rejected rows)", d["kind"], d["body"], f"{len(d['rows']):,} that may be the person")
    for m in report.matches:
        table.add_row(f"match {m['match_id']} ({m['job']})", "match", m["owning_body"],
                      f"{plural(len(m['outcomes']), 'outcome')}, {plural(len(m['notes']), 'note')}")
    for r in report.runs:
        held = ", ".join(plural(len(r[k]), one, many) for k, one, many in (
            ("pairs", "pair", None), ("inconsistencies", "inconsistency", "inconsistencies"), ("set_aside", "set aside", "set aside")) if k in r)
        table.add_row(f"run {r['run_id']}", "run bundle", "", held)
    console.print(table)
    rejected = sum(len(d["rows"]) for d in report.rejected)
    say(f"{plural(report.dataset_rows, 'dataset row')} in {plural(len(report.datasets), 'file')}; "
        f"{plural(len(report.matches), 'match', 'matches')}; {plural(len(report.runs), 'run bundle')}."
        + (f" {plural(rejected, 'rejected row')} may be the person: read {'it' if rejected == 1 else 'them'}." if rejected else ""))
    if out:
        write_json_atomic(Path(out), report.as_dict())
        say(f"Full report written to {out}")


from matching import cli_labels, cli_queue  # noqa: E402,F401  (register labels, queue and export)
