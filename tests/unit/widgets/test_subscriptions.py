import pytest
from sqlalchemy.orm import Session

from hubs.errors import ConfigError, WidgetError
from hubs.events import Event
from hubs.testing import T0, add_hub, add_user, make_engine, render_widget
from hubsgen.demo.messages import group_member_added, wiki_edit
from widgets.subscriptions import WIDGET


def _follow(username, hub):
    return Event(f"{username}-{hub}", "hubs.membership.update", T0,
                 usernames=frozenset({username}), body={"hub": hub})


def test_subscriptions_lists_hubs_joined_then_followed(session):
    add_hub(session, "infra", summary="Keeps Fedora running",
            members={"member": ["ralph"], "stargazer": ["ralph"]})
    add_hub(session, "designteam", summary="Makes Fedora pretty",
            members={"owner": ["ralph"], "member": ["ralph", "mizmo"]})
    add_hub(session, "commops", archived=True, members={"stargazer": ["ralph"]})
    add_hub(session, "marketing", members={"stargazer": ["ralph"], "subscriber": ["ralph"]})
    add_hub(session, "qa", members={"owner": ["adamw"]})
    hub = add_hub(session, "ralph", user_hub=True, widgets=[("subscriptions", {})])
    fragment = render_widget(session, hub, "subscriptions")
    assert fragment.data == {"username": "ralph", "belongs": [
        {"name": "designteam", "summary": "Makes Fedora pretty", "archived": False,
         "link": "../designteam/index.html", "role": "owner"},
        {"name": "infra", "summary": "Keeps Fedora running", "archived": False,
         "link": "../infra/index.html", "role": "member"},
    ], "follows": [
        {"name": "commops", "summary": "", "archived": True, "link": "../commops/index.html",
         "role": "stargazer"},
        {"name": "marketing", "summary": "", "archived": False,
         "link": "../marketing/index.html", "role": "subscriber"},
    ]}
    html = fragment.html
    assert html.index("Belongs to") < html.index("designteam") < html.index("Follows")
    assert 'href="../marketing/index.html"' in html
    assert "qa" not in html


def test_subscriptions_of_a_named_user_on_a_team_hub(session):
    add_hub(session, "infra", members={"member": ["nirik"]})
    hub = add_hub(session, "designteam", widgets=[("subscriptions", {"username": "nirik"})])
    assert [h["name"] for h in render_widget(session, hub, "subscriptions").data["belongs"]] \
        == ["infra"]


def test_subscriptions_of_a_loner_says_so(session):
    hub = add_hub(session, "ralph", user_hub=True, widgets=[("subscriptions", {})])
    fragment = render_widget(session, hub, "subscriptions")
    assert fragment.data == {"username": "ralph", "belongs": [], "follows": []}
    assert 'class="empty"' in fragment.html


def test_subscriptions_needs_a_username_on_a_team_hub(session):
    hub = add_hub(session, "designteam", widgets=[("subscriptions", {})])
    with pytest.raises(WidgetError, match=r"\(subscriptions\): argument username is required"):
        render_widget(session, hub, "subscriptions")
    with pytest.raises(ConfigError, match="argument username must be a Fedora account"):
        WIDGET.validate_config({"username": "Not A Name"})


def test_subscriptions_keeps_hostile_summaries_inert(session):
    add_user(session, "ralph", "<script>alert(1)</script>")
    add_hub(session, "evil", summary="<script>alert(2)</script>", members={"member": ["ralph"]})
    hub = add_hub(session, "ralph", user_hub=True, widgets=[("subscriptions", {})])
    html = render_widget(session, hub, "subscriptions").html
    assert "<script" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html


def test_subscriptions_invalidate_when_the_user_joins_or_follows(session):
    hub = add_hub(session, "designteam", widgets=[("subscriptions", {"username": "duffy"})])
    instance = hub.widgets[0]
    assert WIDGET.should_invalidate(group_member_added(T0, "mizmo", "duffy", "infra"), instance)
    assert WIDGET.should_invalidate(_follow("duffy", "marketing"), instance)
    assert WIDGET.should_invalidate(
        Event("c", "hubs.widget.update", T0, body={"hub": "designteam"}), instance)
    assert not WIDGET.should_invalidate(_follow("mizmo", "marketing"), instance)
    assert not WIDGET.should_invalidate(wiki_edit(T0, "duffy", "Design"), instance)


def test_subscriptions_on_a_misconfigured_team_hub_never_invalidate(session):
    hub = add_hub(session, "designteam", widgets=[("subscriptions", {})])
    assert not WIDGET.should_invalidate(_follow("designteam", "infra"), hub.widgets[0])


def test_subscriptions_query_agrees_on_sqlite_and_postgresql(db_url):
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            add_hub(session, "infra", members={"subscriber": ["ralph"], "stargazer": ["ralph"]})
            add_hub(session, "design", members={"member": ["ralph"], "owner": ["ralph"]})
            hub = add_hub(session, "ralph", user_hub=True, widgets=[("subscriptions", {})])
            data = render_widget(session, hub, "subscriptions").data
            assert [(h["name"], h["role"]) for h in data["belongs"] + data["follows"]] == [
                ("design", "owner"), ("infra", "subscriber")]
    finally:
        engine.dispose()
