"""question review state and edit history; deactivated accounts

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Existing questions are published; existing accounts stay active.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


STATES = "review_state IN ('draft', 'published', 'rejected')"


def upgrade() -> None:
    # Plain ADD COLUMN on both databases: SQLite's batch mode would copy and drop the
    # questions table, and with foreign keys on that drop cascades to the forecasts.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE users ADD COLUMN deactivated_at BIGINT")
        op.execute("ALTER TABLE questions ADD COLUMN review_state VARCHAR(16) DEFAULT 'published' "
                   f"NOT NULL CONSTRAINT ck_questions_review_state CHECK ({STATES})")
        op.execute("ALTER TABLE questions ADD COLUMN proposed_by_id INTEGER "
                   "CONSTRAINT fk_questions_proposed_by_id_users REFERENCES users (id)")
    else:
        op.add_column('users', sa.Column('deactivated_at', sa.BigInteger(), nullable=True))
        op.add_column('questions', sa.Column('review_state', sa.String(length=16),
                                             server_default='published', nullable=False))
        op.add_column('questions', sa.Column('proposed_by_id', sa.Integer(), nullable=True))
        op.create_check_constraint(op.f('ck_questions_review_state'), 'questions', STATES)
        op.create_foreign_key(op.f('fk_questions_proposed_by_id_users'), 'questions', 'users',
                              ['proposed_by_id'], ['id'])
    op.add_column('questions', sa.Column('reviewed_by', sa.String(length=80), nullable=True))
    op.add_column('questions', sa.Column('reviewed_at', sa.BigInteger(), nullable=True))
    op.add_column('questions', sa.Column('review_note', sa.Text(), nullable=True))
    op.create_index(op.f('ix_questions_review_state'), 'questions', ['review_state'], unique=False)
    op.create_table('question_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('changes_json', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_question_revisions_question_id_questions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question_revisions'))
    )
    op.create_index(op.f('ix_question_revisions_question_id'), 'question_revisions', ['question_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_question_revisions_question_id'), table_name='question_revisions')
    op.drop_table('question_revisions')
    op.drop_index(op.f('ix_questions_review_state'), table_name='questions')
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f('fk_questions_proposed_by_id_users'), 'questions', type_='foreignkey')
        op.drop_constraint(op.f('ck_questions_review_state'), 'questions', type_='check')
    for column in ('review_note', 'reviewed_at', 'reviewed_by', 'proposed_by_id', 'review_state'):
        op.drop_column('questions', column)
    op.drop_column('users', 'deactivated_at')
