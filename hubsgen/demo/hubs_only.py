"""A synthetic population of hubs rows alone, for the directory: 100,000 users in seconds,
where ``populate.py`` also writes their widgets, memberships and messages."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import Engine, insert

from hubs.models import Hub
from hubsgen.demo.population import REFERENCE
from hubsgen.demo.synthetic import Spec, make_world


def insert_hubs_only(engine: Engine, users: int, groups: int, seed: int = 1) -> int:
    """Insert one hub per user and per team into *engine*'s empty schema, named as
    ``populate.py --users`` names them, with nothing on them; how many hubs."""
    world = make_world(random.Random(seed), Spec(users=users, groups=groups, seed=seed))
    created = REFERENCE - timedelta(days=400)
    rows = [{"name": team.name, "summary": team.title, "avatar": "", "archived": team.archived,
             "user_hub": False, "created": created, "last_activity": created}
            for team in world.teams]
    rows += [{"name": username, "summary": fullname, "avatar": "", "archived": False,
              "user_hub": True, "created": created, "last_activity": created}
             for username, fullname in world.people]
    with engine.begin() as conn:
        conn.execute(insert(Hub), rows)
    return len(rows)
