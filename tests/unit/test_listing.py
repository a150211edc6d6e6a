"""The directory's people pages: grouped by initial, split where an initial is long, with
boundaries that a hub added or removed moves only when its own page is full."""

from __future__ import annotations

import json

from hubs.listing import OTHER_INITIAL, PAGE_SIZE, SUMMARY_CHARS, Entry, make_listing, search_index


def person(name: str, summary: str = "") -> Entry:
    return Entry(name, summary, "", False, True)


def team(name: str, summary: str = "") -> Entry:
    return Entry(name, summary, "", False, False)


def names(count: int, prefix: str = "m") -> list[str]:
    """*count* distinct names of a few shapes sharing *prefix*, as real usernames do."""
    return sorted(f"{prefix}{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}{i}" for i in range(count))


def slugs(entries: list[Entry]) -> list[str]:
    return [page.slug for page in make_listing(sorted(entries)).pages]


def test_teams_stay_on_the_index_and_people_go_by_initial():
    listing = make_listing(sorted([team("designteam"), person("ralph"), person("adamw"),
                                   person("0xffff"), person("_bot"), person("rbean")]))
    assert [e.name for e in listing.teams] == ["designteam"]
    assert [(p.slug, [e.name for e in p.entries]) for p in listing.pages] == [
        (OTHER_INITIAL, ["0xffff", "_bot"]), ("a", ["adamw"]), ("r", ["ralph", "rbean"])]
    assert [p.filename for p in listing.pages] == ["0-9.html", "a.html", "r.html"]
    assert listing.people == 5


def test_a_long_initial_is_split_into_numbered_pages_of_at_most_page_size():
    entries = [person(n) for n in names(PAGE_SIZE * 3)]
    pages = make_listing(sorted(entries)).pages
    assert len(pages) >= 3
    assert [p.slug for p in pages] == ["m", *(f"m-{n}" for n in range(2, len(pages) + 1))]
    assert all(0 < len(p.entries) <= PAGE_SIZE for p in pages)
    assert all(p.of == len(pages) for p in pages)
    assert [e for p in pages for e in p.entries] == sorted(entries), "every hub once, in order"


def test_adding_a_hub_changes_only_its_own_page_when_that_page_has_room():
    entries = [person(n) for n in names(PAGE_SIZE * 3)]
    before = make_listing(sorted(entries)).pages
    roomy = next(p for p in before if len(p.entries) < PAGE_SIZE)
    newcomer = person(roomy.entries[0].name + "0")  # sorts right after that page's first hub
    after = make_listing(sorted([*entries, newcomer])).pages
    changed = [b.slug for b, a in zip(before, after, strict=True) if a != b]
    assert changed == [roomy.slug]
    assert newcomer in after[before.index(roomy)].entries


def test_removing_a_hub_changes_only_its_own_page():
    entries = [person(n) for n in names(PAGE_SIZE * 3)]
    before = make_listing(sorted(entries)).pages
    gone = before[1].entries[5]
    after = make_listing(sorted(set(entries) - {gone})).pages
    assert [b.slug for b, a in zip(before, after, strict=True) if a != b] == [before[1].slug]


def test_an_initial_whose_last_hub_goes_has_no_page():
    assert slugs([person("adamw"), person("zed")]) == ["a", "z"]
    assert slugs([person("adamw")]) == ["a"]


def test_search_index_is_compact_pairs_with_bounded_summaries():
    listing = make_listing(sorted([team("designteam", "The Design Team"),
                                   person("ralph", "Ralph Bean " * 40)]))
    index = json.loads(search_index(listing))
    assert index == {"teams": [["designteam", "The Design Team"]],
                     "people": [["ralph", ("Ralph Bean " * 40)[:SUMMARY_CHARS]]]}
    assert b" " not in search_index(make_listing([person("a")])), "no padding"
