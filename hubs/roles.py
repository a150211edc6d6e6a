"""What a person can be on a hub: kept apart from the models so the command line can name the
roles without loading the database layer."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    OWNER = "owner"
    MEMBER = "member"
    SUBSCRIBER = "subscriber"
    STARGAZER = "stargazer"


ROLES = tuple(role.value for role in Role)
