from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from hubs.errors import ConfigError
from hubs.events import Event
from hubs.testing import T0, add_events, add_hub, make_engine, render_widget
from hubsgen.demo.messages import group_member_added, meeting_minutes, wiki_edit
from widgets.cobwebs import WIDGET

LONG_AGO = T0 - timedelta(days=200)


def _team(session, **kwargs):
    return add_hub(session, "designteam", last_activity=LONG_AGO,
                   members={"owner": ["mizmo"], "member": ["duffy"]},
                   widgets=[("cobwebs", kwargs)])


def test_cobwebs_flags_an_idle_hub_with_its_last_activity(session):
    hub = _team(session)
    add_events(session, [wiki_edit(T0 - timedelta(days=120), "duffy", "Design"),
                         wiki_edit(T0 - timedelta(days=1), "nirik", "Infra")])
    fragment = render_widget(session, hub, "cobwebs")
    assert fragment.data == {"state": "idle", "days": 90,
                             "last_activity": "2026-07-05T12:00:00+00:00"}
    assert "quiet for over 90 days" in fragment.html
    assert '<time datetime="2026-07-05T12:00:00Z">5 Jul 2026, 12:00 UTC</time>' in fragment.html
    assert "hidden" not in fragment.html


def test_cobwebs_counts_messages_about_the_group(session):
    hub = _team(session, days=30)
    add_events(session, [meeting_minutes(T0 - timedelta(days=10), "design", "designteam",
                                         "Weekly", ["someone"], {"someone": 3})])
    assert render_widget(session, hub, "cobwebs").data == {"state": "active"}


def test_cobwebs_is_hidden_on_an_active_hub(session):
    hub = _team(session)
    add_events(session, [wiki_edit(T0 - timedelta(days=3), "mizmo", "Design")])
    fragment = render_widget(session, hub, "cobwebs")
    assert fragment.data == {"state": "active"}
    assert '<div class="cobwebs" hidden></div>' in fragment.html


def test_cobwebs_trusts_recent_hub_activity_without_messages(session):
    hub = add_hub(session, "designteam", last_activity=T0 - timedelta(days=5),
                  widgets=[("cobwebs", {"days": 7})])
    assert render_widget(session, hub, "cobwebs").data == {"state": "active"}
    assert render_widget(session, hub, "cobwebs", now=T0 + timedelta(days=3)).data["state"] \
        == "idle"


def test_cobwebs_announces_an_archived_hub(session):
    hub = add_hub(session, "designteam", archived=True, last_activity=LONG_AGO,
                  widgets=[("cobwebs", {})])
    fragment = render_widget(session, hub, "cobwebs")
    assert fragment.data == {"state": "archived", "last_activity": LONG_AGO.isoformat()}
    assert "This hub is archived." in fragment.html


@pytest.mark.parametrize("days", [0, 3651, "soon", True])
def test_cobwebs_refuses_days_out_of_range(days):
    with pytest.raises(ConfigError, match="argument days must"):
        WIDGET.validate_config({"days": days})


def test_cobwebs_wakes_on_activity_about_its_people_or_group(session):
    hub = _team(session)
    instance = hub.widgets[0]
    yes = [wiki_edit(T0, "duffy", "Design"),
           meeting_minutes(T0, "design", "designteam", "Weekly", ["someone"], {}),
           group_member_added(T0, "nirik", "newbie", "designteam"),
           Event("1", "hubs.hub.update", T0, body={"hub": "designteam"})]
    no = [wiki_edit(T0, "nirik", "Infra"), group_member_added(T0, "nirik", "x", "infra"),
          Event("2", "hubs.hub.update", T0, body={"hub": "infra"})]
    assert all(WIDGET.should_invalidate(e, instance) for e in yes)
    assert not any(WIDGET.should_invalidate(e, instance) for e in no)
    assert WIDGET.hint.usernames is not None
    assert set(WIDGET.hint.usernames(instance)) == {"duffy", "mizmo"}


def test_cobwebs_of_a_user_hub_follows_that_user(session):
    hub = add_hub(session, "ralph", user_hub=True, last_activity=LONG_AGO,
                  widgets=[("cobwebs", {})])
    add_events(session, [wiki_edit(T0 - timedelta(days=2), "ralph", "Hubs")])
    assert render_widget(session, hub, "cobwebs").data == {"state": "active"}
    assert WIDGET.should_invalidate(wiki_edit(T0, "ralph", "Hubs"), hub.widgets[0])
    assert not WIDGET.should_invalidate(wiki_edit(T0, "decause", "Hubs"), hub.widgets[0])


def test_cobwebs_queries_agree_on_sqlite_and_postgresql(db_url):
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            hub = _team(session, days=30)
            add_events(session, [wiki_edit(T0 - timedelta(days=40), "mizmo", "Design"),
                                 wiki_edit(T0 - timedelta(days=45), "duffy", "Design")])
            assert render_widget(session, hub, "cobwebs").data["last_activity"] == \
                "2026-09-23T12:00:00+00:00"
            add_events(session, [wiki_edit(T0 - timedelta(days=2), "duffy", "Design")])
            assert render_widget(session, hub, "cobwebs").data == {"state": "active"}
    finally:
        engine.dispose()
