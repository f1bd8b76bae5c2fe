"""Case store speed: publishing 100,000 inconsistencies, and the queue and match pages with
200,000 matches in the store (SQLite, the default).

Goals (casework issue): publish 100,000 in ≤ 30 s; queue and match detail pages ≤ 150 ms at
the 95th percentile, server-side (the request handled in-process by Django's test client:
routing, access checks, queries and template rendering; no network).
"""

from __future__ import annotations

import os
from typing import Any

from benchmarks.common import row, run_isolated, write_result

MATCHES_PER_JOB = int(os.environ.get("BENCH_CASEWORK_MATCHES", "100000"))
REQUESTS = 200

CODE = r"""
import json, os, random, statistics, sys, tempfile, time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from benchmarks.common import peak_rss_mib

tmp = Path(tempfile.mkdtemp(prefix="bench-casework-"))
os.environ["MATCHING_WORKSPACE"] = str(tmp)
os.environ["MATCHING_SECRET_KEY"] = "bench-" + "x" * 50
os.environ.pop("DATABASE_URL", None)

from matching.casework.setup import use_workspace
use_workspace(tmp)

import pyarrow as pa, pyarrow.parquet as pq
from django.contrib.auth.models import User
from django.test import Client
from matching.casework import lifecycle
from matching.casework.models import Body, Declaration, Exercise, Match, Membership
from matching.casework.publish import publish
from matching.workspace import Workspace

N = {n}
REQUESTS = {requests}
rng = random.Random(20261129)
SURNAMES = ["SMITH", "JONES", "TAYLOR", "BROWN", "WILLIAMS", "PATEL", "KHAN", "O'BRIEN", "NOWAK", "EVANS"]
FORENAMES = ["JOHN", "MARY", "AMELIA", "OLIVER", "MOHAMMED", "ISLA", "HARRY", "ZOË"]
BODIES = ["kingston", "richmond", "windsor-maidenhead"]

def bundle(job, title, left_kind, right_kind, created):
    run_id = f"{{created:%Y%m%dT%H%M%S}}-{{job}}-bench"
    path = tmp / "runs" / run_id
    path.mkdir(parents=True)
    rows = []
    for i in range(N):
        body = BODIES[i % 3]
        s, f = rng.choice(SURNAMES), rng.choice(FORENAMES)
        dob = (date(1940, 1, 1) + timedelta(days=rng.randrange(25000))).isoformat()
        left = {{"ref": f"L{{i:07d}}", "forenames": f, "surname": s, "dob": dob, "ni_number": "••••••12C",
                "address_line_1": f"{{1 + i % 300}} HIGH STREET", "postcode": "KT1 1AA", "amount_pence": 100 * (i % 997)}}
        right = {{**left, "ref": f"R{{i:07d}}", "address_line_1": f"{{2 + i % 300}} HIGH ST", "date_of_death": "2026-02-01"}}
        score = rng.uniform(10, 99)
        rows.append({{
            "job": job, "owning_body": body, "left_kind": left_kind, "left_body": body,
            "left_submission_id": f"sub-{{left_kind}}-{{body}}", "left_record_id": left["ref"],
            "right_kind": right_kind, "right_body": "dwp", "right_submission_id": f"sub-{{right_kind}}-dwp",
            "right_record_id": right["ref"], "match_probability": 0.999, "match_weight": 25.0,
            "explanation": f"Record {{left['ref']}} was in payment 150 days after a matched death registration.",
            "priority_score": score, "priority_band": "high" if score > 70 else "medium" if score > 40 else "low",
            "contributions": json.dumps([{{"match_weight": 13.4, "comparison": "ni_number", "level": "exact match"}},
                                         {{"match_weight": 9.4, "comparison": "surname", "level": "exact match"}},
                                         {{"match_weight": -2.1, "comparison": "address", "level": "different house number"}}]),
            "left_record": json.dumps(left), "right_record": json.dumps(right), "as_at": date(2026, 10, 1),
        }})
    pq.write_table(pa.Table.from_pylist(rows), path / "inconsistencies.parquet")
    inputs = [{{"side": "left", "submission_id": f"sub-{{left_kind}}-{{b}}", "kind": left_kind, "body": b,
               "file_name": "x.csv", "sha256": "0" * 64, "rows_loaded": N // 3}} for b in BODIES]
    inputs.append({{"side": "right", "submission_id": f"sub-{{right_kind}}-dwp", "kind": right_kind, "body": "dwp",
                   "file_name": "y.csv", "sha256": "1" * 64, "rows_loaded": N}})
    (path / "manifest.json").write_text(json.dumps({{"run_id": run_id, "job": job, "title": title,
        "created_at": created.isoformat(), "as_at": "2026-10-01", "threshold": 0.95, "inputs": inputs,
        "counts": {{"inconsistencies": len(rows)}}}}))
    return run_id

ws = Workspace.at(tmp)
t0 = datetime(2026, 11, 1, 9, tzinfo=timezone.utc)
first = bundle("hb-to-deceased", "Housing benefit claims to deceased persons", "housing_benefit", "deceased_persons", t0)
t = time.perf_counter(); r1 = publish(ws, first, actor="bench"); publish_first = time.perf_counter() - t
second = bundle("pensions-to-deceased", "Pensions to deceased persons", "pensions", "deceased_persons", t0 + timedelta(hours=1))
t = time.perf_counter(); r2 = publish(ws, second, actor="bench"); publish_second = time.perf_counter() - t
again = bundle("hb-to-deceased", "Housing benefit claims to deceased persons", "housing_benefit", "deceased_persons", t0 + timedelta(days=1))
t = time.perf_counter(); r3 = publish(ws, again, actor="bench"); republish = time.perf_counter() - t
total = Match.objects.count()

exercise = Exercise.objects.get()
kingston = Body.objects.get(code="kingston")
for b in Body.objects.all():
    Declaration.objects.create(body=b, exercise=exercise, declared_by="bench")
kc = User.objects.create_user("bench_kc", password="bench-password-123")
inv = User.objects.create_user("bench_inv", password="bench-password-123")
Membership.objects.create(user=kc, body=kingston, role="key_contact")
Membership.objects.create(user=inv, body=kingston, role="investigator")
ids = list(Match.objects.filter(owning_body=kingston).values_list("pk", flat=True))
Match.objects.filter(pk__in=ids[:2000]).update(allocated_to=inv)

def timed(client, urls):  # each an address, or (address, form) posted (a search)
    out = []
    for url in urls:
        t = time.perf_counter()
        resp = client.get(url) if isinstance(url, str) else client.post(*url)
        out.append((time.perf_counter() - t) * 1000)
        assert resp.status_code == 200, (url, resp.status_code)
    out.sort()
    return {{"p50_ms": round(statistics.median(out), 1), "p95_ms": round(out[int(len(out) * 0.95) - 1], 1),
            "max_ms": round(out[-1], 1), "requests": len(out)}}

kc_client, inv_client = Client(HTTP_HOST="localhost"), Client(HTTP_HOST="localhost")  # an allowed host, as served
kc_client.force_login(kc); inv_client.force_login(inv)
kc_client.get("/"); inv_client.get("/")  # warm caches and connections
queue_urls = []
for i in range(REQUESTS):
    choice = i % 5
    if choice == 0: queue_urls.append("/")
    elif choice == 1: queue_urls.append(f"/?page={{rng.randint(1, 400)}}")
    elif choice == 2: queue_urls.append("/?band=high&status=new")
    elif choice == 3: queue_urls.append("/?job=pensions-to-deceased&sort=oldest")
    else: queue_urls.append(f"/?status=new&page={{rng.randint(1, 50)}}")
queue_kc = timed(kc_client, queue_urls)
queue_inv = timed(inv_client, ["/", "/?page=2", "/?band=high"] * (REQUESTS // 3))
detail = timed(kc_client, [f"/matches/{{rng.choice(ids)}}/" for _ in range(REQUESTS)])
# Searching the queue as a caller would be looked up: by a record's reference, and by a name
# (every word somewhere in either record: a scan of the records' text).
sample = list(Match.objects.filter(pk__in=rng.sample(ids, 50)).values_list("left_record_id", "left_record"))
def a_name(rec):
    return next((str(v) for k, v in rec.items() if "surname" in k and v), None) or next(str(v) for v in rec.values() if isinstance(v, str) and v.isalpha())
search_ref = timed(kc_client, [("/", {{"filter": "1", "search": sample[i % len(sample)][0]}}) for i in range(REQUESTS // 2)])
search_name = timed(kc_client, [("/", {{"filter": "1", "search": a_name(sample[i % len(sample)][1])}}) for i in range(REQUESTS // 2)])
print(json.dumps({{
    "matches_in_store": total, "visible_to_key_contact": len(ids),
    "publish_100k_new_seconds": round(publish_first, 2), "publish_100k_second_job_seconds": round(publish_second, 2),
    "republish_100k_seen_again_seconds": round(republish, 2),
    "publish_counts": [r1.new, r2.new, r3.updated],
    "queue_key_contact": queue_kc, "queue_investigator": queue_inv, "match_detail": detail,
    "queue_search_reference": search_ref, "queue_search_name": search_name,
    "sqlite_bytes": (tmp / "casework.sqlite3").stat().st_size,
    "peak_rss_mib": peak_rss_mib(),
}}))
import shutil
shutil.rmtree(tmp, ignore_errors=True)
"""


def run() -> dict[str, Any]:
    out = run_isolated(CODE.format(n=MATCHES_PER_JOB, requests=REQUESTS))
    out["goal_publish_seconds"] = 30
    out["goal_p95_ms"] = 150
    n = out["publish_counts"][0]
    out["rows"] = [
        row(f"publish {n:,} inconsistencies (SQLite)", out["publish_100k_new_seconds"], peak_rss_mib=out.get("peak_rss_mib"),
            notes=(f"{round(n / out['publish_100k_new_seconds']):,} matches/s; second job {out['publish_100k_second_job_seconds']} s, "
                   f"republish seen again {out['republish_100k_seen_again_seconds']} s; goal 100k <= 30 s")),
        row(f"queue page, {out['matches_in_store']:,} matches in store", out["queue_key_contact"]["p95_ms"] / 1000,
            notes=(f"p95 of {out['queue_key_contact']['requests']} requests (p50 {out['queue_key_contact']['p50_ms']} ms); "
                   f"investigator p95 {out['queue_investigator']['p95_ms']} ms; goal p95 <= 150 ms")),
        row("queue search by a record's reference", out["queue_search_reference"]["p95_ms"] / 1000,
            notes=(f"p95 of {out['queue_search_reference']['requests']} requests (p50 {out['queue_search_reference']['p50_ms']} ms); "
                   f"by a name p95 {out['queue_search_name']['p95_ms']} ms (p50 {out['queue_search_name']['p50_ms']} ms); goal p95 <= 150 ms")),
        row("match detail page", out["match_detail"]["p95_ms"] / 1000,
            notes=f"p95 of {out['match_detail']['requests']} requests (p50 {out['match_detail']['p50_ms']} ms); goal p95 <= 150 ms"),
    ]
    write_result("casework", out)
    return out
