"""Hubs edited in the database without a bus message still reach a running watch."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hubs.events import RawMessage
from hubs.models import Hub, WidgetInstance
from hubs.render import Renderer
from hubs.testing import T0, add_hub
from hubsgen.watch.daemon import WatchOptions, open_watcher
from hubsgen.watch.sources import ReadBatch
from tests.sites import widget_id


def test_revisions_move_with_every_orm_change(watched_site):
    with watched_site.session() as s:
        hub = s.scalar(select(Hub).where(Hub.name == "ralph"))
        start = hub.revision
        hub.widgets[1].config = {"text": "Edited"}
        s.commit()
        assert hub.revision == start + 1
        hub.widgets.append(WidgetInstance(plugin="sticky", config={"text": "Two"}))
        s.commit()
        assert hub.revision == start + 2


def test_edits_without_a_message_are_picked_up(watched_site):
    site = watched_site
    with open_watcher(site.settings, WatchOptions()) as watcher:
        before = site.snapshot()
        sticky = widget_id(site, "ralph", "sticky")
        with site.session() as s:
            s.get(WidgetInstance, sticky).config = {"text": "Now with **news**"}
            add_hub(s, "newteam", summary="Brand new", widgets=[("sticky", {"text": "Hello"})])
            s.delete(s.scalar(select(Hub).where(Hub.name == "designteam")))
            s.commit()
        watcher.sync_config()
        changed = site.changed_since(before)
    assert f"ralph/widgets/{sticky}.json" in changed
    assert "<strong>news</strong>" in site.fragment("ralph", sticky)["html"]
    assert (site.out / "newteam" / "index.html").exists()
    assert not (site.out / "designteam").exists()
    directory = (site.out / "index.html").read_text()
    assert "newteam/index.html" in directory and "designteam/index.html" not in directory
    assert not any(p.startswith("ralph/widgets/") and p != f"ralph/widgets/{sticky}.json"
                   for p in changed), "only the edited widget's fragment is rewritten"


def test_a_quiet_database_syncs_nothing(watched_site):
    site = watched_site
    with open_watcher(site.settings, WatchOptions()) as watcher:
        before = site.snapshot()
        watcher.sync_config()
        assert site.changed_since(before) == set()
        assert watcher.stats["rewritten"] == 0


def test_a_config_message_renders_the_edited_hub_once(watched_site, monkeypatch):
    site = watched_site
    sticky = widget_id(site, "ralph", "sticky")
    rendered: list[int] = []
    render_many = Renderer.render_many

    def counting(self, session, instances, *args, **kwargs):
        rendered.extend(instance.id for instance in instances)
        return render_many(self, session, instances, *args, **kwargs)

    monkeypatch.setattr(Renderer, "render_many", counting)
    with open_watcher(site.settings, WatchOptions()) as watcher:
        with site.session() as s:
            s.get(WidgetInstance, sticky).config = {"text": "Edited, then announced"}
            s.commit()
        announced = RawMessage("edit-1", "org.fedoraproject.prod.hubs.widget.update",
                               T0 + timedelta(minutes=1), {"hub": "ralph"})
        watcher.pipeline.handle(ReadBatch([announced]))
        assert watcher.stats["matched"] == 1
    assert rendered.count(sticky) == 1
    assert "Edited, then announced" in site.fragment("ralph", sticky)["html"]
