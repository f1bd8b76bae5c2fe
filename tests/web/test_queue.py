"""My queue: what each user sees, filtered, sorted, counted and paginated."""

from __future__ import annotations

import re

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
    assert "No matches fit these filters" in html


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
    assert len(match_ids(client.get("/?job=hb-to-deceased").content.decode())) == 6
    assert len(match_ids(client.get("/?date_from=2000-01-01").content.decode())) == 6
    assert len(match_ids(client.get("/?date_to=2000-01-01").content.decode())) == 0


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
    with django_assert_max_num_queries(21):  # 15, and the page shown audited in two bodies' trails
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
