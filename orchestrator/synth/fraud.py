"""Fraud patterns (`is_fraud`): account takeover, card testing then cash-out, APP scams, credit bust-out.

Each builder takes the shared `Kit` and the episode's start (ms) and returns the episode. What
makes each one learnable, and what varies:
- account_takeover: a device the account never used, usually abroad (or a domestic SIM swap with a
  new IP), a payee never paid, amounts far above habit, sometimes a small probe first;
- card_testing: tiny card-not-present purchases from a fraudster's device, then (mostly) a cash-out:
  big online purchases, ATM withdrawals abroad with a cloned card, or money-transfer kiosks;
- app_scam: the customer on their own device pays a new payee (often a mule account), usually with a
  scam-like purpose, sometimes several escalating payments over days;
- credit_bust_out: a customer maxes a credit line with large purchases and cash advances over a few
  days (the world's credit record then shows the line maxed and delinquent, see `dataset`).
"""

from __future__ import annotations

from decimal import Decimal

from riskmesh.orchestrator.synth import catalog
from riskmesh.orchestrator.synth.kit import DAY, HOUR, MIN, Episode, Kit, cash_amount
from riskmesh.orchestrator.synth.profiles import (
    Json,
    Profile,
    amount_text,
    body,
    cash_party,
    city_geo,
    external_party,
    label,
    purpose,
)

__all__ = ["account_takeover", "app_scam", "card_testing", "credit_bust_out"]

_TESTING_MCCS = ("5815", "5816", "5999", "4829")
_CASHOUT_MCCS = ("5732", "5944", "4511")
_BUST_MCCS = ("5732", "5944", "5311", "5691", "4511", "7011")


def _scam_payee(kit: Kit, victim: Profile, share_mules: float) -> Json:
    """A payee the victim never paid: a mule account at this bank, or an account elsewhere."""
    rng = kit.rng
    if rng.random() < share_mules:
        mule = kit.mule()
        if mule is not victim:
            return mule.parties[0][0]
    country = victim.country if rng.random() < 0.6 else rng.choice(catalog.MULE_EXIT_COUNTRIES)
    return external_party(rng, country, company=rng.random() < 0.3)


def account_takeover(kit: Kit, t: int) -> Episode:
    rng = kit.rng
    victim = kit.pick(kit.persons if rng.random() < 0.85 else kit.companies)
    abroad = rng.random() < 0.7
    where = rng.choice(catalog.FRAUDSTER_COUNTRIES) if abroad else victim.country
    device, channel = kit.new_device_channel(where)
    geo = city_geo(where) if abroad else victim.geo
    payee = _scam_payee(kit, victim, share_mules=0.3)
    debtor, cur = victim.parties[0]
    tag = label("account_takeover", True, False)
    out: Episode = []
    t += rng.randint(MIN, 4 * HOUR)
    if rng.random() < 0.3:  # a probe: does the new payee work?
        probe = kit.habit(victim, cur, 0.2, 1.5)
        out.append((t, body("transfer", channel, probe, cur, debtor, payee, tag, device=device, geo=geo)))
    low, high = (4, 25) if victim.is_company else (8, 60)
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
        t += rng.randint(2 * MIN, 40 * MIN)
        amount = kit.habit(victim, cur, low, high)
        text = purpose(rng)
        out.append(
            (t, body("transfer", channel, amount, cur, debtor, payee, tag, device=device, geo=geo, purpose=text))
        )
    return out


def card_testing(kit: Kit, t: int) -> Episode:
    rng = kit.rng
    victim = kit.pick(kit.persons)
    debtor, cur = victim.card
    where = rng.choice(catalog.FRAUDSTER_COUNTRIES)
    device = kit.new_device(where, "desktop")
    tag = label("card_testing", True, False)
    fx = catalog.FX_PER_USD[cur]
    testing = kit.shops(_TESTING_MCCS)
    shops = [kit.pick(testing) for _ in range(rng.choice((1, 2, 3)))]
    fixed = rng.random() < 0.3  # some testers always try the same tiny amount
    tiny = rng.uniform(0.5, 3.0)
    out: Episode = []
    for _ in range(rng.randint(3, 14)):
        t += rng.randint(3_000, 3 * MIN)
        m = kit.pick(shops)
        usd = tiny if fixed else rng.uniform(0.3, 4.0)
        amount = amount_text(usd * fx, cur)
        out.append(
            (t, body("card_purchase", "card", amount, cur, debtor, m.creditor, tag, merchant=m.merchant, device=device))
        )
    way = rng.random()
    if way < 0.15:
        return out  # tested and sold on: no cash-out here
    t += rng.randint(10 * MIN, 36 * HOUR)
    if way < 0.6:
        for m in [kit.pick(kit.shops(_CASHOUT_MCCS)) for _ in range(rng.randint(1, 4))]:
            t += rng.randint(MIN, 25 * MIN)
            big = kit.habit(victim, cur, 8, 40)
            out.append(
                (
                    t,
                    body(
                        "card_purchase", "card", big, cur, debtor, m.creditor, tag, merchant=m.merchant, device=device
                    ),
                )
            )
    elif way < 0.85:  # a cloned card at ATMs abroad
        geo = city_geo(where)
        for n in range(rng.randint(2, 5)):
            t += rng.randint(3 * MIN, 50 * MIN)
            cash = cash_amount(rng.uniform(200, 600) * fx, cur)
            out.append((t, body("withdrawal", "atm", cash, cur, debtor, cash_party(where, 1 + n), tag, geo=geo)))
    else:
        kiosks = kit.shops(("4829",))
        for _ in range(rng.randint(1, 3)):
            t += rng.randint(2 * MIN, 30 * MIN)
            m = kit.pick(kiosks)
            amount = amount_text(rng.uniform(300, 1500) * fx, cur)
            out.append(
                (
                    t,
                    body(
                        "card_purchase",
                        "card",
                        amount,
                        cur,
                        debtor,
                        m.creditor,
                        tag,
                        merchant=m.merchant,
                        device=device,
                    ),
                )
            )
    return out


def app_scam(kit: Kit, t: int) -> Episode:
    rng = kit.rng
    story = rng.choices(list(catalog.SCAM_STORIES), weights=(35, 25, 12, 16, 12))[0]
    if story == "invoice":
        victim = kit.pick(kit.companies)
    else:
        victim = kit.pick(kit.elderly if rng.random() < 0.4 else kit.persons)
    debtor, cur = victim.parties[0]
    device, channel = kit.own_device(victim)
    payee = _scam_payee(kit, victim, share_mules=0.45)
    tag = label("app_scam", True, False)
    texts = catalog.SCAM_STORIES[story]
    payments = rng.randint(2, 4) if story in ("investment", "romance") and rng.random() < 0.5 else 1
    low, high = (2, 12) if victim.is_company else (3, 30)
    out: Episode = []
    for n in range(payments):
        t += rng.randint(10 * MIN, 20 * HOUR) if n == 0 else rng.randint(4 * HOUR, 3 * DAY)
        text = rng.choice(texts) if rng.random() < 0.75 else rng.choice(("payment", "transfer", "family support", None))
        amount = kit.habit(victim, cur, low * (1 + n), high * (1 + n))
        tx = body("transfer", channel, amount, cur, debtor, payee, tag, device=device, geo=victim.geo, purpose=text)
        out.append((t, tx))
    return out


def credit_bust_out(kit: Kit, t: int) -> Episode:
    """Max the credit line with big purchases and cash advances over one to five days."""
    rng = kit.rng
    lines = kit.credit_lines
    p, record = kit.pick(lines) if lines else (kit.pick(kit.persons), None)
    if record is None or p.customer_id in kit.busted:
        return card_testing(kit, t)  # nothing left to bust out: another fraud instead
    line_cur = str(record.metadata.get("currency") or catalog.COUNTRY_CURRENCY[p.country])
    debtor, cur = p.card
    rate = catalog.FX_PER_USD[cur] / catalog.FX_PER_USD.get(line_cur, 1.0)
    headroom = float(record.limit - record.exposure) * rng.uniform(0.92, 1.08)
    steps = rng.randint(4, 14)
    weights = [rng.uniform(0.3, 1.0) for _ in range(steps)]
    device, _ = kit.own_device(p)
    tag = label("credit_bust_out", True, False)
    span = rng.randint(1, 5) * DAY
    times = sorted(t + rng.randrange(span) for _ in range(steps))
    out: Episode = []
    drawn = 0.0
    for when, w in zip(times, weights, strict=True):
        local = headroom * w / sum(weights) * rate
        if rng.random() < 0.3 and local <= 2500 * catalog.FX_PER_USD[cur]:  # a cash advance at an ATM
            amount = cash_amount(local, cur)
            out.append(
                (
                    when,
                    body(
                        "withdrawal",
                        "atm",
                        amount,
                        cur,
                        debtor,
                        cash_party(p.country, 1 + rng.randrange(39)),
                        tag,
                        geo=p.geo,
                    ),
                )
            )
        else:
            m = kit.pick(kit.shops(_BUST_MCCS, p.country))
            amount = amount_text(local, cur)
            online = device is not None and rng.random() < 0.4
            geo = p.geo if online else m.geo
            tx = body("card_purchase", "card", amount, cur, debtor, m.creditor, tag, merchant=m.merchant,
                      device=device if online else None, geo=geo)  # fmt: skip
            out.append((when, tx))
        drawn += float(amount) / rate
    kit.busted[p.customer_id] = Decimal(int(drawn))
    return out
