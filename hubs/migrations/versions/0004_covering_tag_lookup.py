"""The tag lookup index ends with the message id: ranking each hub's newest messages reads
the index alone, not a table row per tag.

Revision ID: 0004_covering_tag_lookup
Revises: 0003_hub_counts
Create Date: 2026-12-07 11:50:00
"""

from __future__ import annotations

from alembic import op

revision = "0004_covering_tag_lookup"
down_revision = "0003_hub_counts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_message_tags_lookup", table_name="message_tags")
    op.create_index("ix_message_tags_lookup", "message_tags",
                    ["kind", "name", "timestamp", "message_id"])


def downgrade() -> None:
    op.drop_index("ix_message_tags_lookup", table_name="message_tags")
    op.create_index("ix_message_tags_lookup", "message_tags", ["kind", "name", "timestamp"])
