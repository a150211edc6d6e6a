"""The demo population of the original Fedora Hubs prototype: its people, teams and their news.

Everything is fixed, down to the timestamps, which count back from ``REFERENCE`` rather than the
wall clock: the newest message becomes the data clock, so every build of the demo is identical.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from hubs import counts
from hubs.defaults import WidgetSpec, team_widgets, user_widgets
from hubs.events import Event
from hubs.models import Hub, Membership, Role, User, WidgetInstance
from hubs.store import record
from hubsgen.demo import messages as m

REFERENCE = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
"""The demo's "now": its newest message is stamped with it."""

PEOPLE: dict[str, tuple[str, str]] = {
    "abompard": ("Aurélien Bompard",
                 "I work on Fedora's infrastructure applications: **HyperKitty**, **Mailman 3**, "
                 "Noggin and a fair share of the message bus."),
    "croberts": ("Chris Roberts",
                 "Marketing and Fedora Magazine. Ask me about talking points for the next "
                 "release."),
    "decause": ("Remy DeCausemaker",
                "Community, education and open source in the classroom. I hang out in the "
                "design, marketing and i18n channels."),
    "duffy": ("Máirín Duffy",
              "Interaction designer and Fedora Design Team lead. I draw the wallpapers, the "
              "badges and the mockups that started Hubs."),
    "gnokii": ("Sirko Kemter",
               "Design Team, Ambassadors in Southeast Asia, and far too many Scribus layouts."),
    "lmacken": ("Luke Macken",
                "I started **Bodhi** and the LiveUSB creator; these days I review Infra pull "
                "requests."),
    "mattdm": ("Matthew Miller", "Fedora Project Leader. *Friends, Features, Freedom, First.*"),
    "mrichard": ("Meghan Richardson",
                 "UX designer. I ran the Hubs user research and keep an eye on Krita."),
    "nask0": ("Atanas Beloborodov",
              "Web developer from Bulgaria: front-end work for Hubs and design team websites."),
    "pravins": ("Pravin Satpute",
                "Fonts and input methods for Indic languages; I maintain the Lohit fonts."),
    "ralph": ("Ralph Bean",
              "Infrastructure and release engineering: fedmsg, the message bus, and Hubs."),
    "ryanlerch": ("Ryan Lerch",
                  "Design and marketing: Fedora Magazine, fonts, and the Fedora websites."),
}

DESIGN_NOTE = (
    "The Design Team is the design group of the Fedora project. Our interests are not only in "
    "creating graphics for use by the Fedora community, but also in advocating the use of the "
    "creative tools that are a part of Fedora."
)
INFRA_NOTE = (
    "The Infrastructure Team consists of dedicated volunteers and professionals managing the "
    "servers, building the tools and utilities, and creating new applications to make Fedora "
    "development a smoother process. We're located all over the globe and communicate "
    "primarily by IRC and e-mail."
)
MARKETING_NOTE = (
    "The Fedora Marketing Team develops and executes marketing strategies to promote the usage "
    "and support of Fedora worldwide.\n\n"
    "We write the **talking points** for each release and support the other Fedora projects "
    "that spread Fedora to new audiences, working closely with the "
    "[Ambassadors](https://fedoraproject.org/wiki/Ambassadors)."
)
I18N_NOTE = (
    "The Fedora I18N project works on internationalization (i18n) to support the localization "
    "(l10n) of Fedora in many languages. Our goals are to:\n\n"
    "- develop, package and maintain applications like input methods for different languages\n"
    "- improve applications and utilities to support and process different languages\n"
    "- check that existing applications meet i18n standards\n"
    "- support the infrastructure of the Fedora Localization Project\n"
)


@dataclass(frozen=True)
class Team:
    name: str
    summary: str
    note: str
    rules: Mapping[str, str]
    calendars: tuple[str, ...]
    roles: Mapping[Role, tuple[str, ...]]
    archived: bool = False


TEAMS: tuple[Team, ...] = (
    Team("designteam", "The Fedora Design Team", DESIGN_NOTE, {
        "link": "https://fedoraproject.org/wiki/Design",
        "schedule_text": "Meetings are every other Tuesday at 16:00 UTC",
        "schedule_link": "https://calendar.fedoraproject.org/design/",
        "minutes_link": "https://meetbot.fedoraproject.org/sresults/"
                        "?group_id=fedora-design&type=channel",
    }, ("design",), {
        Role.OWNER: ("duffy", "ryanlerch", "gnokii", "mrichard"),
        Role.MEMBER: ("nask0", "decause"),
        Role.SUBSCRIBER: ("ralph",),
        Role.STARGAZER: ("mattdm", "lmacken"),
    }),
    Team("infrastructure", "The Fedora Infra Team", INFRA_NOTE, {
        "link": "https://fedoraproject.org/wiki/Infrastructure",
        "schedule_text": "We meet weekly in #fedora-meeting at 18:00 UTC",
        "schedule_link": "https://calendar.fedoraproject.org/infrastructure/",
        "minutes_link": "https://meetbot.fedoraproject.org/sresults/"
                        "?group_id=infrastructure&type=team",
    }, ("infrastructure",), {
        Role.OWNER: ("ralph", "abompard", "lmacken"),
        Role.MEMBER: ("nask0",),
        Role.SUBSCRIBER: ("decause",),
        Role.STARGAZER: ("mattdm", "duffy"),
    }),
    Team("marketing", "The Fedora Marketing Team", MARKETING_NOTE, {
        "link": "https://fedoraproject.org/wiki/Marketing",
        "minutes_link": "http://meetbot.fedoraproject.org/sresults/"
                        "?group_id=fedora-mktg&type=channel",
    }, ("marketing",), {
        Role.OWNER: ("croberts", "ryanlerch"),
        Role.MEMBER: ("mrichard", "mattdm", "decause"),
        Role.SUBSCRIBER: ("ralph",),
        Role.STARGAZER: ("pravins",),
    }),
    Team("i18n", "The Internationalization Team", I18N_NOTE, {
        "link": "https://fedoraproject.org/wiki/I18N",
        "minutes_link": "https://meetbot.fedoraproject.org/sresults/?group_id=i18n&type=team",
    }, ("i18n",), {
        Role.OWNER: ("pravins",),
        Role.MEMBER: ("decause",),
        Role.SUBSCRIBER: ("ralph",),
    }, archived=True),
)

PACKAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    # package: (version, owners; the first is the main admin)
    "inkscape": ("1.4.2", ("duffy", "gnokii")),
    "fedora-logos": ("42.0.1", ("ryanlerch", "duffy")),
    "scribus": ("1.6.4", ("gnokii",)),
    "krita": ("5.2.9", ("mrichard",)),
    "nodejs-less": ("4.2.2", ("nask0",)),
    "python-hyperkitty": ("1.3.12", ("abompard",)),
    "mailman3": ("3.3.10", ("abompard", "ralph")),
    "pelican": ("4.11.0", ("decause",)),
    "fedmsg": ("1.1.7", ("ralph", "lmacken")),
    "bodhi": ("9.1.1", ("lmacken", "ralph")),
    "python-tweepy": ("4.14.0", ("croberts",)),
    "fortune-mod": ("3.24.0", ("mattdm",)),
    "lohit-devanagari-fonts": ("2.95.4", ("pravins",)),
    "lohit-marathi-fonts": ("2.94.2", ("pravins",)),
}

BADGES: dict[str, tuple[str, str]] = {
    "involvement": ("Involvement", "Created a Fedora account and signed the FPCA."),
    "mugshot": ("Mugshot", "Set up an avatar for a Fedora account."),
    "crypto-panda": ("Crypto Panda", "Uploaded a GPG key to the Fedora account system."),
    "speak-up": ("Speak Up!", "Took part in a logged IRC meeting."),
    "junior-editor": ("Junior Editor", "Edited a page on the Fedora wiki."),
    "tester-i": ("Tester I", "Gave karma to a Bodhi update."),
    "koji-success-i": ("Koji Success I", "Completed a build in Koji."),
    "flock-2026-attendee": ("Flock 2026 Attendee", "Attended Flock to Fedora 2026."),
}


def ago(days: float, hours: float = 0) -> datetime:
    return REFERENCE - timedelta(days=days, hours=hours)


def populate_demo(session: Session) -> None:
    """Add the demo's users, hubs, widgets, memberships and messages to an empty schema."""
    events = demo_events()
    latest = newest_by_name(events)
    for username, (fullname, _about) in sorted(PEOPLE.items()):
        session.add(User(username=username, fullname=fullname, created=ago(900)))
    for team in TEAMS:
        people = [*team.roles[Role.OWNER], *team.roles[Role.MEMBER]]
        widgets = team_widgets(team.name, description=team.note, rules=team.rules,
                               calendars=team.calendars)
        hub = _hub(team.name, team.summary, ago(800),
                   team_activity(latest, team.name, people, team.archived), widgets,
                   archived=team.archived)
        for role, usernames in team.roles.items():
            hub.memberships.extend(Membership(username=u, role=role.value) for u in usernames)
        session.add(hub)
    for username, (fullname, about) in sorted(PEOPLE.items()):
        session.add(_hub(username, fullname, ago(900), latest.get(("user", username)),
                         user_widgets(username, about=about), user_hub=True))
    session.flush()
    counts.add(session, record(session, events))
    session.flush()


def _hub(name: str, summary: str, created: datetime, last_activity: datetime | None,
         widgets: Iterable[WidgetSpec], *, archived: bool = False,
         user_hub: bool = False) -> Hub:
    hub = Hub(name=name, summary=summary, archived=archived, user_hub=user_hub, created=created,
              last_activity=last_activity or created)
    positions: dict[str, int] = {}
    for plugin, config, column in widgets:
        position = positions[column] = positions.get(column, -1) + 1
        hub.widgets.append(WidgetInstance(plugin=plugin, config=config, column=column,
                                          position=position))
    return hub


def newest_by_name(events: Iterable[Event]) -> dict[tuple[str, str], datetime]:
    """When each user and group was last mentioned: the hubs' ``last_activity``."""
    latest: dict[tuple[str, str], datetime] = {}
    for event in events:
        for key in [("user", u) for u in event.usernames] + [("group", g) for g in event.groups]:
            if key not in latest or latest[key] < event.timestamp:
                latest[key] = event.timestamp
    return latest


def team_activity(latest: Mapping[tuple[str, str], datetime], team: str,
                  people: Iterable[str], archived: bool) -> datetime | None:
    """A team hub is as active as its group and its people, until archived: then its
    group's last word stands."""
    keys = [("group", team)] + ([] if archived else [("user", u) for u in people])
    return max((latest[k] for k in keys if k in latest), default=None)


def demo_events() -> list[Event]:
    """Ten weeks of bus traffic around the demo people, oldest first."""
    events = [*_badges(), *_updates(), *_reviews(), *_meetings(), *_minutes(), *_wiki(),
              *_sponsors()]
    return sorted(events, key=lambda e: (e.timestamp, e.msg_id))


def _badges() -> Iterable[Event]:
    ids = sorted(BADGES)
    for i, username in enumerate(sorted(PEOPLE)):
        for k in range(1 + i % 3):
            badge_id = ids[(i * 3 + k) % len(ids)]
            name, description = BADGES[badge_id]
            yield m.badge_award(ago(3 + (5 * i + 17 * k) % 64, hours=i), username, badge_id,
                                name, description)


def _alias(nvr: str) -> str:
    return "FEDORA-2026-" + hashlib.sha1(nvr.encode()).hexdigest()[:10]


TESTERS = ("mattdm", "decause", "nask0", "ralph", "duffy", "pravins", "lmacken")
COMMENTS = ("Works for me, thanks!", "Tested on a fresh Workstation install: looks good.",
            "No regressions on my laptop.")


def _updates() -> Iterable[Event]:
    """Every main admin has a Koji build and an update that met its karma but waits for a push;
    every second package also went all the way to stable a few weeks ago."""
    mains = {owners[0]: package for package, (_v, owners) in sorted(PACKAGES.items())}
    for i, (package, (version, owners)) in enumerate(sorted(PACKAGES.items())):
        submitter = owners[0]
        old = f"{package}-{version}-1.fc44"
        if i % 2 == 0:
            yield m.build_complete(ago(40 - i, hours=3), submitter, package, version, "1.fc44",
                                   2_810_000 + i)
            yield m.update_requirements_met(ago(33 - i), _alias(old), submitter, [old], "F44")
            yield m.update_pushed_stable(ago(32 - i), _alias(old), submitter, [old], "F44")
        if mains.get(submitter) != package:
            continue
        nvr = f"{package}-{version}-2.fc45"
        ready = ago(2 + i * 0.5)
        yield m.build_complete(ready - timedelta(days=6), submitter, package, version,
                               "2.fc45", 2_900_000 + i)
        testers = [t for t in TESTERS if t != submitter][:3]
        for k, tester in enumerate(testers):
            yield m.update_comment(ready - timedelta(days=3 - k), _alias(nvr), tester, submitter,
                                   nvr, 1, COMMENTS[k])
        yield m.update_requirements_met(ready, _alias(nvr), submitter, [nvr], "F45")
    # The data clock: a rawhide build lands exactly at REFERENCE.
    yield m.build_complete(REFERENCE, "lmacken", "bodhi", "9.2.0", "0.1.fc46", 2_950_000)


PULL_REQUESTS = (
    "Update to the latest upstream release",
    "Convert the License tag to SPDX",
    "Use %autorelease and %autochangelog",
    "Add gating tests",
    "Drop conditionals for EPEL 7",
    "Fix FTBFS with GCC 16",
)


def _reviews() -> Iterable[Event]:
    """An open pull request awaits every main admin; some older ones were merged or closed."""
    people = sorted(PEOPLE)
    seen: set[str] = set()
    for i, (package, (_v, owners)) in enumerate(sorted(PACKAGES.items())):
        author = people[(people.index(owners[0]) + 5) % len(people)]
        title = PULL_REQUESTS[i % len(PULL_REQUESTS)]
        if owners[0] not in seen:
            seen.add(owners[0])
            yield m.pull_request_opened(ago(12 - i * 0.7), author, "rpms", package, 7 + i % 3,
                                        title, list(owners))
        if i % 3 == 0:
            old_title = PULL_REQUESTS[(i + 2) % len(PULL_REQUESTS)]
            opened = ago(50 - i)
            yield m.pull_request_opened(opened, author, "rpms", package, 3, old_title,
                                        list(owners))
            yield m.pull_request_closed(opened + timedelta(days=2), owners[0], author, "rpms",
                                        package, 3, old_title, list(owners), merged=i % 2 == 0)


# (calendar, meeting name, location, hour, starts in days from REFERENCE, first id, agent)
CALENDARS = (
    ("design", "Fedora Design Team meeting", "#fedora-design@irc.libera.chat", 16,
     (-73, -59, -45, -31, -17, -3, 11, 25), 4100, "duffy"),
    ("infrastructure", "Fedora Infrastructure weekly meeting", "#fedora-meeting@irc.libera.chat",
     18, (-71, -64, -57, -50, -43, -36, -29, -22, -15, -8, -1, 6, 13, 20), 4200, "abompard"),
    ("marketing", "Fedora Marketing meeting", "#fedora-mktg@irc.libera.chat", 14,
     (-65, -51, -37, 12, 26), 4300, "croberts"),
)


def _meetings() -> Iterable[Event]:
    """Each calendar's meetings, past ones announced a week ahead; marketing paused after
    mid-October and announced its December restart back then."""
    for calendar, name, location, hour, days, first_id, agent in CALENDARS:
        for n, day in enumerate(days):
            start = (REFERENCE + timedelta(days=day)).replace(hour=hour)
            sent = start - timedelta(days=7)
            if day > 0:  # announced before REFERENCE, which must stay the newest message
                sent = ago(40 if calendar == "marketing" else 2, hours=n)
            yield m.meeting_scheduled(sent, agent, calendar, first_id + n, name, start, 60,
                                      location, "Agenda: https://discussion.fedoraproject.org/"
                                      f"tag/{calendar}-team")
    yield m.meeting_scheduled(ago(64), "pravins", "i18n", 4400, "Fedora G11N meeting",
                              (REFERENCE + timedelta(days=12)).replace(hour=9), 60,
                              "#fedora-g11n@irc.libera.chat",
                              "The i18n team carries on as part of Fedora G11N: join us there.")


# (group, channel, topic, chairs, attendees, minutes at: days ago, hour)
MINUTES = (
    ("designteam", "#fedora-design", "Fedora Design Team", ("duffy", "gnokii"),
     ("ryanlerch", "mrichard", "nask0", "decause"), (73, 59, 45, 31, 17, 3), 17),
    ("infrastructure", "#fedora-meeting", "Infrastructure weekly", ("abompard", "ralph"),
     ("lmacken", "nask0"), (71, 57, 43, 29, 15, 8, 1), 19),
    ("marketing", "#fedora-mktg", "Fedora Marketing", ("croberts",),
     ("ryanlerch", "mattdm", "decause"), (65, 51, 37), 15),
    ("i18n", "#fedora-g11n", "I18N team wrap-up", ("pravins",), ("decause",), (63,), 5),
)


def _minutes() -> Iterable[Event]:
    for group, channel, topic, chairs, attendees, days, hour in MINUTES:
        for n, day in enumerate(days):
            when = ago(day).replace(hour=hour, minute=2)
            lines = {person: 12 + (n * 7 + k * 11) % 40
                     for k, person in enumerate((*chairs, *attendees))}
            yield m.meeting_minutes(when, channel, group, topic, list(chairs), lines)


WIKI = (
    ("duffy", "Design/Meetings", 45), ("gnokii", "Design/Badges", 30),
    ("mrichard", "Fedora Hubs/User research", 26), ("ryanlerch", "Marketing/Talking points", 22),
    ("croberts", "Marketing/F45 release", 38), ("ralph", "Infrastructure/Meetings", 9),
    ("abompard", "Infrastructure/Mailman3", 16), ("lmacken", "Bodhi/Gating", 6),
    ("nask0", "Websites/Hubs front end", 11), ("decause", "Fedora Hubs", 4),
    ("mattdm", "Objectives", 19), ("pravins", "I18N", 64),
)


def _wiki() -> Iterable[Event]:
    for i, (username, title, days) in enumerate(WIKI):
        yield m.wiki_edit(ago(days, hours=i), username, title)


def _sponsors() -> Iterable[Event]:
    yield m.group_member_added(ago(69), "pravins", "decause", "i18n")
    yield m.group_member_added(ago(66), "croberts", "mattdm", "marketing")
    yield m.group_member_added(ago(58), "duffy", "decause", "designteam")
    yield m.group_member_added(ago(40), "ralph", "nask0", "infrastructure")
    yield m.group_member_added(ago(20), "duffy", "nask0", "designteam")
