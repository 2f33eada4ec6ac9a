"""chat message lookups that do not read a conversation's whole history

The worker's read before every turn finds the inbound event's row (by platform
event id within the conversation) and asks whether outbound updates are held.
With only the single-column indexes, SQLite answered both by reading every
message of the conversation. The event index now leads with the event id and
carries the conversation; held rows (rare) get a partial index of their own.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 05:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

HELD = sa.text("status = 'held'")


def upgrade() -> None:
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_chat_messages_platform_event_id')
        batch_op.create_index('ix_chat_messages_event', ['platform_event_id', 'conversation_id'],
                              unique=False)
        batch_op.create_index('ix_chat_messages_held', ['conversation_id', 'status'], unique=False,
                              sqlite_where=HELD, postgresql_where=HELD)


def downgrade() -> None:
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_chat_messages_held', sqlite_where=HELD, postgresql_where=HELD)
        batch_op.drop_index('ix_chat_messages_event')
        batch_op.create_index('ix_chat_messages_platform_event_id', ['platform_event_id'],
                              unique=False)
