"""Initial schema: accounts, tokens, assignments, audit, patients with their canonical input
rows and derived tables.

Revision ID: 0001_initial
Revises:
Create Date: 2026-05-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _subject_fk():
    return sa.Column(
        "subject_id", sa.String(64), sa.ForeignKey("patients.subject_id", ondelete="CASCADE"), nullable=False
    )


def _rows(name: str, *columns: sa.Column) -> None:
    op.create_table(
        name,
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _subject_fk(),
        sa.Column("seq", sa.Integer(), nullable=False),
        *columns,
        *([sa.Column("extra", sa.Text())] if name not in ("assessments", "episodes") else []),
    )
    op.create_index(f"ix_{name}_subject", name, ["subject_id", "seq"])


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(150), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "tokens",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_tokens_user_id", "tokens", ["user_id"])
    op.create_table(
        "assignments",
        sa.Column("clinician_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("subject_id", sa.String(64), primary_key=True),
    )
    op.create_table(
        "audit",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(150), nullable=True),
        sa.Column("role", sa.String(16), nullable=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("resource", sa.String(255), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("client", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
    )
    op.create_index("ix_audit_subject_id", "audit", ["subject_id"])
    op.create_table(
        "patients",
        sa.Column("subject_id", sa.String(64), primary_key=True),
        sa.Column("cancer_type", sa.String(64)),
        sa.Column("criteria", sa.String(32)),
        sa.Column("diagnosis_date", sa.Date()),
        sa.Column("death_date", sa.Date()),
        sa.Column("last_contact_date", sa.Date()),
        sa.Column("as_of", sa.Date()),
        sa.Column("input_hash", sa.String(64)),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(64)),
        sa.Column("status_date", sa.Date()),
        sa.Column("best_response", sa.String(32)),
        sa.Column("confirmed_best_response", sa.String(32)),
        sa.Column("next_followup_due", sa.Date()),
        sa.Column("summary", sa.Text()),
        sa.Column("extra", sa.Text()),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_patients_status", "patients", ["status"])
    op.create_index("ix_patients_next_followup_due", "patients", ["next_followup_due"])
    _rows(
        "lesions",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("lesion_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("organ", sa.String(64)),
        sa.Column("nodal", sa.Boolean()),
        sa.Column("diameter_mm", sa.Float()),
        sa.Column("perpendicular_mm", sa.Float()),
        sa.Column("status", sa.String(32)),
        sa.Column("method", sa.String(16)),
    )
    _rows(
        "labs",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("test", sa.String(64), nullable=False),
        sa.Column("value", sa.Float()),
        sa.Column("unit", sa.String(32)),
    )
    _rows(
        "findings",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("finding", sa.String(64), nullable=False),
        sa.Column("value", sa.String(255)),
    )
    _rows(
        "treatments",
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date()),
        sa.Column("modality", sa.String(32), nullable=False),
        sa.Column("intent", sa.String(32)),
        sa.Column("line", sa.Integer()),
        sa.Column("name", sa.String(255)),
    )
    _rows(
        "responses",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("response", sa.String(32), nullable=False),
        sa.Column("evidence", sa.String(32)),
    )
    _rows("assessments", sa.Column("date", sa.Date()), sa.Column("data", sa.Text(), nullable=False))
    _rows("episodes", sa.Column("data", sa.Text(), nullable=False))


def downgrade() -> None:
    for name in ("episodes", "assessments", "responses", "treatments", "findings", "labs", "lesions",
                 "patients", "audit", "assignments", "tokens", "users"):
        op.drop_table(name)
