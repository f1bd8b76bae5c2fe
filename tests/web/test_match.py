"""The match page: both records side by side, why they matched, its history, and the forms."""

from __future__ import annotations

import re

from django.test import Client

from matching.casework.models import AuditEvent, Match, Outcome, Status


def page(client: Client, match: Match) -> str:
    response = client.get(f"/matches/{match.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def version_in(html: str, action: str) -> str:
    form = html[html.index(f"/{action}/") :]
    return re.search(r'name="version" value="(\d+)"', form).group(1)


def test_shows_both_records_side_by_side_with_differences_and_masks(casework, as_user):
    match = casework.matches["kingston"][0]
    html = page(as_user("k_inv"), match)
    assert match.explanation in html
    assert ("A match is not evidence of fraud. It is an inconsistency between two records that requires "
            "investigation; only a person records an outcome.") in html
    assert "Housing benefit — Royal Borough of Kingston upon Thames" in html
    assert "Deceased persons — dwp" in html
    address = re.search(r'<th scope="row" class="govuk-table__header">Address line 1</th>(.*?)</tr>', html, re.S).group(1)
    assert address.count('class="govuk-table__cell app-diff"') == 2
    assert address.count("(differs)") == 2
    assert "0 WHARF RD" in address and "0 WHARF ROAD" in address
    surname = re.search(r">Surname</th>(.*?)</tr>", html, re.S).group(1)
    assert "app-diff" not in surname
    ni = re.search(r">NI number</th>(.*?)</tr>", html, re.S).group(1)
    assert ni.count('class="app-masked"') == 2 and "masked: used for matching only" in ni
    assert "Date of birth" in html and "Claim ref" in html
    assert "Not held" in html  # death_ref has no claim-side value


def test_shows_the_weight_chart_with_a_text_alternative(casework, as_user):
    html = page(as_user("k_kc"), casework.matches["kingston"][0])
    svg = html[html.index('<svg class="app-chart"') : html.index("</svg>")]
    assert '<title id="chart-title">' in svg and "<desc" in svg
    assert svg.count("app-chart__bar--positive") == 2 and svg.count("app-chart__bar--negative") == 1
    assert "NI number: exact match" in svg and "+13.4" in svg and "-2.1" in svg
    assert 'class="app-chart__axis"' in svg
    assert "Show the comparisons as a table" in html
    assert "style=" not in html and "<style" not in html


def test_shows_status_probability_and_seen_counts(casework, as_user):
    html = page(as_user("k_kc"), casework.matches["kingston"][0])
    for text in ("Match probability", "0.9999", "Times seen", "Seen again since closed", "Times reopened",
                 'id="allocated-to">k_inv<'):
        assert text in html


def test_viewing_is_audited(casework, as_user):
    match = casework.matches["kingston"][0]
    page(as_user("k_inv"), match)
    event = AuditEvent.objects.filter(action="view", object_type="match", object_id=str(match.pk)).get()
    assert (event.actor, event.body) == ("k_inv", "kingston")


def test_only_usable_forms_are_shown(casework, as_user):
    match = casework.matches["kingston"][0]
    inv = page(as_user("k_inv"), match)
    assert "Record the outcome" in inv and "Start work" in inv and "Add note" in inv
    assert "Save allocation" not in inv and "Reopen match" not in inv
    kc = page(as_user("k_kc"), match)
    assert "Save allocation" in kc and "Record the outcome" in kc
    aud = page(as_user("k_aud"), match)
    assert "<form method=\"post\" action=\"/matches/" not in aud
    admin = page(as_user("admin"), match)
    assert "Save allocation" in admin and "Record the outcome" not in admin


def test_recording_an_outcome_closes_the_match_and_shows_on_the_dashboard(casework, as_user):
    match = casework.matches["kingston"][0]
    client = as_user("k_inv")
    response = client.post(f"/matches/{match.pk}/outcome/", {
        "version": match.version, "category": "error", "linkage_label": "same",
        "actual_amount": "£1,234.56", "estimated_amount": "2500", "estimate_basis": "52 weeks of benefit",
        "note": "Claim ended late; overpayment raised.",
    })
    assert response.status_code == 302 and response["Location"] == f"/matches/{match.pk}/"
    html = client.get(response["Location"]).content.decode()
    assert "govuk-notification-banner--success" in html and "Outcome recorded and match closed" in html
    assert "Outcome recorded: Error" in html and "Claim ended late; overpayment raised." in html
    outcome = Outcome.objects.get()
    assert (outcome.actual_pence, outcome.estimated_pence, outcome.recorded_by.username) == (123456, 250000, "k_inv")
    assert Match.objects.get(pk=match.pk).status == Status.CLOSED
    assert "Record the outcome" not in html

    dashboard = as_user("k_kc").get("/dashboard/").content.decode()
    assert 'id="total-actual">£1,234.56<' in dashboard
    assert 'id="total-estimated">£2,500.00<' in dashboard
    assert 'data-category="error">1<' in dashboard
    assert "5 new, 0 in progress, 1 closed" in dashboard


def test_fraud_needs_a_case_reference(casework, as_user):
    match = casework.matches["kingston"][0]
    response = as_user("k_inv").post(f"/matches/{match.pk}/outcome/", {
        "version": match.version, "category": "fraud", "linkage_label": "same", "note": "keep me",
    })
    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html
    assert '<a href="#outcome-case_reference">Enter the case reference' in html
    assert 'class="govuk-radios__conditional"' in html  # revealed, since Fraud stays selected
    assert "keep me</textarea>" in html
    assert Outcome.objects.count() == 0 and Match.objects.get(pk=match.pk).status == Status.NEW

    ok = as_user("k_inv").post(f"/matches/{match.pk}/outcome/", {
        "version": match.version, "category": "fraud", "linkage_label": "same", "case_reference": "CF-2026-0042",
    })
    assert ok.status_code == 302
    assert Outcome.objects.get().case_reference == "CF-2026-0042"


def test_amounts_must_be_pounds(casework, as_user):
    match = casework.matches["kingston"][0]
    client = as_user("k_inv")
    for bad, message in (("12.345", "must be an amount in pounds"), ("lots", "must be an amount in pounds"),
                         ("-5", "must be £0 or more")):
        response = client.post(f"/matches/{match.pk}/outcome/", {
            "version": match.version, "category": "error", "linkage_label": "same", "actual_amount": bad})
        assert response.status_code == 400
        assert f"Actual amount {message}" in response.content.decode()
        assert f'value="{bad}"' in response.content.decode()
    response = client.post(f"/matches/{match.pk}/outcome/", {
        "version": match.version, "category": "error", "linkage_label": "same", "estimated_amount": "£10"})
    assert response.status_code == 400
    assert "Enter the basis of the estimate" in response.content.decode()
    assert Outcome.objects.count() == 0


def test_every_problem_with_an_outcome_is_named_at_once(casework, as_user):
    """A fraud outcome without its case reference and with an amount that is not one: both
    are named on the first submission, not one after the other."""
    match = casework.matches["kingston"][0]
    response = as_user("k_inv").post(f"/matches/{match.pk}/outcome/", {
        "version": match.version, "category": "fraud", "linkage_label": "same", "actual_amount": "lots"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Actual amount must be an amount in pounds" in html and "Enter the case reference" in html
    response = as_user("k_inv").post(f"/matches/{match.pk}/outcome/", {
        "version": match.version, "category": "no_issue", "linkage_label": "not_same", "actual_amount": "500"})
    assert response.status_code == 400
    assert "An outcome of no issue has no amount: remove an actual amount, or choose error or fraud" in response.content.decode()
    assert Outcome.objects.count() == 0


def test_missing_choices_are_named(casework, as_user):
    match = casework.matches["kingston"][0]
    response = as_user("k_inv").post(f"/matches/{match.pk}/outcome/", {"version": match.version})
    html = response.content.decode()
    assert response.status_code == 400
    assert '<a href="#outcome-category_0">Select the outcome</a>' in html
    assert "Select whether the two records are the same person" in html


def test_two_people_record_an_outcome_at_once_and_only_the_first_is_kept(casework, as_user):
    match = casework.matches["kingston"][0]
    first, second = as_user("k_inv"), as_user("k_kc")
    v1 = version_in(page(first, match), "outcome")
    v2 = version_in(page(second, match), "outcome")
    assert v1 == v2 == str(match.version)
    r1 = first.post(f"/matches/{match.pk}/outcome/", {"version": v1, "category": "no_issue", "linkage_label": "same"})
    assert r1.status_code == 302
    r2 = second.post(f"/matches/{match.pk}/outcome/", {
        "version": v2, "category": "error", "linkage_label": "not_sure", "note": "Second reviewer's careful note",
        "actual_amount": "£99.50",
    })
    assert r2.status_code == 409
    html = r2.content.decode()
    assert "There is a problem" in html
    assert f"Match {match.pk} was changed by k_inv" in html and "your change was not saved" in html
    assert "Second reviewer&#x27;s careful note</textarea>" in html
    assert 'value="£99.50"' in html
    assert Outcome.objects.count() == 1 and Outcome.objects.get().recorded_by.username == "k_inv"


def test_a_stale_note_is_a_conflict_not_lost(casework, as_user):
    match = casework.matches["kingston"][0]
    kc, inv = as_user("k_kc"), as_user("k_inv")
    assert kc.post(f"/matches/{match.pk}/start/", {"version": match.version}).status_code == 302
    response = inv.post(f"/matches/{match.pk}/note/", {"version": match.version, "text": "Rang the claimant"})
    assert response.status_code == 409
    assert "Rang the claimant</textarea>" in response.content.decode()
    fresh = Match.objects.get(pk=match.pk)
    assert f'name="version" value="{fresh.version}"' in response.content.decode()  # resubmitting now works
    assert inv.post(f"/matches/{match.pk}/note/", {"version": fresh.version, "text": "Rang the claimant"}).status_code == 302


def test_a_stale_form_with_a_mistake_is_still_a_conflict_when_corrected(casework, as_user):
    """Correcting a stale form must not quietly adopt the newer version and overwrite."""
    match = casework.matches["kingston"][0]
    kc, inv = as_user("k_kc"), as_user("k_inv")
    seen = match.version
    assert inv.post(f"/matches/{match.pk}/start/", {"version": seen}).status_code == 302  # meanwhile
    stale = {"version": seen, "category": "fraud", "linkage_label": "same"}  # no case reference
    assert kc.post(f"/matches/{match.pk}/outcome/", stale).status_code == 409
    assert not Outcome.objects.filter(match=match).exists()
    fresh = Match.objects.get(pk=match.pk)
    invalid = kc.post(f"/matches/{match.pk}/outcome/", {**stale, "version": fresh.version})
    assert invalid.status_code == 400
    assert f'name="version" value="{fresh.version}"' in invalid.content.decode()


def test_saving_an_allocation_unchanged_says_so_and_records_nothing(casework, as_user):
    from matching.casework.models import AuditEvent

    match = casework.matches["kingston"][0]  # allocated to k_inv
    events = AuditEvent.objects.filter(action="allocate").count()
    r = as_user("k_kc").post(f"/matches/{match.pk}/allocate/", {"version": match.version,
                                                                 "allocated_to": casework.users["k_inv"].pk}, follow=True)
    assert "No change: the match was already allocated to k_inv." in r.content.decode()
    assert "Allocation saved" not in r.content.decode()
    assert AuditEvent.objects.filter(action="allocate").count() == events
    assert Match.objects.get(pk=match.pk).version == match.version


def test_allocate_start_note_and_reopen_build_the_history(casework, as_user):
    match = casework.matches["kingston"][1]
    kc = as_user("k_kc")
    r = kc.post(f"/matches/{match.pk}/allocate/", {"version": match.version,
                                                    "allocated_to": casework.users["k_inv2"].pk})
    assert r.status_code == 302
    inv2 = as_user("k_inv2")
    m = Match.objects.get(pk=match.pk)
    assert inv2.post(f"/matches/{m.pk}/start/", {"version": m.version}).status_code == 302
    m.refresh_from_db()
    assert inv2.post(f"/matches/{m.pk}/note/", {"version": m.version, "text": "Checked the tenancy file"}).status_code == 302
    m.refresh_from_db()
    assert inv2.post(f"/matches/{m.pk}/outcome/", {"version": m.version, "category": "no_issue",
                                                   "linkage_label": "not_same"}).status_code == 302
    m.refresh_from_db()
    assert kc.post(f"/matches/{m.pk}/reopen/", {"version": m.version, "reason": ""}).status_code == 400
    r = kc.post(f"/matches/{m.pk}/reopen/", {"version": m.version, "reason": "New evidence from DWP"})
    assert r.status_code == 302
    html = page(kc, m)
    history = html[html.index('id="history"'):]
    steps = ["Reopened", "Outcome recorded: No issue / other explanation", "Note added",
             "Status changed from New to In progress", "Allocated to k_inv2"]
    positions = [history.index(s) for s in steps]
    assert positions == sorted(positions)  # newest first
    assert "New evidence from DWP" in history and "Checked the tenancy file" in history
    assert Match.objects.get(pk=m.pk).times_reopened == 1
    # Reopened, its outcome no longer stands: named as the one before, and not exported as its own.
    assert "Outcome before it was reopened</dt>" in html and ">Outcome</dt>" not in html
    export = b"".join(kc.post("/export/", {"format": "csv"}).streaming_content).decode()
    row = next(line for line in export.splitlines() if line.startswith(f"{m.pk},"))
    assert ",no_issue," not in row and ",in_progress," in row


def test_an_investigator_cannot_allocate_or_reopen(casework, as_user):
    """Allocating and reopening are the key contact's: an investigator's attempt is refused and
    changes nothing, even on their own match and with a valid form."""
    match = casework.matches["kingston"][0]
    inv = as_user("k_inv")
    r = inv.post(f"/matches/{match.pk}/allocate/", {"version": match.version, "allocated_to": casework.users["k_inv2"].pk})
    assert r.status_code == 403
    assert Match.objects.get(pk=match.pk).allocated_to.username == "k_inv"
    # Their match closed with an outcome they recorded: reopening it is not theirs to do either.
    assert inv.post(f"/matches/{match.pk}/outcome/", {"version": match.version, "category": "no_issue",
                                                      "linkage_label": "same"}).status_code == 302
    closed = Match.objects.get(pk=match.pk)
    assert closed.status == Status.CLOSED
    r = inv.post(f"/matches/{match.pk}/reopen/", {"version": closed.version, "reason": "I think I was wrong"})
    assert r.status_code == 403
    after = Match.objects.get(pk=match.pk)
    assert (after.status, after.times_reopened, after.version) == (Status.CLOSED, 0, closed.version)


def test_allocating_to_someone_outside_the_body_is_refused(casework, as_user):
    match = casework.matches["kingston"][0]
    r = as_user("k_kc").post(f"/matches/{match.pk}/allocate/", {"version": match.version,
                                                                 "allocated_to": casework.users["r_inv"].pk})
    assert r.status_code == 400
    assert "Choose someone from the list: a match is allocated only to an investigator or key contact of its body" in r.content.decode()


def test_a_property_jobs_outcome_asks_about_the_property(casework, as_user):
    """A property job links different people at one property: the reviewer says whether the
    records describe the same property, as the analysts' labels for such a job mean."""
    from matching.casework.models import Match

    match = casework.matches["kingston"][0]
    person = as_user("k_inv").get(f"/matches/{match.pk}/").content.decode()
    assert "Are the two records the same person?" in person
    Match.objects.filter(pk=match.pk).update(job="spd-to-electoral-register")
    html = as_user("k_inv").get(f"/matches/{match.pk}/").content.decode()
    assert "Do the two records describe the same property?" in html and "Not the same property" in html
    missing = as_user("k_inv").post(f"/matches/{match.pk}/outcome/", {"version": match.version, "category": "no_issue"})
    assert "Select whether the two records describe the same property" in missing.content.decode()


def test_a_note_typed_while_the_match_was_reallocated_is_given_back(casework, as_user):
    """The key contact reallocates a match while its investigator types a note: the note is
    not saved, and the page says why and gives the text back to copy, not a bare 'not found'."""
    match = casework.matches["kingston"][1]
    kc, inv2 = as_user("k_kc"), as_user("k_inv2")
    assert kc.post(f"/matches/{match.pk}/allocate/", {"version": match.version, "allocated_to": casework.users["k_inv2"].pk}).status_code == 302
    m = Match.objects.get(pk=match.pk)
    assert kc.post(f"/matches/{m.pk}/allocate/", {"version": m.version, "allocated_to": casework.users["k_inv"].pk}).status_code == 302
    response = inv2.post(f"/matches/{m.pk}/note/", {"version": m.version, "text": "Rang the landlord <b>twice</b>"})
    html = response.content.decode()
    assert response.status_code in (403, 404)
    assert "What you entered was not saved" in html and "Rang the landlord &lt;b&gt;twice&lt;/b&gt;" in html
    assert not Match.objects.get(pk=m.pk).notes.exists()


def test_a_closed_match_links_to_the_next_open_one(casework, as_user):
    """Closing a match leaves the investigator on it: it links to their next open match,
    highest priority first, so closed work need not be stepped over in the queue."""
    kc, inv = as_user("k_kc"), as_user("k_inv")
    first, second = casework.matches["kingston"][0], casework.matches["kingston"][1]
    for m in (first, second):
        m.refresh_from_db()
        assert kc.post(f"/matches/{m.pk}/allocate/", {"version": m.version, "allocated_to": casework.users["k_inv"].pk}).status_code == 302
    first.refresh_from_db()
    assert 'id="next-open"' not in page(inv, first)  # open: no link
    assert inv.post(f"/matches/{first.pk}/outcome/", {"version": first.version, "category": "no_issue",
                                                       "linkage_label": "not_same"}).status_code == 302
    html = page(inv, first)
    following = Match.objects.filter(allocated_to=casework.users["k_inv"], status__in=("new", "in_progress")).order_by("-priority_score", "-pk").first()
    assert following is not None and f'href="/matches/{following.pk}/">Go to your next open match (Match {following.pk})' in html


def test_back_to_the_queue_keeps_its_filters(casework, as_user):
    """A key contact who filtered the queue returns to the same filters, sort and page."""
    kc = as_user("k_kc")
    match = casework.matches["kingston"][0]
    assert kc.get("/?job=hb-to-deceased&status=new&sort=oldest").status_code == 200
    html = page(kc, match)
    assert '<a href="/?job=hb-to-deceased&amp;status=new&amp;sort=oldest" class="govuk-back-link">Back to your queue</a>' in html
    kc.get("/")
    assert '<a href="/" class="govuk-back-link">' in page(kc, match)


def allocation_options(html: str) -> list[str]:
    """The labels of the match page's "Allocate to" list, the selected one starred."""
    select = re.search(r'<select[^>]*name="allocated_to".*?</select>', html, re.S).group(0)
    return [("*" if selected else "") + label
            for selected, label in re.findall(r'<option value="[^"]*"( selected)?>([^<]*)</option>', select)]


def test_a_superuser_who_is_also_a_key_contact_is_not_offered_for_allocation(casework, as_user):
    """A superuser cannot work a match, so is neither offered nor accepted as its allocatee,
    whatever their role in the body (the demo's administrator is both)."""
    from matching.casework.models import Membership

    admin = casework.users["admin"]
    Membership.objects.create(user=admin, body=casework.bodies["kingston"], role="key_contact")
    match = casework.matches["kingston"][1]
    kc = as_user("k_kc")
    assert allocation_options(page(kc, match)) == ["*Nobody (unallocated)", "k_inv", "k_inv2", "k_kc"]
    queue = kc.get("/").content.decode()
    bulk = re.search(r'<select[^>]*name="allocated_to".*?</select>', queue, re.S).group(0)
    assert ">k_inv2<" in bulk and ">admin<" not in bulk
    refused = kc.post(f"/matches/{match.pk}/allocate/", {"version": match.version, "allocated_to": admin.pk})
    assert refused.status_code == 400
    assert "Choose someone from the list: a match is allocated only to an investigator or key contact" in refused.content.decode()
    assert Match.objects.get(pk=match.pk).allocated_to is None


def test_the_allocation_list_shows_a_holder_who_is_no_longer_a_member(casework, as_user):
    """A match still allocated to someone who has left the body (allocated before removals
    returned matches to the queue) is shown as theirs, and saving the form unchanged keeps it
    so rather than quietly unallocating it."""
    from matching.casework.models import Membership

    match = casework.matches["kingston"][0]  # k_inv's
    Membership.objects.filter(user__username="k_inv", body__code="kingston").delete()
    kc = as_user("k_kc")
    options = allocation_options(page(kc, match))
    assert options == ["Nobody (unallocated)", "k_inv2", "k_kc", "*k_inv (no longer a member)"]
    r = kc.post(f"/matches/{match.pk}/allocate/", {"version": match.version, "allocated_to": casework.users["k_inv"].pk},
                follow=True)
    assert "No change: the match was already allocated to k_inv." in r.content.decode()
    assert Match.objects.get(pk=match.pk).allocated_to.username == "k_inv"


def test_a_note_added_after_the_match_was_closed_is_labelled_so(casework, as_user):
    """Recovery is often recorded after the outcome: a note on a closed match is kept without
    reopening it, and the history and the audit trail say it came after the close."""
    match = casework.matches["kingston"][0]
    inv = as_user("k_inv")
    assert inv.post(f"/matches/{match.pk}/outcome/", {"version": match.version, "category": "error",
                                                      "linkage_label": "same", "actual_amount": "120.00"}).status_code == 302
    closed = Match.objects.get(pk=match.pk)
    html = page(inv, closed)
    assert "The match is closed. A note added now (for example, money recovered after the outcome) does not reopen it" in html
    r = inv.post(f"/matches/{match.pk}/note/", {"version": closed.version, "text": "£120 recovered by invoice"}, follow=True)
    assert "Note added" in r.content.decode()
    assert Match.objects.get(pk=match.pk).status == Status.CLOSED
    history = page(inv, closed)[page(inv, closed).index('id="history"'):]
    assert "<strong>Note added after the match was closed</strong> by k_inv" in history
    assert history.index("Note added after the match was closed") < history.index("Outcome recorded: Error")
    assert "£120 recovered by invoice" in history
    trail = as_user("k_aud").get("/audit/?action=note").content.decode()
    assert "(added after the match was closed)" in trail


def test_a_match_the_latest_run_did_not_find_says_so_in_the_queue_and_on_its_page(casework, as_user):
    from datetime import UTC, datetime

    from matching.casework.publish import publish
    from matching.workspace import Workspace
    from tests.casework.fixtures import inconsistency, make_bundle

    rows = [inconsistency(n) for n in range(6) if n != 3] + [inconsistency(100 + n, body="richmond") for n in range(2)]
    rows[1] = inconsistency(1, surname="<script>alert('x')</script>O'BRIEN")
    later = make_bundle(casework.workspace, rows, created_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    assert publish(Workspace.at(casework.workspace), later).not_found == 1
    gone = Match.objects.get(left_record_id="HB000003")
    client = as_user("k_kc")
    html = page(client, gone)
    assert "Not found</strong> Run " + later in html and "did not find it, and no run since has found it: a record may have been corrected" in html
    assert "Not found" not in page(client, Match.objects.get(left_record_id="HB000002"))
    queue = client.get("/").content.decode()
    row = re.search(rf'href="/matches/{gone.pk}/".*?</tr>', queue, re.S).group(0)
    assert "Not in latest run" in row
    assert queue.count("Not in latest run") == 1
