"""Bus messages as Fedora's services publish them, for demo data, tests and benchmarks.

Bodies follow the real fedmsg-era shapes of each service (trimmed to the fields widgets read);
each builder returns the Event the bus sources will produce, with its feed summary, link and icon.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from hubs.events import Event

ICONS = {
    "bodhi": "https://apps.fedoraproject.org/img/icons/bodhi.png",
    "buildsys": "https://apps.fedoraproject.org/img/icons/koji.png",
    "fas": "https://apps.fedoraproject.org/img/icons/fedora_infrastructure.png",
    "fedbadges": "https://apps.fedoraproject.org/img/icons/badges.png",
    "fedocal": "https://apps.fedoraproject.org/img/icons/fedocal.png",
    "meetbot": "https://apps.fedoraproject.org/img/icons/meetbot.png",
    "pagure": "https://apps.fedoraproject.org/img/icons/pagure.png",
    "wiki": "https://apps.fedoraproject.org/img/icons/mediawiki.png",
}


def _event(topic: str, when: datetime, body: dict[str, Any], *, usernames: Iterable[str] = (),
           groups: Iterable[str] = (), packages: Iterable[str] = (), summary: str,
           link: str = "") -> Event:
    seed = f"{topic}|{when.isoformat()}|{summary}".encode()
    msg_id = f"{when.year}-{hashlib.sha1(seed).hexdigest()[:24]}"
    return Event(msg_id=msg_id, topic=topic, timestamp=when, usernames=frozenset(usernames),
                 groups=frozenset(groups), packages=frozenset(packages), body=body,
                 summary=summary, link=link, icon=ICONS[topic.split(".", 1)[0]])


def badge_award(when: datetime, username: str, badge_id: str, name: str,
                description: str) -> Event:
    """``fedbadges.badge.award``: Tahrir awarded *username* a badge."""
    image = f"https://badges.fedoraproject.org/pngs/{badge_id}.png"
    body = {"user": {"username": username},
            "badge": {"badge_id": badge_id, "name": name, "description": description,
                      "image": image}}
    return _event("fedbadges.badge.award", when, body, usernames=[username],
                  summary=f"{username} was awarded the badge \"{name}\"",
                  link=f"https://badges.fedoraproject.org/badge/{badge_id}")


def _update(alias: str, submitter: str, builds: list[str], release: str, status: str,
            request: str | None, karma: int, stable_karma: int,
            submitted: datetime) -> dict[str, Any]:
    return {"alias": alias, "title": " ".join(builds), "status": status, "request": request,
            "karma": karma, "stable_karma": stable_karma,
            "date_submitted": submitted.strftime("%Y-%m-%d %H:%M:%S"),
            "user": {"name": submitter}, "release": {"name": release},
            "builds": [{"nvr": nvr} for nvr in builds]}


def _package(nvr: str) -> str:
    return nvr.rsplit("-", 2)[0]


def update_requirements_met(when: datetime, alias: str, submitter: str, builds: list[str],
                            release: str, karma: int = 3, stable_karma: int = 3) -> Event:
    """``bodhi.update.requirements_met.stable``: an update may now be pushed to stable."""
    update = _update(alias, submitter, builds, release, "testing", None, karma, stable_karma,
                     when - timedelta(days=7))
    packages = sorted({_package(b) for b in builds})
    return _event("bodhi.update.requirements_met.stable", when, {"update": update},
                  usernames=[submitter], packages=packages,
                  summary=f"{submitter}'s {', '.join(packages)} update {alias} meets the "
                          "requirements for stable",
                  link=f"https://bodhi.fedoraproject.org/updates/{alias}")


def update_pushed_stable(when: datetime, alias: str, submitter: str, builds: list[str],
                         release: str) -> Event:
    """``bodhi.update.complete.stable``: the update reached the stable repository."""
    update = _update(alias, submitter, builds, release, "stable", None, 3, 3,
                     when - timedelta(days=8))
    packages = sorted({_package(b) for b in builds})
    return _event("bodhi.update.complete.stable", when, {"update": update},
                  usernames=[submitter], packages=packages,
                  summary=f"{submitter}'s {', '.join(packages)} update {alias} was pushed to "
                          "stable",
                  link=f"https://bodhi.fedoraproject.org/updates/{alias}")


def update_comment(when: datetime, alias: str, commenter: str, submitter: str, nvr: str,
                   karma: int, text: str) -> Event:
    """``bodhi.update.comment``: someone tested an update and left karma."""
    update = _update(alias, submitter, [nvr], "F43", "testing", None, karma, 3,
                     when - timedelta(days=2))
    body = {"comment": {"text": text, "karma": karma, "user": {"name": commenter},
                        "update": update}}
    return _event("bodhi.update.comment", when, body, usernames=[commenter, submitter],
                  packages=[_package(nvr)],
                  summary=f"{commenter} commented on bodhi update {alias} (karma: {karma:+d})",
                  link=f"https://bodhi.fedoraproject.org/updates/{alias}")


def build_complete(when: datetime, owner: str, name: str, version: str, release: str,
                   build_id: int) -> Event:
    """``buildsys.build.state.change`` to COMPLETE: a Koji build finished."""
    body = {"owner": owner, "name": name, "version": version, "release": release,
            "epoch": None, "build_id": build_id, "instance": "primary", "old": 0, "new": 1}
    return _event("buildsys.build.state.change", when, body, usernames=[owner],
                  packages=[name],
                  summary=f"{owner}'s {name}-{version}-{release} completed",
                  link=f"https://koji.fedoraproject.org/koji/buildinfo?buildID={build_id}")


def meeting_scheduled(when: datetime, agent: str, calendar: str, meeting_id: int, name: str,
                      start: datetime, minutes: int, location: str, information: str) -> Event:
    """``fedocal.meeting.new``: a meeting was added to a calendar."""
    stop = start + timedelta(minutes=minutes)
    meeting = {"meeting_id": meeting_id, "meeting_name": name,
               "meeting_date": start.strftime("%Y-%m-%d"),
               "meeting_date_end": stop.strftime("%Y-%m-%d"),
               "meeting_time_start": start.strftime("%H:%M:%S"),
               "meeting_time_stop": stop.strftime("%H:%M:%S"), "meeting_timezone": "UTC",
               "meeting_location": location, "meeting_information": information,
               "calendar_name": calendar}
    body = {"agent": agent, "calendar": {"calendar_name": calendar}, "meeting": meeting}
    return _event("fedocal.meeting.new", when, body, usernames=[agent], groups=[calendar],
                  summary=f"{agent} scheduled \"{name}\" in the {calendar} calendar",
                  link=f"https://calendar.fedoraproject.org/{calendar}/{meeting_id}/")


def meeting_minutes(when: datetime, channel: str, group: str, topic: str, chairs: list[str],
                    attendees: dict[str, int]) -> Event:
    """``meetbot.meeting.complete``: a logged IRC/Matrix meeting ended with minutes."""
    stamp = when.strftime("%Y-%m-%d-%H.%M")
    url = f"https://meetbot.fedoraproject.org/{channel}/{when:%Y-%m-%d}/{group}.{stamp}"
    body = {"meeting_topic": topic, "channel": channel, "url": url, "owner": chairs[0],
            "chairs": chairs, "attendees": attendees}
    return _event("meetbot.meeting.complete", when, body,
                  usernames=sorted(set(chairs) | set(attendees)), groups=[group],
                  summary=f"{chairs[0]}'s meeting \"{topic}\" ended in {channel}",
                  link=f"{url}.html")


def pull_request_opened(when: datetime, author: str, namespace: str, project: str,
                        number: int, title: str, owners: list[str]) -> Event:
    """``pagure.pull-request.new`` on dist-git: a PR awaits the project's maintainers."""
    body = {"agent": author, "pullrequest": _pull_request(
        when, author, namespace, project, number, title, owners, "Open")}
    return _event("pagure.pull-request.new", when, body, usernames=sorted({author, *owners}),
                  packages=[project] if namespace == "rpms" else [],
                  summary=f"{author} opened pull-request#{number} on {namespace}/{project}",
                  link=f"https://src.fedoraproject.org/{namespace}/{project}/pull-request/"
                       f"{number}")


def pull_request_closed(when: datetime, agent: str, author: str, namespace: str, project: str,
                        number: int, title: str, owners: list[str], merged: bool) -> Event:
    """``pagure.pull-request.closed``: merged or closed, so no longer awaiting review."""
    status = "Merged" if merged else "Closed"
    body = {"agent": agent, "merged": merged, "pullrequest": _pull_request(
        when, author, namespace, project, number, title, owners, status)}
    verb = "merged" if merged else "closed"
    return _event("pagure.pull-request.closed", when, body,
                  usernames=sorted({agent, author, *owners}),
                  packages=[project] if namespace == "rpms" else [],
                  summary=f"{agent} {verb} pull-request#{number} on {namespace}/{project}",
                  link=f"https://src.fedoraproject.org/{namespace}/{project}/pull-request/"
                       f"{number}")


def _pull_request(when: datetime, author: str, namespace: str, project: str, number: int,
                  title: str, owners: list[str], status: str) -> dict[str, Any]:
    return {"id": number, "title": title, "status": status, "user": {"name": author},
            "date_created": str(int(when.timestamp())), "assignee": None,
            "project": {"name": project, "namespace": namespace,
                        "fullname": f"{namespace}/{project}",
                        "access_users": {"owner": owners[:1], "admin": owners[1:],
                                         "commit": []}}}


def wiki_edit(when: datetime, username: str, title: str) -> Event:
    """``wiki.article.edit``: a Fedora wiki page changed."""
    url = "https://fedoraproject.org/wiki/" + title.replace(" ", "_")
    body = {"user": username, "title": title, "url": url, "minor_edit": False,
            "summary": "", "revision": {}}
    return _event("wiki.article.edit", when, body, usernames=[username],
                  summary=f"{username} made a wiki edit to \"{title}\"", link=url)


def group_member_added(when: datetime, agent: str, username: str, group: str) -> Event:
    """``fas.group.member.sponsor``: Noggin added *username* to *group*."""
    body = {"msg": {"agent": agent, "user": username, "group": group}}
    return _event("fas.group.member.sponsor", when, body, usernames=[agent, username],
                  groups=[group],
                  summary=f"{agent} sponsored {username} into the {group} group",
                  link=f"https://accounts.fedoraproject.org/group/{group}/")
