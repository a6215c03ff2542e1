"""Name screening: normalisation, fuzzy matching, the OFAC loaders and the batch tool."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from mcp import Client
from screening_corpus import ordinary_names, perturb

from riskmesh.mcp_servers.screening import NameScreener, normalise_name
from riskmesh.mcp_servers.stores import load_reference_data
from riskmesh.mcp_servers.watchlist_loaders import (
    load_ofac_add,
    load_ofac_alt,
    load_ofac_dir,
    load_ofac_sdn,
    load_opensanctions,
)
from riskmesh.mcp_servers.watchlists import build_watchlists_server
from tests.unit.mcp_servers.tool_payload import payload

OFAC_DIR = Path(__file__).resolve().parents[4] / "shared" / "data" / "ofac"
needs_ofac = pytest.mark.skipif(
    not (OFAC_DIR / "alt.csv").exists(),
    reason=f"OFAC test data not found at {OFAC_DIR} (../shared/data/ofac)",
)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("SMITH, John", "john smith"),
        ("Société Générale S.A.", "generale societe"),
        ("ACME Trading L.L.C.", "acme trading"),
        ("OOO \u201cRoga i Kopyta\u201d", "i kopyta roga"),
        ("Müller GmbH & Co. KG", "muller"),
        ("The Company Ltd", "company ltd the"),  # only company forms: all words kept
        ("  ", ""),
    ],
)
def test_names_are_normalised_for_case_accents_punctuation_company_forms_and_order(raw, normalised) -> None:
    assert normalise_name(raw) == normalised


@pytest.fixture
def screener(world_dir: Path) -> NameScreener:
    return NameScreener(load_reference_data(world_dir).watchlist)


def test_a_reordered_name_without_accents_matches_its_alias(screener: NameScreener) -> None:
    [hit] = screener.screen("Ivan Sergeyevich Petrov", "RU")
    assert hit["entry_id"] == "W1" and hit["matched_alias"] == "PETROV, Ivan Sergeyevich"
    assert hit["score"] == 1.0 and hit["country_match"] is True and "alias" in hit["why"]


def test_company_forms_and_diacritics_do_not_hide_a_listed_company(screener: NameScreener) -> None:
    [hit] = screener.screen("SOCIETE GENERALE D IMPORT EXPORT LTD")
    assert hit["entry_id"] == "W2" and hit["list"] == "EU"


def test_a_small_misspelling_still_matches_and_an_unrelated_name_does_not(screener: NameScreener) -> None:
    [hit] = screener.screen("Ivan Petrow")
    assert hit["entry_id"] == "W1" and 0.88 <= hit["score"] < 1.0
    assert screener.screen("Li Wei") == []
    assert screener.screen("") == []


def test_the_threshold_decides_what_counts_as_a_candidate(screener: NameScreener) -> None:
    assert screener.screen("Ivan Petrovsky", threshold=0.97) == []
    assert screener.screen("Ivan Petrovsky", threshold=0.80)[0]["entry_id"] == "W1"


async def test_the_batch_tool_answers_per_ref_best_first(screener: NameScreener) -> None:
    server = build_watchlists_server(screener)
    names = [
        {"ref": "T1:debtor", "name": "Bad Shell Holdings", "country": None},
        {"ref": "T1:creditor", "name": "Jane Doe"},
    ]
    async with Client(server) as client:
        result = await client.call_tool("screen_names_batch", {"names": names})
        refused = await client.call_tool("screen_names_batch", {"names": names, "threshold": 3})
    assert payload(result)["results"]["T1:debtor"][0]["entry_id"] == "W3"
    assert payload(result)["results"]["T1:creditor"] == []
    assert refused.is_error


def test_the_sdn_loader_reads_ofac_layout_types_and_programs(tmp_path: Path) -> None:
    (tmp_path / "sdn.csv").write_text(
        '36,"AEROCARIBBEAN AIRLINES",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n'
        '2674,"ABBAS, Abu","individual","SDGT] [IRAQ2",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"DOB 1948."\r\n'
        "broken\r\n\x1a",
        encoding="utf-8",
    )
    (tmp_path / "alt.csv").write_text(
        '36,12,"aka","AERO-CARIBBEAN",-0- \r\n99,13,"fka","ORPHAN ALIAS CO",-0- \r\n', encoding="utf-8"
    )
    sdn = load_ofac_sdn(tmp_path / "sdn.csv")
    assert sdn["2674"].type == "person" and sdn["2674"].programs == ["SDGT", "IRAQ2"]
    assert sdn["36"].type == "entity" and sdn["36"].metadata["ent_num"] == "36"
    entries = {e.entry_id: e for e in load_ofac_dir(tmp_path)}
    assert entries["OFAC-36"].aliases == ["AERO-CARIBBEAN"]
    assert entries["OFAC-99"].name == "ORPHAN ALIAS CO"


@needs_ofac
def test_the_real_ofac_alt_file_loads_every_entity() -> None:
    entries = load_ofac_alt(OFAC_DIR / "alt.csv")
    assert len(entries) > 8000
    cuba = next(e for e in entries if e.entry_id == "OFAC-306")
    assert cuba.name == "NATIONAL BANK OF CUBA" and cuba.list == "OFAC-SDN"


@needs_ofac
def test_real_ofac_names_match_through_word_order_case_and_transliteration() -> None:
    screener = NameScreener(load_ofac_alt(OFAC_DIR / "alt.csv"))
    assert screener.screen("Olesya Mendeleyeva")[0]["entry_id"] == "OFAC-52412"
    assert screener.screen("Aero Caribbean Ltd.")[0]["entry_id"] == "OFAC-36"
    assert screener.screen("Lebanese Hizbollah")[0]["matched_alias"] == "LEBANESE HIZBALLAH"
    assert screener.screen("Maria Schmidt-Bäcker of Nowhere") == []


@needs_ofac
def test_five_hundred_names_against_the_ofac_list_screen_within_a_few_seconds() -> None:
    entries = load_ofac_alt(OFAC_DIR / "alt.csv")
    screener = NameScreener(entries)
    rng = random.Random(3)
    names = [e.name for e in rng.sample(entries, 250)] + [f"Customer {i} Example" for i in range(250)]
    started = time.perf_counter()
    hits = sum(bool(screener.screen(n)) for n in names)
    assert time.perf_counter() - started < 5.0
    assert hits >= 250


DATA = Path(__file__).resolve().parent / "data"


def test_the_ofac_address_file_gives_entries_their_iso_countries(tmp_path: Path) -> None:
    (tmp_path / "alt.csv").write_text('36,12,"aka","AERO-CARIBBEAN",-0- \r\n', encoding="utf-8")
    (tmp_path / "add.csv").write_text(
        '36,25,-0- ,"Havana","Cuba",-0- \r\n36,26,-0- ,"Simferopol","Region: Crimea",-0- \r\n'
        '36,27,-0- ,-0- ,"Atlantis",-0- \r\n36,28,-0- ,"Havana","Cuba",-0- \r\n',
        encoding="utf-8",
    )
    assert load_ofac_add(tmp_path / "add.csv") == {"36": ["CU", "UA"]}
    [entry] = load_ofac_dir(tmp_path)
    assert entry.countries == ["CU", "UA"]


def test_opensanctions_targets_load_with_aliases_countries_birth_date_and_type() -> None:
    entries = {e.entry_id: e for e in load_opensanctions(DATA / "targets.simple.csv")}
    assert set(entries) == {"OS-NK-test-1", "OS-NK-test-2", "OS-NK-test-3"}  # the nameless row is skipped
    person = entries["OS-NK-test-1"]
    assert (person.type, person.list, person.date_of_birth) == ("person", "OpenSanctions", "1961-02-03")
    assert person.aliases == ["Ivan Testov", "Иван Тестов"] and person.countries == ["RU", "UA"]
    assert person.programs == ["EU Financial Sanctions", "UK HMT"]
    assert entries["OS-NK-test-2"].countries == ["AE"]  # "xx" is no country
    assert entries["OS-NK-test-3"].type == "vessel"
    hit = NameScreener(entries.values()).screen("Testov, Ivan")[0]
    assert hit["entry_id"] == "OS-NK-test-1"


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [("Mohammed Yousef", "muhammad yusuf"), ("MUHAMMAD YUSUF", "muhammad yusuf"), ("Ch'oe O'Brien", "choe obrien")],
)
def test_common_transliterations_and_apostrophes_normalise_to_one_spelling(variant, canonical) -> None:
    assert normalise_name(variant) == canonical


@needs_ofac
def test_screening_finds_95_percent_of_500_perturbed_ofac_aliases_and_hits_under_1_percent_of_1000_names() -> None:
    entries = load_ofac_alt(OFAC_DIR / "alt.csv")
    screener = NameScreener(entries)
    aliases = [
        (e.entry_id, alias)
        for e in entries
        for alias in (e.name, *e.aliases)
        if len(normalise_name(alias).replace(" ", "")) >= 6  # a typo in a 4-letter name is another name
    ]
    rng = random.Random(5)
    started = time.perf_counter()
    found = 0
    for entry_id, alias in rng.sample(aliases, 500):
        candidates = screener.screen(perturb(rng, alias))  # default threshold
        found += any(c["entry_id"] == entry_id for c in candidates)
    perturbed_s = time.perf_counter() - started
    started = time.perf_counter()
    false_hits = [n for n in ordinary_names(1000) if screener.screen(n)]
    ordinary_s = time.perf_counter() - started
    assert found >= 475, f"recall {found / 500:.1%} on perturbed OFAC aliases"
    assert len(false_hits) <= 10, f"{len(false_hits)} ordinary names hit: {false_hits[:20]}"
    assert perturbed_s < 5.0 and ordinary_s < 5.0, (perturbed_s, ordinary_s)
