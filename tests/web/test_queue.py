"""My queue: what each user sees, filtered, sorted, counted and paginated."""

from __future__ import annotations

import re

from matching.casework import lifecycle
from matching.casework.models import AuditEvent, Match, Status
from matching.casework.publish import publish
from matching.workspace import Workspace
from tests.casework.fixtures import inconsistency, make_bundle


def match_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/matches/(\d+)/"', html)]


def count(html: str, status: str) -> int:
    return int(re.search(rf'data-status="{status}">([\d,]+)<', html).group(1).replace(",", ""))


def test_key_contact_sees_the_bodys_matches_highest_priority_first(casework, as_user):
    html = as_user("k_kc").get("/").content.decode()
    kingston = [m.pk for m in casework.matches["kingston"]]
    assert match_ids(html) == kingston  # fixture order is by priority, highest first
    assert "6 matches" in html
    assert (count(html, "new"), count(html, "in_progress"), count(html, "closed")) == (6, 0, 0)
    assert "Royal Borough of Kingston upon Thames" in html
    assert "Richmond" not in html
    assert 'class="govuk-tag govuk-tag--red">High<' in html


def test_investigator_sees_only_what_is_allocated_to_them(casework, as_user):
    assert match_ids(as_user("k_inv").get("/").content.decode()) == [casework.matches["kingston"][0].pk]
    html = as_user("k_inv2").get("/").content.decode()
    assert match_ids(html) == []
    assert "No open matches are allocated to you." in html and "fit these filters" not in html
    assert "No matches fit these filters." in as_user("k_inv2").get("/", {"band": "high"}).content.decode()


def searched(client, term: str, **filters: str) -> str:
    """The queue drawn in answer to the filter form posted with a search."""
    response = client.post("/", {"filter": "1", "search": term, **filters})
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_an_empty_queue_says_what_is_empty(casework, as_user):
    """A key contact whose body's matches are all closed is told there is no open work (the
    Closed link counts them), not that filters they never set match nothing; a search for a
    closed match's number from the open queue says it has another status and links to it, as
    "Match 12" does."""
    from matching.casework.models import Match, Status

    Match.objects.filter(owning_body__code="kingston").update(status=Status.CLOSED)
    html = as_user("k_kc").get("/").content.decode()
    assert "You have no open matches." in html and f'data-status="closed">{len(casework.matches["kingston"])}<' in html
    closed = casework.matches["kingston"][2]
    for term in (str(closed.pk), f"Match {closed.pk}", f"match no. {closed.pk}"):
        # As the filter form sends it: the status shown (Open) with the search.
        page = searched(as_user("k_kc"), term, status="open")
        assert match_ids(page) == [] and "1 match with another status does." in page, term
        button = re.search(r'<form method="post" action="/" novalidate>(.*?)</form>', page.split('id="empty"')[1], re.S).group(1)
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', button))
        assert fields["status"] == "all" and fields["search"] == term and ">Show it</button>" in button
        assert match_ids(searched(as_user("k_kc"), term, status="all")) == [closed.pk], term
    assert as_user("k_kc").post("/", {"search": "²", "filter": "1"}).status_code == 200  # a digit that is not 0-9


def test_superuser_sees_every_body_and_may_filter_by_body(casework, as_user):
    client = as_user("admin")
    assert len(match_ids(client.get("/").content.decode())) == 8
    html = client.get("/?body=richmond").content.decode()
    assert match_ids(html) == [m.pk for m in casework.matches["richmond"]]
    assert 'name="body"' in html


def test_filters_status_band_allocation_and_dates(casework, as_user):
    client = as_user("k_kc")
    first = casework.matches["kingston"][0].pk
    assert match_ids(client.get("/?allocated=me").content.decode()) == []
    assert match_ids(client.get(f"/?allocated={casework.users['k_inv'].pk}").content.decode()) == [first]
    assert first not in match_ids(client.get("/?allocated=unallocated").content.decode())
    high = client.get("/?band=high").content.decode()
    assert len(match_ids(high)) == 3 and "3 matches" in high
    assert len(match_ids(client.get("/?band=low").content.decode())) == 0
    assert len(match_ids(client.get("/?status=closed").content.decode())) == 0
    assert len(match_ids(client.get("/?date_from=2000-01-01").content.decode())) == 6
    assert len(match_ids(client.get("/?date_to=2000-01-01").content.decode())) == 0
    # Another job's match in the same queue: the job filter keeps it out, and only it in.
    run_id = make_bundle(casework.workspace, [inconsistency(200, job="admissions-to-council-tax")], job="admissions-to-council-tax")
    publish(Workspace.at(casework.workspace), run_id, actor="test")
    other = Match.objects.get(job="admissions-to-council-tax").pk
    kingston = [m.pk for m in casework.matches["kingston"]]
    assert sorted(match_ids(client.get("/").content.decode())) == sorted([*kingston, other])
    assert match_ids(client.get("/?job=hb-to-deceased").content.decode()) == kingston
    assert match_ids(client.get("/?job=admissions-to-council-tax").content.decode()) == [other]


def test_status_counts_ignore_the_status_filter_and_total_follows_it(casework, as_user):
    client = as_user("k_kc")
    match = casework.matches["kingston"][2]
    client.post(f"/matches/{match.pk}/start/", {"version": match.version})
    html = client.get("/?status=in_progress").content.decode()
    assert match_ids(html) == [match.pk]
    assert "1 match<" in html
    assert (count(html, "new"), count(html, "in_progress")) == (5, 1)


def test_a_bad_filter_is_reported_and_ignored(casework, as_user):
    html = as_user("k_kc").get("/?date_from=yesterday&band=purple").content.decode()
    assert "Some filters were not applied" in html
    assert "First seen from must be a date" in html
    assert len(match_ids(html)) == 6


def test_sort_newest_and_oldest(casework, as_user):
    client = as_user("k_kc")
    newest = match_ids(client.get("/?sort=newest").content.decode())
    oldest = match_ids(client.get("/?sort=oldest").content.decode())
    assert newest == list(reversed(oldest)) and sorted(newest) == sorted(m.pk for m in casework.matches["kingston"])


def test_pagination_fifty_a_page(casework, as_user, django_assert_max_num_queries):
    run_id = make_bundle(casework.workspace, [inconsistency(1000 + n) for n in range(120)])
    publish(Workspace.at(casework.workspace), run_id, actor="test")
    client = as_user("k_kc")
    # 16 (one to see that every body whose records are shown has declared), one for the
    # bodies' names the explanations give, and the page shown audited in two bodies' trails
    with django_assert_max_num_queries(23):
        first = client.get("/").content.decode()
    assert len(match_ids(first)) == 50
    assert "126 matches" in first and "Showing 1 to 50 of 126" in first
    assert 'class="govuk-pagination"' in first and 'rel="next"' in first
    second = client.get("/?page=2&band=low").content.decode()
    assert 'href="?band=low&amp;page=3"' in second or 'href="?page=3&amp;band=low"' in second
    third = client.get("/?page=3").content.decode()
    assert len(match_ids(third)) == 26 and "Showing 101 to 126 of 126" in third
    assert set(match_ids(first)).isdisjoint(match_ids(third))
    assert client.get("/?page=99").status_code == 200
    assert client.get("/?page=x").status_code == 200


def test_key_contact_allocates_the_matches_ticked_on_the_page(casework, as_user):
    client = as_user("k_kc")
    k = casework.matches["kingston"]
    html = client.get("/?band=high").content.decode()
    assert 'form="bulk-allocate"' in html and f'value="{k[1].pk}:{k[1].version}"' in html
    assert '<label class="govuk-label" for="bulk-allocated_to">Allocate selected matches to</label>' in html
    inv2 = casework.users["k_inv2"].pk
    r = client.post("/?band=high", {"match": [f"{k[1].pk}:{k[1].version}", f"{k[2].pk}:{k[2].version}"],
                                    "allocated_to": str(inv2)})
    assert r.status_code == 302 and r["Location"] == "/?band=high"  # back to the same filtered page
    assert set(Match.objects.filter(allocated_to_id=inv2).values_list("pk", flat=True)) == {k[1].pk, k[2].pk}
    page = client.get(r["Location"]).content.decode()
    assert "2 matches allocated to k_inv2." in page
    events = AuditEvent.objects.filter(action="allocate", actor="k_kc", object_id__in=[str(k[1].pk), str(k[2].pk)])
    assert [e.detail["to"] for e in events] == ["k_inv2", "k_inv2"]


def test_a_match_changed_since_the_page_was_shown_is_left_and_named(casework, as_user):
    client = as_user("k_kc")
    k = casework.matches["kingston"]
    stale, fresh = k[3], k[4]
    lifecycle.allocate(stale, casework.users["k_inv"], casework.users["k_kc"], stale.version)  # someone else, meanwhile
    r = client.post("/", {"match": [f"{stale.pk}:{stale.version}", f"{fresh.pk}:{fresh.version}",
                                     f"{casework.matches['richmond'][1].pk}:1"],
                          "allocated_to": str(casework.users["k_inv2"].pk)}, follow=True)
    page = r.content.decode()
    assert "1 match allocated to k_inv2." in page
    assert "2 matches were not allocated:" in page
    assert f"Match {stale.pk} was changed by k_kc at" in page and "after the page was shown" in page
    assert f"No match {casework.matches['richmond'][1].pk} is visible to you." in page
    assert Match.objects.get(pk=stale.pk).allocated_to.username == "k_inv"
    assert Match.objects.get(pk=casework.matches["richmond"][1].pk).allocated_to is None


def test_allocating_nothing_or_to_nobody_chosen_shows_errors_and_keeps_the_ticks(casework, as_user):
    client = as_user("k_kc")
    k = casework.matches["kingston"]
    r = client.post("/", {"allocated_to": ""})
    html = r.content.decode()
    assert r.status_code == 200 and html.count('class="govuk-error-summary"') == 1
    assert "<title>Error: My queue" in html
    assert f'href="#select-{k[0].pk}">Select at least one match to allocate</a>' in html
    assert 'href="#bulk-allocated_to">Select who to allocate the matches to</a>' in html
    ticked = client.post("/", {"match": [f"{k[2].pk}:{k[2].version}"], "allocated_to": ""}).content.decode()
    assert f'value="{k[2].pk}:{k[2].version}" form="bulk-allocate" checked' in ticked
    outsider = client.post("/", {"match": [f"{k[2].pk}:{k[2].version}"], "allocated_to": str(casework.users["r_inv"].pk)})
    assert "Select who to allocate the matches to from the list" in outsider.content.decode()
    assert Match.objects.get(pk=k[2].pk).allocated_to is None


def test_only_those_who_allocate_see_the_ticks_or_may_post(casework, as_user):
    k = casework.matches["kingston"]
    for username in ("k_inv", "k_aud"):
        client = as_user(username)
        assert 'form="bulk-allocate"' not in client.get("/").content.decode()
        r = client.post("/", {"match": [f"{k[0].pk}:{k[0].version}"], "allocated_to": str(casework.users[username].pk)})
        assert r.status_code == 403
    Match.objects.filter(pk=k[5].pk).update(status=Status.CLOSED)
    html = as_user("k_kc").get("/").content.decode()
    assert f'id="select-{k[5].pk}"' not in html and f'id="select-{k[4].pk}"' in html


def test_one_error_summary_for_bad_filters_and_a_bad_allocation_and_none_for_a_page_with_nothing_open(casework, as_user):
    client = as_user("k_kc")
    html = client.post("/?date_from=yesterday", {"allocated_to": ""}).content.decode()
    assert html.count('class="govuk-error-summary"') == 1 and html.count('role="alert"') == 1
    assert "Select at least one match to allocate" in html and "First seen from must be a date" in html
    Match.objects.filter(owning_body__code="kingston").update(status=Status.CLOSED)
    r = client.post("/", {"allocated_to": ""}, follow=True)
    page = r.content.decode()
    assert "Nothing was allocated: no match on this page can be allocated now." in page
    assert "#select-None" not in page and 'class="govuk-error-summary"' not in page


def test_search_finds_a_match_by_number_reference_or_name_within_what_the_user_sees(casework, as_user):
    """A caller quotes a claim number, or gives a name: the key contact finds the match from
    the queue, and only it. Another body's key contact searching the same finds nothing of it."""
    match = casework.matches["kingston"][0]
    record = match.left_record
    name = " ".join(str(record[k]) for k in ("forenames", "surname") if record.get(k)).lower()
    assert name, "the fixture's record has a name to search for"
    kc, other = as_user("k_kc"), as_user("r_kc")
    for term in (str(match.pk), match.left_record_id.lower(), name):
        html = searched(kc, term)
        found = set(re.findall(r'href="/matches/(\d+)/"', html))
        assert str(match.pk) in found and len(found) < len(casework.matches["kingston"]), (term, found)
        assert f'href="/matches/{match.pk}/"' not in searched(other, term)


def test_search_reads_what_the_records_show_not_their_field_names(casework, as_user):
    """Every record has a surname field: searching the word finds no match for it. A name
    found on one record and a word found only on the other is not one person's name."""
    kc = as_user("k_kc")
    queue = set(re.findall(r'href="/matches/(\d+)/"', kc.get("/").content.decode()))
    assert queue

    def found(term: str) -> set[str]:
        return set(re.findall(r'href="/matches/(\d+)/"', searched(kc, term)))

    assert found("surname") == found("forenames") == set()
    match = casework.matches["kingston"][0]
    left, right = match.left_text.split(), match.right_text.split()
    left_only = next(w for w in left if w not in match.right_text and w.isalpha())
    right_only = next(w for w in right if w not in match.left_text and w.isalpha())
    assert str(match.pk) in found(left_only.lower()) and str(match.pk) in found(right_only.lower())
    assert str(match.pk) not in found(f"{left_only} {right_only}")


def test_the_queue_opens_on_open_work_and_closed_matches_are_one_click_away(casework, as_user):
    """An investigator's queue is the work still to do: a closed match (however high its
    priority) is left out until Closed or All is chosen, and the counts say how many each holds."""
    kc = as_user("k_kc")
    mine = casework.matches["kingston"]
    closed = mine[0]
    Match.objects.filter(pk=closed.pk).update(status=Status.CLOSED, priority_score=100)

    def listed(query: str) -> set[str]:
        return set(re.findall(r'href="/matches/(\d+)/"', kc.get("/" + query).content.decode()))

    others = {str(m.pk) for m in mine[1:]}
    assert listed("") == listed("?status=open") == others
    assert listed("?status=closed") == {str(closed.pk)}
    assert listed("?status=all") == others | {str(closed.pk)}
    counts = kc.get("/").content.decode().split("app-status-counts")[1].split("</ul>")[0]
    assert f'data-status="open">{len(others)}<' in counts and f'data-status="all">{len(mine)}<' in counts
    assert 'data-status="closed">1<' in counts


def test_an_empty_queue_says_when_declarations_hold_its_matches_back(casework, as_user, run_cli):
    """Before a body declares, its key contact's queue is empty: the page and `queue list` say
    how many matches wait and what releases them, not just that nothing fits."""
    from matching.casework.models import Declaration

    Declaration.objects.filter(body__code="kingston").delete()
    page = as_user("k_kc").get("/").content.decode()
    waiting = len(casework.matches["kingston"])
    assert f"{waiting} matches wait for a declaration" in page and "No matches fit these filters" not in page
    listed = run_cli("queue", "list", "--as", "k_kc")
    assert f"{waiting} matches wait for a declaration" in " ".join(listed.stdout.split())
    # Richmond's key contact sees their own: nothing is said of kingston's.
    assert "wait for a declaration" not in as_user("r_kc").get("/").content.decode()
    # Held back by another body's missing declaration (DWP's death registrations), not their
    # own: how many of their people are in data DWP has not released is not told.
    Declaration.objects.filter(body__code="dwp").delete()
    page = as_user("r_kc").get("/").content.decode()
    assert match_ids(page) == [] and "wait for a declaration" not in page
    assert "wait for a declaration" not in as_user("r_kc").get("/", {"job": "no-such-job"}).content.decode()


def test_dates_the_wrong_way_round_are_an_error_not_an_empty_queue(casework, as_user):
    html = as_user("k_kc").get("/", {"date_from": "2026-11-30", "date_to": "2026-10-01"}).content.decode()
    assert "First seen to must be the same as or after first seen from" in html
    assert 'class="govuk-error-summary"' in html


def test_a_search_is_not_kept_in_the_session(casework, as_user):
    """A search names a person: the session keeps the queue's other filters for "Back to your
    queue", never the words searched for (the audit trail keeps only a keyed hash of them)."""
    from django.contrib.sessions.models import Session

    kc = as_user("k_kc")
    assert kc.get("/?status=all&sort=oldest").status_code == 200
    assert "Francis" in searched(kc, "Francis", status="all", sort="oldest")
    stored = Session.objects.get(session_key=kc.session.session_key).get_decoded()
    assert "francis" not in str(stored).lower()
    match = casework.matches["kingston"][0]
    html = kc.get(f"/matches/{match.pk}/").content.decode()
    assert '<a href="/?status=all&amp;sort=oldest" class="govuk-back-link">Back to your queue</a>' in html


def test_a_search_never_goes_into_an_address(casework, as_user):
    """A search's words (a name) are posted, and the page drawn in answer carries them on in
    its forms only: no link, return address or sign-in "next" holds them, so neither browser
    history nor a proxy's log does. Filters without a search stay an address (a bookmark)."""
    match = casework.matches["kingston"][0]
    surname = str(match.left_record["surname"])
    kc = as_user("k_kc")
    page = searched(kc, surname, status="all", sort="oldest")
    assert match.pk in match_ids(page)
    addresses = re.findall(r'(?:href|action|data-[a-z-]+)="([^"]*)"', page)
    assert addresses and not [a for a in addresses if surname.lower() in a.lower()]
    # Where the words are: the search box and the hidden fields carrying them on (the export, allocation).
    assert f'name="search" type="text" value="{surname}"' in page or f'value="{surname}"' in page
    assert re.search(rf'id="export".*?<input type="hidden" name="search" value="{surname}">', page, re.S)
    assert re.search(rf'id="bulk-allocate".*?<input type="hidden" name="search" value="{surname}">', page, re.S)
    # Without a search, the filter form leads to an address, as a link would.
    plain = kc.post("/", {"filter": "1", "search": " ", "status": "all", "sort": "oldest", "job": ""})
    assert plain.status_code == 302 and plain["Location"] == "/?status=all&sort=oldest"
    # An old link's search is not applied (nor kept in the page's links).
    old = kc.get("/", {"search": surname, "status": "all"}).content.decode()
    assert len(match_ids(old)) > len(match_ids(page)) and surname.lower() not in str(re.findall(r'href="([^"]*)"', old)).lower()


def test_a_search_too_long_to_apply_keeps_the_other_filters_posted(casework, as_user):
    """A search over 100 characters is an error, not applied; the filters posted with it
    still hold on the page drawn in answer: in its allocation form, not lost to links."""
    kc = as_user("k_kc")
    page = kc.post("/", {"filter": "1", "search": "x" * 101, "band": "high", "status": "all"}).content.decode()
    assert "Search must be 100 characters or fewer" in page
    high = {m.pk for m in casework.matches["kingston"] if m.priority_band == "high"}
    assert set(match_ids(page)) == high
    assert re.search(r'id="bulk-allocate".*?<input type="hidden" name="band" value="high">', page, re.S)
    assert 'href="?status=' not in page  # no status link drops the band


def test_allocating_from_a_search_keeps_the_search(casework, as_user):
    """Allocating ticked matches of a search's answer draws the search's matches again, as
    they now stand, rather than the queue without it."""
    match = casework.matches["kingston"][3]
    term = str(match.pk)
    kc = as_user("k_kc")
    page = searched(kc, term, status="all")
    assert match_ids(page) == [match.pk]
    k_inv = casework.users["k_inv"]
    match.refresh_from_db()
    after = kc.post("/", {"search": term, "status": "all", "match": f"{match.pk}:{match.version}",
                          "allocated_to": str(k_inv.pk)})
    assert after.status_code == 200
    html = after.content.decode()
    assert match_ids(html) == [match.pk] and "allocated to" in html
    match.refresh_from_db()
    assert match.allocated_to == k_inv
