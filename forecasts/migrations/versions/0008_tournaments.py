"""tournaments and their members; the aggregator behind each crowd score

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

Existing crowd scores were made by the median, the only aggregator before this revision.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('crowd_scores', sa.Column('aggregator', sa.String(length=60),
                                            server_default='median', nullable=False))
    op.create_table('tournaments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('start_at', sa.BigInteger(), nullable=True),
    sa.Column('end_at', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tournaments')),
    sa.UniqueConstraint('slug', name=op.f('uq_tournaments_slug'))
    )
    op.create_table('tournament_questions',
    sa.Column('tournament_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_tournament_questions_question_id_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tournament_id'], ['tournaments.id'], name=op.f('fk_tournament_questions_tournament_id_tournaments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tournament_id', 'question_id', name=op.f('pk_tournament_questions'))
    )
    op.create_index(op.f('ix_tournament_questions_question_id'), 'tournament_questions', ['question_id'], unique=False)
    op.create_table('tournament_members',
    sa.Column('tournament_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('joined_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['tournament_id'], ['tournaments.id'], name=op.f('fk_tournament_members_tournament_id_tournaments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_tournament_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tournament_id', 'user_id', name=op.f('pk_tournament_members'))
    )
    op.create_index(op.f('ix_tournament_members_user_id'), 'tournament_members', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_table('tournament_members')
    op.drop_table('tournament_questions')
    op.drop_table('tournaments')
    op.drop_column('crowd_scores', 'aggregator')
