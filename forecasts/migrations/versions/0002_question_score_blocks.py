"""question score blocks: the leaderboard's packed copy of question_scores

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

Existing scores are packed by `forecasts rescore`; until then the leaderboard is empty.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('question_score_blocks',
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_question_score_blocks_question_id_questions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('question_id', name=op.f('pk_question_score_blocks'))
    )


def downgrade() -> None:
    op.drop_table('question_score_blocks')
