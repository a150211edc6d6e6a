"""The build stamp: a full build renders nothing when nothing it reads changed, and renders
whenever anything did: the database, a template, the settings, or the output itself."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from hubs.models import Hub, HubCount, WidgetInstance
from hubs.plugins import load_widgets
from hubs.services import ServiceSettings
from hubs.settings import LiveSettings, load_settings
from hubs.testing import T0, add_events, add_hub, make_engine
from hubsgen.build.stamp import inputs_digest
from hubsgen.demo import messages
from tests.sites import Site


@pytest.fixture
def site(sqlite_url, tmp_path, boom_plugin):
    engine = make_engine(sqlite_url)
    with Session(engine) as s:
        add_hub(s, "ralph", user_hub=True, widgets=[("badges", {"username": "ralph"}),
                                                    ("boom", {"word": "steady"}, "side")])
        s.commit()
    site = Site(engine, load_settings(db_url=sqlite_url, out_dir=tmp_path / "build"))
    assert not site.build().skipped
    yield site
    engine.dispose()


def rebuilds(site: Site, **options: object) -> bool:
    return not site.build(**options).skipped


def test_nothing_changed_is_skipped_and_says_so(site):
    report = site.build()
    assert report.skipped and report.written == 0
    assert report.summary().startswith(f"Nothing changed since the last build: "
                                       f"{report.unchanged} files kept, 0 written")


def test_a_new_message_rebuilds(site):
    with site.session() as s:
        add_events(s, [messages.badge_award(T0 + timedelta(hours=1), "ralph", "tester",
                                            "Tester", "Tested")])
        s.commit()
    assert rebuilds(site)
    assert "Tester" in (site.out / "ralph" / "index.html").read_text()
    assert not rebuilds(site)


def test_an_edit_that_bypassed_the_orm_rebuilds(site):
    with site.session() as s:
        s.execute(update(Hub).values(summary="Edited by hand"))
        s.commit()
    assert rebuilds(site)


def test_counts_mended_by_a_recount_rebuild(site):
    """`hubsgen db recount` changes only hub_counts; the widgets that read them must follow."""
    with site.session() as s:
        add_events(s, [messages.badge_award(T0 + timedelta(hours=1), "ralph", "tester",
                                            "Tester", "Tested")])
        s.commit()
    assert rebuilds(site)
    with site.session() as s:
        s.execute(update(HubCount).values(messages=HubCount.messages + 1))
        s.commit()
    assert rebuilds(site)


def test_a_changed_plugin_template_rebuilds(site, tmp_path):
    template = next((tmp_path / "site").rglob("boom.html"))
    template.write_text("<p class='boom'>now {{ data.word }}</p>")
    assert rebuilds(site)
    assert "now steady" in (site.out / "ralph" / "index.html").read_text()


def test_changed_settings_rebuild(site):
    assert rebuilds(site, live=LiveSettings(poll_seconds=60))


@pytest.mark.parametrize("tamper", [
    lambda out: (out / "ralph" / "index.html").unlink(),
    lambda out: (out / "ralph" / "versions.json").write_text("{}"),
    lambda out: (out / "stray.html").write_text("left here"),
], ids=["deleted", "edited", "added"])
def test_an_output_changed_by_hand_is_rebuilt(site, tamper):
    tamper(site.out)
    assert rebuilds(site)
    assert (site.out / "ralph" / "index.html").exists()
    assert not rebuilds(site)


def test_building_some_hubs_leaves_the_next_full_build_to_render(site):
    with site.session() as s:
        s.execute(update(Hub).values(summary="Changed"))
        s.commit()
    site.build("ralph")
    assert rebuilds(site), "the directory page shows summaries too"


def test_a_build_with_failures_is_not_stamped(site):
    with site.session() as s:
        s.execute(update(Hub).values(summary="Changed"))
        s.commit()
    boom_fails(site)
    assert site.build().failures
    assert rebuilds(site), "a failure may be transient: the next build tries again"


def test_force_renders_anyway(site):
    report = site.build(force=True)
    assert not report.skipped and report.written == 0


def test_with_web_services_on_there_is_no_stamp(site):
    """Their answers may change with nothing here changing."""
    settings = load_settings(services=ServiceSettings(enabled=True))
    with site.session() as s:
        assert inputs_digest(s, load_widgets(), settings) is None


def boom_fails(site: Site) -> None:
    with site.session() as s:
        s.execute(update(WidgetInstance).where(WidgetInstance.plugin == "boom")
                  .values(config={"fail": True}))
        s.commit()

