"""precomputed question figures, the scores counter, leaderboard snapshots; login lockout

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

question_stats starts empty: `forecasts rescore` (or the first write to a question)
fills it; readers fall back to computing a missing row.
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('question_stats',
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('forecasters', sa.Integer(), nullable=False),
    sa.Column('forecasts', sa.Integer(), nullable=False),
    sa.Column('last_forecast_at', sa.BigInteger(), nullable=True),
    sa.Column('crowd_json', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_question_stats_question_id_questions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('question_id', name=op.f('pk_question_stats'))
    )
    op.create_table('counters',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_counters'))
    )
    op.create_table('leaderboard_snapshots',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('score_version', sa.BigInteger(), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_leaderboard_snapshots'))
    )
    op.add_column('users', sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
    op.add_column('users', sa.Column('locked_until', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column('users', 'locked_until')
    op.drop_column('users', 'failed_logins')
    op.drop_table('leaderboard_snapshots')
    op.drop_table('counters')
    op.drop_table('question_stats')
