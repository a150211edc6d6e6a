"""No stored message breaks a widget: every built-in widget renders whatever the store holds.

The store may hold messages from before the door checked their shape, or shapes no reader
foresaw. Hypothesis stores arbitrary messages on the topics widgets read, most of them real
bodies with fields dropped or replaced by any JSON value, and renders every built-in widget on a
user hub and a team hub: each must render without an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hubs.events import Event
from hubs.models import Hub
from hubs.plugins import load_widgets
from hubs.testing import T0, add_events, add_hub, make_engine, make_renderer
from hubsgen.demo import messages as demo

REGISTRY = load_widgets()
DAY = timedelta(days=1)
CONFIG = {"sticky": {"text": "Welcome"}}

EXAMPLES = [
    demo.badge_award(T0, "ralph", "tester-i", "Tester I", "Gave karma."),
    demo.update_requirements_met(T0, "FEDORA-2026-aaa", "ralph", ["python-foo-1.0-1.fc43"],
                                 "F43"),
    demo.update_pushed_stable(T0, "FEDORA-2026-aaa", "ralph", ["python-foo-1.0-1.fc43"], "F43"),
    demo.update_comment(T0, "FEDORA-2026-aaa", "decause", "ralph", "python-foo-1.0-1.fc43", 1,
                        "Works."),
    demo.meeting_scheduled(T0, "ralph", "designteam", 7, "Design sync", T0 + DAY, 60, "#design",
                           "Agenda"),
    demo.meeting_minutes(T0, "#fedora-design", "designteam", "Design sync", ["ralph"],
                         {"ralph": 10}),
    demo.pull_request_opened(T0, "decause", "rpms", "python-foo", 3, "Fix", ["ralph"]),
    demo.pull_request_closed(T0, "ralph", "decause", "rpms", "python-foo", 3, "Fix", ["ralph"],
                             True),
    demo.build_complete(T0, "ralph", "python-foo", "1.0", "1.fc43", 42),
    demo.wiki_edit(T0, "ralph", "Design"),
    demo.group_member_added(T0, "ralph", "decause", "designteam"),
]
TOPICS = sorted({e.topic for e in EXAMPLES}
                | {"fedocal.meeting.update", "fedocal.meeting.delete", "unknown.topic"})

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=3),
    max_leaves=8)


def mutated_object(value: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """The object *value* with any of its fields dropped or changed (see ``mutated``)."""
    return st.fixed_dictionaries({}, optional={k: mutated(v) for k, v in value.items()})


def mutated(value: Any) -> st.SearchStrategy[Any]:
    """*value* with any of its fields dropped, or replaced by any JSON value, at any depth."""
    if isinstance(value, dict):
        return st.one_of(mutated_object(value), mutated_object(value), json_values)
    if isinstance(value, list):
        return st.one_of(st.lists(st.one_of(*(mutated(v) for v in value)) if value else json_values,
                                  max_size=3), json_values)
    return st.one_of(st.just(value), json_values)


@st.composite
def stored_messages(draw: st.DrawFn) -> list[Event]:
    found = []
    for number in range(draw(st.integers(1, 4))):
        example = draw(st.sampled_from(EXAMPLES))
        topic = draw(st.sampled_from([example.topic, *TOPICS]))
        anything = st.dictionaries(st.text(max_size=8), json_values, max_size=4)
        body = draw(st.one_of(mutated_object(dict(example.body)), anything))
        found.append(Event(
            msg_id=f"fuzz-{number}", topic=topic, body=body,
            timestamp=T0 - draw(st.integers(0, 400)) * DAY,
            usernames=frozenset({"ralph", "decause"}), groups=frozenset({"designteam"}),
            packages=frozenset({"python-foo"}), summary=draw(st.text(max_size=30)),
            link=draw(st.sampled_from(["", "https://example.org/x", "javascript:alert(1)"])),
            icon=""))
    return found


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('store') / 'hubs.db'}")
    with Session(engine, expire_on_commit=False) as session:
        every = [(name, CONFIG.get(name, {})) for name in sorted(REGISTRY.widgets)]
        add_hub(session, "ralph", user_hub=True, widgets=every)
        with_user = [(name, {**config, **({"username": "ralph"} if "username" in
                                          REGISTRY.widgets[name].argument_names else {})})
                     for name, config in every]
        add_hub(session, "designteam", members={"owner": ["ralph"], "member": ["decause"]},
                widgets=with_user)
        session.commit()
    yield engine
    engine.dispose()


@pytest.mark.parametrize("plugin", sorted(REGISTRY.widgets))
def test_every_widget_renders_whatever_the_store_holds(engine: Engine, plugin: str) -> None:
    renderer = make_renderer(T0 + DAY, registry=REGISTRY)

    @settings(max_examples=60, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(stored_messages())
    def check(events: list[Event]) -> None:
        with Session(engine, expire_on_commit=False) as session:
            add_events(session, events)
            for hub in session.query(Hub).order_by(Hub.name):
                instance = next(w for w in hub.widgets if w.plugin == plugin)
                fragment = renderer.render_instance(session, instance)
                assert fragment.error is None
                fragment.to_json().decode()
            session.rollback()

    check()
