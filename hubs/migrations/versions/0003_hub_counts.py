"""Messages per hub, UTC day and category, kept as messages arrive for the counting widgets;
filled from the stored messages.

Revision ID: 0003_hub_counts
Revises: 0002_quarantine
Create Date: 2026-12-07 06:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_hub_counts"
down_revision = "0002_quarantine"
branch_labels = None
depends_on = None

FILL = """
INSERT INTO hub_counts (hub_id, day, category, messages)
SELECT hits.hub_id, date(messages.timestamp), messages.category, count(*)
FROM (
    SELECT DISTINCT who.hub_id, message_tags.message_id
    FROM (
        SELECT hubs.id AS hub_id, 'user' AS kind, memberships.username AS name
        FROM hubs JOIN memberships ON memberships.hub_id = hubs.id
        WHERE NOT hubs.user_hub AND memberships.role IN ('owner', 'member')
        UNION ALL
        SELECT id, 'group', name FROM hubs WHERE NOT user_hub
        UNION ALL
        SELECT id, 'user', name FROM hubs WHERE user_hub
    ) AS who
    JOIN message_tags ON message_tags.kind = who.kind AND message_tags.name = who.name
) AS hits
JOIN messages ON messages.id = hits.message_id
GROUP BY hits.hub_id, date(messages.timestamp), messages.category
"""
"""Whom a hub follows as this release says (hubs.store.hub_tags), frozen here: a message
counts once per hub whose history it joins."""


def upgrade() -> None:
    op.create_table(
        "hub_counts",
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["hub_id"], ["hubs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("hub_id", "day", "category"),
    )
    op.execute(FILL)


def downgrade() -> None:
    op.drop_table("hub_counts")
