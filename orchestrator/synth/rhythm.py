"""Calendar rhythms: a quieter weekend, and pay days with their salary credits, rent and bills.

About three in four persons are paid monthly on a fixed rule (the 10th, 15th, 25th or the last
business day; a pay day on a weekend moves to the Friday before). Employers are companies at
this bank (a payroll run is then one account paying many, a legitimate fan-out) or elsewhere.
Rent and one or two bills follow within three days. All of it is legitimate.
"""

from __future__ import annotations

import calendar
import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from riskmesh.orchestrator.synth import catalog
from riskmesh.orchestrator.synth.kit import DAY, HOUR, MIN, Episode, Kit
from riskmesh.orchestrator.synth.profiles import LEGIT, Json, Profile, amount_text, billers, body, external_party

__all__ = ["WEEKDAY_RATE", "Payroll"]

WEEKDAY_RATE: tuple[float, ...] = (1.0, 0.97, 0.98, 1.0, 1.12, 0.9, 0.72)
"""Relative activity Monday..Sunday (Friday busiest, Sunday quietest)."""
_LAST = 0  # pay rule: last business day of the month
_RULES = {"CN": (10, 15, 15, _LAST), "*": (25, 25, _LAST, _LAST, 15)}


@dataclass(slots=True)
class _Employee:
    profile: Profile
    employer: Json
    channel: str
    salary_usd: float
    landlord: Json | None
    rent_share: float
    run_ms: int  # when the employer's payroll run books, after the start of the day


def _last_business_day(d: date) -> int:
    last = date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])
    while last.weekday() >= 5:
        last -= timedelta(days=1)
    return last.day


def _rules_paid_on(d: date) -> set[int]:
    """The pay rules that pay out on `d` (weekend pay days move to the Friday before)."""
    if d.weekday() >= 5:
        return set()
    days = {d.day} | ({(d + timedelta(days=k)).day for k in (1, 2)} if d.weekday() == 4 else set())
    days = {x for x in days if x in (10, 15, 25)}
    if d.day == _last_business_day(d):
        days.add(_LAST)
    return days


class Payroll:
    """Who is paid when, by whom, and how much; `day` builds one day's salary run and what follows it."""

    def __init__(self, kit: Kit, rng: random.Random) -> None:
        self._kit = kit
        self._by_rule: dict[int, list[_Employee]] = {}
        runs: dict[str, int] = {}
        for p in kit.persons:
            if p.is_company or rng.random() >= 0.75:
                continue
            cur = p.parties[0][1]
            employers = [c for c in kit.by_currency.get(cur, []) if c.is_company]
            if employers and rng.random() < 0.55:
                boss = rng.choice(employers)
                employer, channel = boss.parties[0][0], "api"
            else:
                employer, channel = external_party(rng, p.country, company=True), "wire"
            rent = external_party(rng, p.country, company=rng.random() < 0.4) if rng.random() < 0.6 else None
            rule = rng.choice(_RULES.get(p.country, _RULES["*"]))
            salary = min(60_000.0, math.exp(p.mu) * rng.uniform(25, 70))
            run = runs.setdefault(employer["account_id"], 5 * HOUR + rng.randrange(5 * HOUR))
            employee = _Employee(p, employer, channel, salary, rent, rng.uniform(0.2, 0.4), run)
            self._by_rule.setdefault(rule, []).append(employee)

    def day(self, day_start: int, not_before: int) -> Episode:
        """Salary credits paid on the day starting at `day_start` (ms), rent and bills in the days after."""
        d = datetime.fromtimestamp(day_start / 1000, UTC).date()
        out: Episode = []
        for rule in sorted(_rules_paid_on(d)):
            for e in self._by_rule.get(rule, ()):
                out += self._pay(e, day_start, d)
        return [(max(ts, not_before), tx) for ts, tx in out]

    def _pay(self, e: _Employee, day_start: int, d: date) -> Episode:
        rng = self._kit.rng
        p = e.profile
        account, cur = p.parties[0]
        fx = catalog.FX_PER_USD[cur]
        salary = e.salary_usd * rng.uniform(0.97, 1.05)
        run = day_start + e.run_ms
        text = f"salary {d:%b %Y}".upper() if rng.random() < 0.5 else f"payroll {d:%Y-%m}"
        out: Episode = [(run + rng.randrange(2 * MIN), body("transfer", e.channel, amount_text(salary * fx, cur), cur,
                                                           e.employer, account, LEGIT, purpose=text))]  # fmt: skip
        if e.landlord is not None:
            when = day_start + rng.randint(0, 2) * DAY + rng.randint(7 * HOUR, 22 * HOUR)
            rent = amount_text(salary * e.rent_share * fx, cur)
            out.append(
                (
                    when,
                    body("transfer", "online_banking", rent, cur, account, e.landlord, LEGIT, purpose=f"rent {d:%b}"),
                )
            )
        for biller in rng.sample(billers(p.country), rng.randint(1, 2)):
            when = day_start + rng.randint(0, 3) * DAY + rng.randint(6 * HOUR, 23 * HOUR)
            bill = amount_text(salary * rng.uniform(0.01, 0.06) * fx, cur)
            out.append((when, body("payment", "online_banking", bill, cur, account, biller, LEGIT,
                                   purpose=f"bill {rng.randrange(10**6):06d}")))  # fmt: skip
        return out
