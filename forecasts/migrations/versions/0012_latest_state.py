"""each question's latest forecast per forecaster, kept with its figures

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04

`question_stats.latest` holds, for a binary or multiple-choice question, each
forecaster's latest forecast (user, forecast id, time, probabilities) in one blob
(`forecasts.services.latest_forecasts.encode_latest`), written in the transaction of every
forecast: the next forecast updates the crowd from it instead of reading every
forecaster's latest row again, whichever process records it. NULL means "not kept"
(after a bulk import, a resolution or a rescore): the next forecast reads it from the
forecasts table once, so existing rows need no value. On PostgreSQL the column is
stored uncompressed (STORAGE EXTERNAL).
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('question_stats', sa.Column('latest', sa.LargeBinary(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        # Out of line and uncompressed: the blob is rewritten by every forecast, and
        # compressing 40 kB of ids and times each time cost more (about 3 ms) than the
        # rest of the forecast's writes together.
        op.execute("ALTER TABLE question_stats ALTER COLUMN latest SET STORAGE EXTERNAL")


def downgrade() -> None:
    # SQLite 3.35 and later drop a column in place (no table rebuild).
    op.drop_column('question_stats', 'latest')
