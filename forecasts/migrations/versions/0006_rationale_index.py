"""a partial index of the forecasts that carry a rationale

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

The question page lists the newest rationales of a question; without this index a
question with 100,000 forecasts was read whole to find them.
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

WHERE = sa.text("rationale IS NOT NULL")


def upgrade() -> None:
    op.create_index('ix_forecasts_rationale', 'forecasts', ['question_id', 'at', 'id'],
                    unique=False, sqlite_where=WHERE, postgresql_where=WHERE)


def downgrade() -> None:
    op.drop_index('ix_forecasts_rationale', table_name='forecasts')
