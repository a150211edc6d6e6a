import pytest

from hubs.errors import ConfigError
from hubs.events import Event
from hubs.testing import T0, add_hub, render_widget
from hubsgen.demo.messages import group_member_added, wiki_edit
from widgets.stats import WIDGET


def test_stats_counts_each_role(session):
    hub = add_hub(session, "designteam",
                  members={"owner": ["mizmo"], "member": ["mizmo", "duffy", "ryanlerch"],
                           "stargazer": ["decause", "ralph"]},
                  widgets=[("stats", {})])
    fragment = render_widget(session, hub, "stats")
    assert fragment.data == {"stats": [
        {"role": "owner", "count": 1, "label": "Owner"},
        {"role": "member", "count": 3, "label": "Members"},
        {"role": "subscriber", "count": 0, "label": "Subscribers"},
        {"role": "stargazer", "count": 2, "label": "Stargazers"},
    ]}
    assert '<dd class="stat-value">3</dd>' in fragment.html
    assert 'class="empty"' not in fragment.html


def test_stats_of_a_hub_nobody_joined_says_so(session):
    hub = add_hub(session, "designteam", widgets=[("stats", {"title": "Numbers"})])
    html = render_widget(session, hub, "stats").html
    assert 'class="empty"' in html
    assert 'class="stats"' not in html
    assert "Numbers" in html


def test_stats_refuses_unknown_arguments_and_bad_titles():
    with pytest.raises(ConfigError, match="unknown argument.*limit"):
        WIDGET.validate_config({"limit": 3})
    with pytest.raises(ConfigError, match="argument title must be text"):
        WIDGET.validate_config({"title": 3})


def test_stats_keeps_a_hostile_title_inert(session):
    hub = add_hub(session, "designteam", widgets=[("stats", {"title": "<script>x</script>"})])
    html = render_widget(session, hub, "stats").html
    assert "<script" not in html
    assert "&lt;script&gt;" in html


def test_stats_invalidates_on_membership_changes_of_its_hub_only(session):
    hub = add_hub(session, "designteam", widgets=[("stats", {})])
    instance = hub.widgets[0]
    follow = Event("1", "hubs.membership.update", T0, usernames=frozenset({"ralph"}),
                   body={"hub": "designteam"})
    assert WIDGET.should_invalidate(group_member_added(T0, "mizmo", "duffy", "designteam"),
                                    instance)
    assert WIDGET.should_invalidate(follow, instance)
    assert not WIDGET.should_invalidate(group_member_added(T0, "nirik", "duffy", "infra"),
                                        instance)
    assert not WIDGET.should_invalidate(wiki_edit(T0, "mizmo", "Design"), instance)
