"""Sign-in throttling and one audit row per list request.

* ``audit.subject_ids``: the subject ids a list request returned (JSON array), so that a
  list writes one audit row instead of one per patient and ``GET /api/audit?subject_id=X``
  still finds every list that showed X.
* indexes on ``audit`` (action, username, at) and (action, client, at): the failed sign-ins
  of an account and of an address in the last minutes are counted at every sign-in.

Revision ID: 0002_signin_and_list_audit
Revises: 0001_initial
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_signin_and_list_audit"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit") as batch:
        batch.add_column(sa.Column("subject_ids", sa.Text(), nullable=True))
    op.create_index("ix_audit_user_action_at", "audit", ["username", "action", "at"])
    op.create_index("ix_audit_client_action_at", "audit", ["client", "action", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_client_action_at", table_name="audit")
    op.drop_index("ix_audit_user_action_at", table_name="audit")
    with op.batch_alter_table("audit") as batch:
        batch.drop_column("subject_ids")
