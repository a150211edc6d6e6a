"""The alias directory: the user_aliases table, and understand() naming people through it."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from hubs.db import session_factory
from hubs.directory import NO_ALIASES, AliasTable, DatabaseDirectory
from hubs.events import RawMessage
from hubs.models import AliasKind, UserAlias
from hubs.testing import add_user, make_engine
from hubs.understand import fallback, understand
from tests.messages.accuracy import cases


def corpus(origin_suffix: str) -> RawMessage:
    return next(c.raw for c in cases() if c.origin.endswith(origin_suffix))


MEETING = ":TestSupybotStartMeeting"  # zodbot names the chair by IRC nick: threebean
BUG = ":TestLegacy030BugzillaUpdate"  # Bugzilla names people by e-mail address


@pytest.fixture
def directory(db_url) -> Iterator[DatabaseDirectory]:
    """ralph is threebean on IRC and has two addresses, on SQLite and on PostgreSQL."""
    engine = make_engine(db_url)
    sessions = session_factory(engine)
    with sessions() as session:
        for username in ("ralph", "puiterwijk"):
            add_user(session, username)
        session.add_all([
            UserAlias(username="ralph", kind=AliasKind.NICK, value="threebean"),
            UserAlias(username="ralph", kind=AliasKind.EMAIL, value="rbean@redhat.com"),
            UserAlias(username="puiterwijk", kind=AliasKind.EMAIL,
                      value="puiterwijk@gmail.com"),
        ])
        session.commit()
    yield DatabaseDirectory(engine)
    engine.dispose()


@pytest.fixture
def session(directory) -> Iterator[Session]:
    with session_factory(directory.engine)() as session:
        yield session


def test_database_directory_finds_nicks_and_addresses_whatever_their_case(directory):
    assert directory.username_for_nick("ThreeBean") == "ralph"
    assert directory.username_for_email(" RBean@RedHat.com") == "ralph"
    assert directory.username_for_nick("rbean@redhat.com") is None  # kinds do not mix
    assert directory.username_for_nick("lmacken") is None


def test_an_alias_belongs_to_one_user(session):
    add_user(session, "impostor")
    session.add(UserAlias(username="impostor", kind=AliasKind.NICK, value="THREEBEAN"))
    with pytest.raises(IntegrityError):
        session.commit()


def test_aliases_go_with_their_user(directory, session):
    session.delete(add_user(session, "ralph"))
    session.commit()
    assert directory.username_for_nick("threebean") is None


def test_understand_names_the_user_behind_a_nick_and_addresses(directory):
    meeting = understand(corpus(MEETING), directory)
    assert meeting.usernames == {"ralph"}
    assert meeting.summary.startswith("ralph started meeting")
    assert understand(corpus(BUG), directory).usernames == {"ralph", "puiterwijk"}


def test_without_a_directory_the_message_s_own_names_stay():
    assert understand(corpus(MEETING)).usernames == {"threebean"}
    assert understand(corpus(BUG)).usernames == set()


def test_a_new_alias_applies_to_the_next_message(directory, session):
    assert understand(corpus(MEETING), directory).usernames == {"ralph"}
    session.execute(UserAlias.__table__.delete())
    session.commit()
    assert understand(corpus(MEETING), directory).usernames == {"threebean"}


def test_a_directory_that_cannot_be_read_is_not_taken_for_an_empty_one(tmp_path):
    """fedmsg.meta's processors swallow errors; the database's must still reach the caller."""
    broken = DatabaseDirectory(  # open_engine would refuse it at once
        create_engine(f"sqlite:///{tmp_path / 'no such folder' / 'hubs.db'}"))
    with pytest.raises(OperationalError):
        understand(corpus(MEETING), broken)


def test_threads_reading_with_different_directories_do_not_mix():
    ralph = AliasTable(nicks={"threebean": "ralph"})
    seen: dict[str, set[str]] = {}

    def read(name: str, directory: AliasTable) -> None:
        seen[name] = set().union(*(understand(corpus(MEETING), directory).usernames
                                   for _ in range(20)))

    threads = [threading.Thread(target=read, args=("ralph", ralph)),
               threading.Thread(target=read, args=("none", NO_ALIASES))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"ralph": {"ralph"}, "none": {"threebean"}}


def test_fallback_counts_an_address_the_directory_knows():
    message = RawMessage(msg_id="m-1", topic="org.fedoraproject.prod.newservice.thing.done",
                         timestamp=corpus(MEETING).timestamp,
                         body={"owner": "RBean@redhat.com", "user": "stranger@example.com"})
    reading = fallback.read(message, AliasTable(emails={"rbean@redhat.com": "ralph"}))
    assert reading.usernames == {"ralph"}
    assert reading.summary == "ralph newservice.thing.done"
    assert fallback.read(message).usernames == set()
