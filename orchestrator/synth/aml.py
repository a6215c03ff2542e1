"""AML patterns (`is_suspicious_aml`): mules and mule rings, structuring, sanctions, high-risk jurisdictions.

Labels: every mule leg is suspicious for AML; the money leaving a mule (pass-through) is also
fraud, the fan-in legs are not (the senders are victims or paying in on purpose). Structuring,
sanctions exposure and high-risk jurisdictions are AML only.
- mule: one account (usually opened recently) receives from many senders and passes the money on
  within hours: abroad, to a crypto exchange, or out as cash;
- mule_ring: three to six mule accounts run from the same one or two devices on one IP; each fans in
  from several senders, forwards to a collector mule within hours, which sends it out;
- structuring: cash deposits or transfers just below the reporting threshold over a few days, or
  many smaller same-day deposits at different tills;
- sanctions_exposure: payments to (or from) a party whose name is a transliteration or typo of a
  watchlist name;
- high_risk_jurisdiction: payments to or from IR, KP, SY or MM.
"""

from __future__ import annotations

from riskmesh.orchestrator.synth import catalog
from riskmesh.orchestrator.synth.kit import DAY, HOUR, MIN, Episode, Kit, cash_amount, new_ip
from riskmesh.orchestrator.synth.profiles import (
    Json,
    Profile,
    amount_text,
    body,
    cash_party,
    external_party,
    label,
    purpose,
)
from riskmesh.orchestrator.synth.sanctions import near_miss
from riskmesh.orchestrator.synth.world import company_name

__all__ = ["high_risk_jurisdiction", "mule", "mule_ring", "sanctions_exposure", "structuring"]

_TRADE = ("invoice {n}", "cargo freight {n}", "consulting fee", "machinery parts order {n}", "commission", None)
_CRYPTO = ("USDT purchase", "crypto top up", "wallet funding", "OTC desk settlement")


def _trade_purpose(kit: Kit) -> str | None:
    text = kit.pick(_TRADE)
    return None if text is None else text.format(n=1000 + kit.rng.randrange(90_000))


def _fan_in(kit: Kit, m: Profile, t: int, legs: int, spread: int, tag: Json) -> tuple[Episode, float, int]:
    """`legs` transfers from different senders into the mule's account; returns (legs, total, last ts)."""
    rng = kit.rng
    account, cur = m.parties[0]
    peers = kit.by_currency.get(cur, [])
    out: Episode = []
    total = 0.0
    for _ in range(legs):
        t += rng.randint(2 * MIN, max(3 * MIN, spread // legs))
        local = rng.uniform(150, 3000) * catalog.FX_PER_USD[cur]
        total += local
        sender = kit.pick(peers) if peers and rng.random() < 0.5 else None
        if sender is not None and sender is not m:
            device, channel = kit.own_device(sender)
            tx = body("transfer", channel, amount_text(local, cur), cur, sender.parties[0][0], account, tag,
                      device=device, geo=sender.geo, purpose=purpose(rng))  # fmt: skip
        else:
            debtor = external_party(rng, m.country, company=False)
            tx = body(
                "transfer", "online_banking", amount_text(local, cur), cur, debtor, account, tag, purpose=purpose(rng)
            )
        out.append((t, tx))
    return out, total, t


def _cash_out(kit: Kit, m: Profile, t: int, local: float, device: Json | None, channel: str, tag: Json) -> Episode:
    """Move `local` out of the mule's account: abroad, to a crypto exchange, or as cash."""
    rng = kit.rng
    account, cur = m.parties[0]
    way = rng.random()
    out: Episode = []
    if way < 0.2:
        atm_max = 1500 * catalog.FX_PER_USD[cur]
        for n in range(min(6, 1 + int(local // atm_max))):
            t += rng.randint(5 * MIN, 40 * MIN)
            cash = cash_amount(min(local, atm_max) * rng.uniform(0.8, 1.0), cur)
            out.append((t, body("withdrawal", "atm", cash, cur, account, cash_party(m.country, 1 + n), tag, geo=m.geo)))
        return out
    crypto = way < 0.45
    country = m.country if crypto else rng.choice(catalog.MULE_EXIT_COUNTRIES)
    beneficiary = external_party(rng, country, company=True)
    if crypto:
        beneficiary = {**beneficiary, "name": f"{rng.choice(catalog.COMPANY_WORDS)} Digital Assets Ltd"}
    legs = rng.randint(1, 3)
    for _ in range(legs):
        t += rng.randint(2 * MIN, 40 * MIN)
        text = rng.choice(_CRYPTO) if crypto else purpose(rng)
        tx = body("transfer", channel, amount_text(local / legs, cur), cur, account, beneficiary, tag,
                  device=device, geo=m.geo, purpose=text)  # fmt: skip
        out.append((t, tx))
    return out


def mule(kit: Kit, t: int) -> Episode:
    rng = kit.rng
    m = kit.mule()
    out, total, t = _fan_in(kit, m, t, rng.randint(3, 10), rng.randint(3, 30) * HOUR, label("mule", False, True))
    if rng.random() < 0.6:
        device, channel = kit.own_device(m)
    else:  # the handler logs in from elsewhere
        device, channel = kit.new_device_channel(m.country)
    t += rng.randint(15 * MIN, 6 * HOUR)
    out += _cash_out(kit, m, t, total * rng.uniform(0.85, 0.98), device, channel, label("mule", True, True))
    return out


def mule_ring(kit: Kit, t: int) -> Episode:
    rng = kit.rng
    collector = kit.mule()
    cur = collector.parties[0][1]
    pool = [p for p in kit.new_persons if p.parties[0][1] == cur and p is not collector]
    pool = pool or [p for p in kit.by_currency.get(cur, []) if p is not collector and not p.is_company]
    size = min(len(pool), rng.randint(2, 5))
    members = rng.sample(pool, size) if size else []
    ip = new_ip(rng, collector.country)
    devices = [kit.new_device(collector.country, "mobile", ip) for _ in range(rng.choice((1, 1, 2)))]
    fan_in, moved = label("mule_ring", False, True), label("mule_ring", True, True)
    start, out = t, []
    gathered, arrive = 0.0, t
    for m in members:
        legs, total, last = _fan_in(kit, m, start, rng.randint(2, 6), rng.randint(4, 40) * HOUR, fan_in)
        out += legs
        when = last + rng.randint(20 * MIN, 6 * HOUR)
        local = total * rng.uniform(0.88, 0.98)
        account = m.parties[0][0]
        tx = body("transfer", "mobile", amount_text(local, cur), cur, account, collector.parties[0][0], moved,
                  device=kit.pick(devices), geo=m.geo, purpose=purpose(rng))  # fmt: skip
        out.append((when, tx))
        gathered, arrive = gathered + local, max(arrive, when)
    own, total, last = _fan_in(kit, collector, start, rng.randint(0, 4), DAY, fan_in)
    out += own
    t = max(arrive, last) + rng.randint(30 * MIN, 6 * HOUR)
    out += _cash_out(kit, collector, t, (gathered + total) * rng.uniform(0.9, 0.99), kit.pick(devices), "mobile", moved)
    return out


def structuring(kit: Kit, t: int) -> Episode:
    rng = kit.rng
    p = kit.pick(kit.structurers)
    account, cur = p.parties[0]
    limit = catalog.REPORTING_THRESHOLD.get(cur, 10_000)
    tag = label("structuring", False, True)
    device, channel = kit.own_device(p)
    payee = kit.pick(p.payees)
    out: Episode = []
    if rng.random() < 0.2:  # smurfing: many smaller deposits on one day at different tills
        for point in rng.sample(range(1, 40), rng.randint(4, 8)):
            t += rng.randint(10 * MIN, 90 * MIN)
            amount = str(int(limit * rng.uniform(0.25, 0.55)) // 10 * 10)
            out.append(
                (t, body("deposit", "branch", amount, cur, cash_party(p.country, point), account, tag, geo=p.geo))
            )
        return out
    for point in range(rng.randint(3, 7)):
        t += rng.randint(20 * MIN, 30 * HOUR)
        amount = str(int(limit * rng.uniform(0.86, 0.995)) // 10 * 10)
        if rng.random() < 0.7:
            cash = cash_party(p.country, 1 + point * 3 + rng.randrange(3))
            tx = body("deposit", rng.choice(("branch", "atm")), amount, cur, cash, account, tag, geo=p.geo)
        else:
            tx = body("transfer", channel, amount, cur, account, payee, tag, device=device, geo=p.geo)
        out.append((t, tx))
    return out


def _foreign(kit: Kit, name: str, country: str) -> Json:
    return {
        "customer_id": None,
        "account_id": kit.fresh_account(),
        "name": name,
        "country": country,
        "bank_bic": catalog.bank_bic(country, kit.rng.randrange(3)),
    }


def _cross_border(kit: Kit, t: int, p: Profile, other: Json, tag: Json, low: float, high: float) -> Episode:
    """One or two wires between the customer and `other`, outgoing mostly, sometimes incoming."""
    rng = kit.rng
    account, cur = p.parties[0]
    device, channel = kit.own_device(p)
    channel = "wire" if p.is_company or rng.random() < 0.3 else channel
    incoming = rng.random() < 0.25
    out: Episode = []
    for _ in range(1 if rng.random() < 0.75 else 2):
        t += rng.randint(1_000, 2 * DAY)
        amount = kit.habit(p, cur, low, high)
        if incoming:
            tx = body("transfer", "wire", amount, cur, other, account, tag, purpose=_trade_purpose(kit))
        else:
            tx = body("transfer", channel, amount, cur, account, other, tag, device=device, geo=p.geo,
                      purpose=_trade_purpose(kit))  # fmt: skip
        out.append((t, tx))
    return out


def sanctions_exposure(kit: Kit, t: int) -> Episode:
    rng = kit.rng
    p = kit.pick(kit.companies if rng.random() < 0.6 else kit.profiles)
    entry = kit.pick(kit.screened)
    listed = [entry.name, *entry.aliases]
    name = near_miss(rng.choice(listed[:2]), rng, avoid=listed)
    country = entry.countries[0] if entry.countries else rng.choice(catalog.HIGH_RISK_COUNTRIES)
    return _cross_border(kit, t, p, _foreign(kit, name, country), label("sanctions_exposure", False, True), 1, 8)


def high_risk_jurisdiction(kit: Kit, t: int) -> Episode:
    rng = kit.rng
    p = kit.pick(kit.companies if rng.random() < 0.5 else kit.profiles)
    country = rng.choice(catalog.HIGH_RISK_COUNTRIES)
    other = _foreign(kit, company_name(rng, country), country)
    return _cross_border(kit, t, p, other, label("high_risk_jurisdiction", False, True), 1, 10)
