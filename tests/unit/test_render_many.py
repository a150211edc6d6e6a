"""Rendering many instances at once: each widget's batch loader runs once per chunk, in the
same few statements whatever the chunk's size, and gives the fragments rendering each
instance alone gives; a failing batch is retried per instance, so only the culprit fails."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, selectinload

from hubs.defaults import team_widgets, user_widgets
from hubs.errors import WidgetError
from hubs.models import Hub, User, WidgetInstance
from hubs.plugins import Registry, load_widgets
from hubs.render import Fragment
from hubs.testing import T0, add_events, add_hub, make_engine, make_renderer
from hubs.validators import boolean
from hubs.widget import Argument, BulkContext, ConfiguredInstance, Hint, Panel, Widget
from hubsgen.demo import messages
from hubsgen.demo.population import populate_demo
from hubsgen.output.files import Output
from hubsgen.output.hubs import HUBS_AT_ONCE, HubWriter
from widgets._user import known_users


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements *engine* runs inside the block."""
    seen: list[str] = []

    def count(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        seen.append(sql)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


class Names:
    """A batch widget showing each user hub's full name; it records its calls and fails for
    every batch holding an instance configured to."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def load(self, ctx: BulkContext,
             batch: Sequence[ConfiguredInstance]) -> dict[int, dict[str, Any]]:
        self.calls.append([item.instance.key for item in batch])
        users = known_users(ctx, [item.hub.name for item in batch])
        if any(item.config["fail"] for item in batch):
            raise RuntimeError("the account system is down")
        return {item.id: {"fullname": users[item.hub.name].fullname} for item in batch}

    def widget(self) -> Widget:
        return Widget(name="names", template="names.html", load=self.load, hint=Hint(),
                      should_invalidate=lambda event, instance: False, chrome=Panel("Name"),
                      arguments=(Argument("fail", False, boolean, "fail on purpose"),))


@pytest.fixture
def names(tmp_path: Path) -> tuple[Names, Registry]:
    """The names widget next to the installed ones."""
    template = tmp_path / "names.html"
    template.write_text("<p>{{ data.fullname }}</p>")
    installed = load_widgets()
    widget = Names()
    registry = Registry({**installed.widgets, "names": widget.widget()},
                        {**installed.templates, "names": template})
    return widget, registry


def people(session: Session, count: int, widgets: list[tuple[str, dict[str, Any]]]
           ) -> list[WidgetInstance]:
    """*count* user hubs with *widgets*, loaded as a build chunk loads them."""
    for i in range(count):
        add_hub(session, f"user{i:02d}", user_hub=True, widgets=widgets)
    session.commit()
    return instances_of(session, select(Hub))


def instances_of(session: Session, hubs: Any) -> list[WidgetInstance]:
    query = hubs.order_by(Hub.name).options(selectinload(Hub.widgets),
                                            selectinload(Hub.memberships))
    return [instance for hub in session.scalars(query) for instance in hub.widgets]


def test_a_batch_loader_runs_once_per_chunk_in_the_same_statements_for_any_size(
        engine, session, names):
    widget, registry = names
    instances = people(session, 30, [("names", {}), ("avatar", {"username": "user00"})])
    renderer = make_renderer(registry=registry)
    counts = []
    for size in (4, 30):
        chunk = [i for i in instances if i.hub.name < f"user{size:02d}"]
        with statements(engine) as seen:
            outcomes = renderer.render_many(session, chunk)
        assert all(isinstance(o, Fragment) for o in outcomes.values())
        counts.append(len(seen))
    assert [len(call) for call in widget.calls] == [4, 30]
    # One user query shared by names and avatar; the chunk's hubs were loaded beforehand.
    assert counts == [1, 1]


def test_a_failing_batch_is_retried_per_instance_and_names_only_the_culprit(session, names):
    widget, registry = names
    instances = people(session, 3, [("names", {})])
    culprit = instances[1]
    culprit.config = {"fail": True}
    outcomes = make_renderer(registry=registry).render_many(session, instances)
    error = outcomes[culprit.id]
    assert isinstance(error, WidgetError)
    assert str(error) == (f"widget {culprit.key} (names): RuntimeError: the account system "
                          "is down")
    assert [type(outcomes[i.id]) for i in instances] == [Fragment, WidgetError, Fragment]
    assert "<p>User00</p>" in outcomes[instances[0].id].html
    assert widget.calls == [[i.key for i in instances]] + [[i.key] for i in instances]


def test_render_instance_raises_what_render_many_returns_for_it(session, names):
    _, registry = names
    instance = people(session, 1, [("names", {"fail": True})])[0]
    with pytest.raises(WidgetError, match=rf"^widget {instance.key} \(names\): RuntimeError"):
        make_renderer(registry=registry).render_instance(session, instance)


def test_simple_widgets_render_beside_batch_ones_and_bad_config_fails_alone(session, names):
    _, registry = names
    instances = people(session, 2, [("sticky", {"text": "Hi *there*"}), ("names", {}),
                                    ("sticky", {})])
    outcomes = make_renderer(registry=registry).render_many(session, instances)
    notes = [outcomes[i.id] for i in instances if i.plugin == "sticky"]
    assert "<em>there</em>" in notes[0].html
    assert str(notes[1]) == (f"widget {instances[2].key} (sticky): argument text is required "
                             "(the note, in Markdown)")
    assert isinstance(notes[2], Fragment) and isinstance(notes[3], WidgetError)


def test_an_instance_whose_data_is_missing_fails_alone(session, names):
    _, registry = names
    instances = people(session, 2, [("names", {})])
    session.delete(session.get(User, "user01"))
    session.commit()
    outcomes = make_renderer(registry=registry).render_many(session, instances)
    assert isinstance(outcomes[instances[0].id], Fragment)
    assert str(outcomes[instances[1].id]) == (
        f"widget {instances[1].key} (names): KeyError: 'user01'")


@pytest.mark.parametrize("url", ["sqlite_url", "pg_url"])
def test_the_demo_renders_the_same_in_one_batch_as_one_instance_at_a_time(request, url):
    engine = make_engine(request.getfixturevalue(url))
    try:
        with Session(engine) as session:
            populate_demo(session)
            add_events(session, [messages.wiki_edit(T0 - timedelta(days=1), "duffy", "Design")])
            session.commit()
            instances = instances_of(session, select(Hub))
            renderer = make_renderer(T0)
            together = renderer.render_many(session, instances)
            alone = {i.id: renderer.render_instance(session, i) for i in instances}
    finally:
        engine.dispose()
    assert len(together) == len(instances) > 100
    assert {i: f.to_json() for i, f in together.items()
            } == {i: f.to_json() for i, f in alone.items()}


@pytest.mark.parametrize("team", [False, True], ids=["people", "teams"])
def test_writing_default_hubs_runs_the_same_statements_for_any_number_up_to_a_chunk(
        engine, session, tmp_path, team):
    """Every built-in widget on a default hub, and the hub's feed, load a chunk at once."""
    for i in range(30):
        name = f"hub{i:02d}"
        widgets = team_widgets(name) if team else user_widgets(name)
        add_hub(session, name, user_hub=not team, members={"owner": [f"owner{i}"]} if team
                else None, widgets=widgets)
    add_events(session, [messages.wiki_edit(T0 - timedelta(days=1), "hub03", "Design"),
                         messages.wiki_edit(T0 - timedelta(days=2), "owner3", "Design")])
    session.commit()
    writer = HubWriter(make_renderer(T0), Output(tmp_path / "build"))
    counts = []
    for size in (4, HUBS_AT_ONCE, 30):
        hubs = list(session.scalars(select(Hub).where(Hub.name < f"hub{size:02d}")
                                    .order_by(Hub.name).options(selectinload(Hub.widgets),
                                                                selectinload(Hub.memberships))))
        with statements(engine) as seen:
            result = writer.write_hubs(session, hubs)
        assert (result.hubs, result.failures) == (size, [])
        counts.append(len(seen))
    assert counts[0] == counts[1] <= 20
    assert counts[0] < counts[2] <= 2 * counts[0]  # 30 hubs are written 25, then 5, at once


def test_a_hubs_feed_widget_and_its_atom_feed_share_one_windowed_query(engine, session,
                                                                        tmp_path):
    for i in range(3):
        add_hub(session, f"team{i}", members={"owner": [f"owner{i}"]},
                widgets=team_widgets(f"team{i}"))
    add_events(session, [messages.wiki_edit(T0 - timedelta(hours=n), "owner1", f"Page{n}")
                         for n in range(60)])
    session.commit()
    hubs = list(session.scalars(select(Hub).order_by(Hub.name).options(
        selectinload(Hub.widgets), selectinload(Hub.memberships))))
    with statements(engine) as seen:
        HubWriter(make_renderer(T0), Output(tmp_path / "build")).write_hubs(session, hubs)
    assert sum("OVER (PARTITION BY HITS.HUB_ID" in statement.upper() for statement in seen) == 1
    feed = (tmp_path / "build" / "team1" / "feed.atom").read_text()
    assert feed.count("<entry>") == 50, "the feed is not cut to the widget's 20"
