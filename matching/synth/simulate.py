"""One chunk of the population, simulated end to end: people, their lives as each body records
them, and the planted scenarios, in the order that keeps them consistent.
"""

from __future__ import annotations

import numpy as np

from matching.synth import (
    business,
    children,
    claims,
    homes,
    life,
    plant,
    plant_deaths,
    plant_homes,
    services,
)
from matching.synth.addresses import place_fields
from matching.synth.config import EXERCISE_DATE, TAX_YEAR_START, Rates
from matching.synth.population import build, unique_emails
from matching.synth.table import Table
from matching.synth.world import World


def simulate(rng: np.random.Generator, n_people: int, seq: dict[str, list[int]], rates: Rates, chunk_index: int) -> World:
    ref = np.datetime64(EXERCISE_DATE, "D")
    pop = build(rng, n_people, ref, seq)
    props = pop.properties
    for name, col in place_fields(props).items():
        props[name] = col
    w = World(ref=ref, tax_year_start=np.datetime64(TAX_YEAR_START, "D"), rng=rng, people=pop.people,
              households=pop.households, addresses=props, n_homes=len(props), chunk_index=chunk_index)
    # Natural life.
    life.deaths(w)
    life.employment(w)
    life.pensions(w)
    claims.claims(w)
    claims.students(w)
    services.blue_badges(w)
    services.concessionary_passes(w)
    children.pupils(w)
    children.post16(w)
    children.admissions(w)
    children.free_school_meals(w)
    # Scenarios about people's own records, then services stop at death and extracts are cut.
    planter = plant.Planter(w, rates, n_people, seq)
    for job, kind in (("hb-to-payroll", "housing_benefit"), ("ctr-to-payroll", "council_tax_reduction")):
        plant.claims_to_payroll(planter, job, kind)
    for job, kind in (("hb-to-deceased", "housing_benefit"), ("ctr-to-deceased", "council_tax_reduction")):
        plant_deaths.claims_to_deceased(planter, job, kind)
    plant_deaths.pensions_to_deceased(planter)
    for job, kind in (("blue-badges-to-deceased", "blue_badges"), ("concessionary-travel-to-deceased", "concessionary_travel")):
        plant_deaths.services_to_deceased(planter, job, kind)
    plant.payroll_to_payroll(planter)
    for job, kind in (("hb-to-student-loans", "housing_benefit"), ("ctr-to-student-loans", "council_tax_reduction")):
        plant.claims_to_students(planter, job, kind)
    plant.fsm_to_payroll(planter)
    plant.single_person_discounts(planter)
    life.stop_at_death(w)
    services.settle(w)
    life.extract_windows(w)
    claims.declare_council_earnings(w)
    # Homes, from the households as they now are.
    homes.council_tax(w)
    homes.electoral_register(w)
    homes.tenancies(w)
    homes.waiting_list(w)
    plant_homes.resolve_discounts(planter)
    plant_homes.tenancies(planter)
    homes.right_to_buy(w)
    homes.parking_permits(w)
    plant_homes.admissions(planter)
    # Suppliers and payments.
    business.creditors(w, seq)
    plant_homes.creditors(planter)
    business.payments(w)
    plant_homes.payments(planter)
    plant_homes.natural_hard_negatives(planter)
    # Last, once every name change and namesake is made: no two people share an email address.
    unique_emails(w.people)
    person_files(w)
    w.upn_by_person = {int(p): str(u) for p, u in zip(w.tables["pupils"]["person"], w.tables["pupils"]["upn"], strict=True)}
    return w


def person_files(w: World) -> None:
    """Two councils' lists of people for the generic person link: Kingston's customer contacts
    and Richmond's parking customers, overlapping in the people they hold."""
    rng = w.rng
    p = w.people
    adult = (p["age"] >= 18) & np.isnat(p["dod"])
    both = adult & (rng.random(len(p)) < 0.02)
    rows = []
    for body, home_rate, other_rate in ((0, 0.04, 0.006), (1, 0.04, 0.006)):
        rate = np.where(p["borough"] == body, home_rate, other_rate)
        who = np.flatnonzero(adult & ((rng.random(len(p)) < rate) | both))
        rows.append(Table({"person": who, "body": np.full(len(who), body), "addr": p["property"][who]}))
    w.add_rows("person", Table.concat(rows))
