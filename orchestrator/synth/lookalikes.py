"""Legitimate behaviour that looks like fraud or AML at first sight, so that rules alone are not enough.

All of it is labelled legitimate (`pattern: null`). Each look-alike shadows a pattern:
- travel: card purchases and ATM cash abroad for days, on the customer's usual phone (vs account takeover);
- new_phone: a device never seen, at home, then normal amounts to known payees (vs account takeover);
  the phone stays with the customer, so later normal traffic uses it too;
- big_purchase: one large purchase or a car paid by transfer (vs bust-out, cash-out);
- new_payee: a first payment to a new payee, some purposes read like scams (vs APP scam);
- cash_business: a shop banking its takings once, close to the reporting threshold (vs structuring);
- namesake: a payee sharing a first name with listed persons (vs sanctions exposure);
- marketplace_seller: many small incoming transfers in a day, no pass-through (vs mules);
- trade_corridor: a company paying suppliers in AE, TR, CY, PA or HK (vs high-risk jurisdictions).
"""

from __future__ import annotations

from bisect import bisect
from collections.abc import Callable
from itertools import accumulate

from riskmesh.orchestrator.synth import catalog
from riskmesh.orchestrator.synth.kit import DAY, HOUR, MIN, Episode, Kit, cash_amount
from riskmesh.orchestrator.synth.profiles import (
    LEGIT,
    amount_text,
    billers,
    body,
    cash_party,
    city_geo,
    external_party,
    purpose,
)
from riskmesh.orchestrator.synth.sanctions import namesake as namesake_name

__all__ = ["LOOKALIKE_RATES", "LookalikeBook"]

#: Episodes started per normal transaction, per look-alike.
LOOKALIKE_RATES: dict[str, float] = {
    "travel": 0.0008,
    "new_phone": 0.0012,
    "big_purchase": 0.002,
    "new_payee": 0.003,
    "cash_business": 0.0004,
    "namesake": 0.0003,
    "marketplace_seller": 0.0003,
    "trade_corridor": 0.0006,
}
_TRAVEL_MCCS = ("5812", "5814", "5411", "4121", "4111", "5311", "5691", "5912", "7011", "5999")
_BIG_MCCS = ("5732", "5944", "4511", "5311", "7011")
_BIG_BUYS = ("car purchase", "furniture order", "kitchen renovation", "piano purchase")
_SECOND_HAND = ("second-hand bike", "order {n}", "concert ticket", "sofa", "baby stroller", None)
_CORRIDOR = ("AE", "TR", "CY", "PA", "HK")


def travel(kit: Kit, t: int) -> Episode:
    rng = kit.rng
    p = kit.pick(kit.persons)
    dest = kit.pick([c for c in sorted(kit.country_index) if c != p.country] or [p.country])
    debtor, cur = p.card
    device, _ = kit.own_device(p)
    out: Episode = []
    if rng.random() < 0.6:  # the flight, booked from home
        m = kit.pick(kit.shops(("4511",), p.country))
        fare = amount_text(kit.usd(p, 4, 20) * catalog.FX_PER_USD[cur], cur)
        out.append((t, body("card_purchase", "card", fare, cur, debtor, m.creditor, LEGIT, merchant=m.merchant,
                            device=device, geo=p.geo)))  # fmt: skip
    t += rng.randint(2 * HOUR, 3 * DAY)
    shops, here = kit.shops(_TRAVEL_MCCS, dest), city_geo(dest)
    for day in range(rng.randint(3, 10)):
        for _ in range(rng.randint(0, 4)):
            when = t + day * DAY + rng.randint(8 * HOUR, 23 * HOUR)
            m = kit.pick(shops)
            amount = amount_text(kit.usd(p, 0.3, 3) * m.share * catalog.FX_PER_USD[cur], cur)
            online = device is not None and rng.random() < 0.25
            out.append((when, body("card_purchase", "card", amount, cur, debtor, m.creditor, LEGIT, merchant=m.merchant,
                                   device=device if online else None, geo=here if online else m.geo)))  # fmt: skip
        if rng.random() < 0.15:
            cash = cash_amount(rng.uniform(80, 400) * catalog.FX_PER_USD[cur], cur)
            when = t + day * DAY + rng.randint(9 * HOUR, 20 * HOUR)
            out.append((when, body("withdrawal", "atm", cash, cur, debtor, cash_party(dest, 1), LEGIT, geo=here)))
    return out


def new_phone(kit: Kit, t: int) -> Episode:
    rng = kit.rng
    p = kit.pick(kit.persons if rng.random() < 0.9 else kit.companies)
    device = kit.new_device(p.country, "mobile")
    p.devices.append((device, "mobile"))
    debtor, cur = p.parties[0]
    out: Episode = []
    for _ in range(rng.randint(2, 8)):
        t += rng.randint(10 * MIN, DAY)
        if rng.random() < 0.6:
            payee, tx_type, text = kit.pick(p.payees), "transfer", purpose(rng)
        else:
            payee, tx_type, text = kit.pick(billers(p.country)), "payment", f"bill {rng.randrange(10**6):06d}"
        amount = kit.habit(p, cur, 0.3, 3)
        out.append(
            (t, body(tx_type, "mobile", amount, cur, debtor, payee, LEGIT, device=device, geo=p.geo, purpose=text))
        )
    return out


def big_purchase(kit: Kit, t: int) -> Episode:
    rng = kit.rng
    p = kit.pick(kit.persons)
    device, channel = kit.own_device(p)
    t += rng.randint(MIN, 6 * HOUR)
    if rng.random() < 0.7:
        debtor, cur = p.card
        m = kit.pick(kit.shops(_BIG_MCCS, p.country))
        online = device is not None and rng.random() < 0.4
        tx = body("card_purchase", "card", kit.habit(p, cur, 8, 40), cur, debtor, m.creditor, LEGIT,
                  merchant=m.merchant, device=device if online else None, geo=p.geo if online else m.geo)  # fmt: skip
        return [(t, tx)]
    debtor, cur = p.parties[0]
    seller = external_party(rng, p.country, company=True)
    tx = body("transfer", channel, kit.habit(p, cur, 15, 80), cur, debtor, seller, LEGIT, device=device, geo=p.geo,
              purpose=rng.choice(_BIG_BUYS))  # fmt: skip
    return [(t, tx)]


def new_payee(kit: Kit, t: int) -> Episode:
    rng = kit.rng
    p = kit.pick(kit.persons if rng.random() < 0.75 else kit.companies)
    debtor, cur = p.parties[0]
    device, channel = kit.own_device(p)
    abroad = rng.random() < 0.15
    payee = external_party(rng, rng.choice(catalog.MULE_EXIT_COUNTRIES) if abroad else p.country, rng.random() < 0.4)
    text = rng.choice(catalog.LEGIT_PURPOSES)
    out: Episode = []
    for n in range(1 if rng.random() < 0.7 else rng.randint(2, 3)):
        t += rng.randint(10 * MIN, 12 * HOUR) if n == 0 else rng.randint(DAY, 7 * DAY)
        amount = kit.habit(p, cur, 1.5, 15)
        out.append(
            (t, body("transfer", channel, amount, cur, debtor, payee, LEGIT, device=device, geo=p.geo, purpose=text))
        )
    return out


def cash_business(kit: Kit, t: int) -> Episode:
    rng = kit.rng
    shops = [p for p in kit.companies if p.parties[0][1] in catalog.REPORTING_THRESHOLD] or kit.structurers
    p = kit.pick(shops)
    account, cur = p.parties[0]
    limit = catalog.REPORTING_THRESHOLD.get(cur, 10_000)
    amount = str(int(limit * rng.uniform(0.7, 1.3)) // 10 * 10)
    t += rng.randint(MIN, 8 * HOUR)
    return [(t, body("deposit", "branch", amount, cur, cash_party(p.country, 1 + rng.randrange(39)), account, LEGIT,
                     geo=p.geo, purpose="daily takings"))]  # fmt: skip


def namesake(kit: Kit, t: int) -> Episode:
    rng = kit.rng
    p = kit.pick(kit.profiles)
    debtor, cur = p.parties[0]
    device, channel = kit.own_device(p)
    country = rng.choice((p.country, p.country, "AE", "TR", "GB"))
    payee = {**external_party(rng, country, company=False), "name": namesake_name(rng)}
    t += rng.randint(MIN, 6 * HOUR)
    return [(t, body("transfer", channel, kit.habit(p, cur, 0.5, 5), cur, debtor, payee, LEGIT, device=device,
                     geo=p.geo, purpose=purpose(rng)))]  # fmt: skip


def marketplace_seller(kit: Kit, t: int) -> Episode:
    rng = kit.rng
    p = kit.pick(kit.persons)
    account, cur = p.parties[0]
    out: Episode = []
    for _ in range(rng.randint(4, 10)):
        t += rng.randint(5 * MIN, 3 * HOUR)
        buyer = external_party(rng, p.country, company=False)
        text = rng.choice(_SECOND_HAND)
        text = None if text is None else text.format(n=rng.randrange(1000, 99_999))
        amount = amount_text(rng.uniform(10, 300) * catalog.FX_PER_USD[cur], cur)
        out.append((t, body("transfer", "online_banking", amount, cur, buyer, account, LEGIT, purpose=text)))
    return out


def trade_corridor(kit: Kit, t: int) -> Episode:
    rng = kit.rng
    p = kit.pick(kit.companies)
    debtor, cur = p.parties[0]
    device, _ = kit.own_device(p)
    supplier = external_party(rng, rng.choice(_CORRIDOR), company=True)
    t += rng.randint(MIN, 8 * HOUR)
    text = f"invoice {rng.randrange(1000, 99_999)}"
    return [(t, body("transfer", "wire", kit.habit(p, cur, 1, 10), cur, debtor, supplier, LEGIT, device=device,
                     geo=p.geo, purpose=text))]  # fmt: skip


_BUILDERS: dict[str, Callable[[Kit, int], Episode]] = {
    "travel": travel,
    "new_phone": new_phone,
    "big_purchase": big_purchase,
    "new_payee": new_payee,
    "cash_business": cash_business,
    "namesake": namesake,
    "marketplace_seller": marketplace_seller,
    "trade_corridor": trade_corridor,
}


class LookalikeBook:
    """Chooses and builds look-alike episodes in proportion to `LOOKALIKE_RATES`."""

    def __init__(self, kit: Kit, rates: dict[str, float] | None = None) -> None:
        self._kit = kit
        rates = LOOKALIKE_RATES if rates is None else rates
        names = [n for n in _BUILDERS if rates.get(n, 0.0) > 0.0]
        self._builders = [_BUILDERS[n] for n in names]
        self._cum = list(accumulate(rates[n] for n in names))
        self.total_rate = self._cum[-1] if self._cum else 0.0

    def episode(self, start: int) -> Episode:
        i = min(len(self._builders) - 1, bisect(self._cum, self._kit.rng.random() * self.total_rate))
        return self._builders[i](self._kit, start)
