"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-28

Timestamps are BIGINT microseconds since the epoch (forecasts.models.UtcMicros).
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('observations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series', sa.String(length=80), nullable=False),
    sa.Column('at', sa.BigInteger(), nullable=False),
    sa.Column('value', sa.Float(precision=53), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=True),
    sa.Column('recorded_by', sa.String(length=80), nullable=False),
    sa.Column('recorded_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_observations'))
    )
    op.create_index('ix_observations_series_at', 'observations', ['series', 'at'], unique=False)
    op.create_table('questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('options_json', sa.Text(), nullable=True),
    sa.Column('ordered', sa.Boolean(), nullable=False),
    sa.Column('open_at', sa.BigInteger(), nullable=False),
    sa.Column('close_at', sa.BigInteger(), nullable=False),
    sa.Column('rule_json', sa.Text(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("kind IN ('binary', 'multiple_choice')", name=op.f('ck_questions_kind')),
    sa.CheckConstraint('open_at < close_at', name=op.f('ck_questions_window')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questions')),
    sa.UniqueConstraint('slug', name=op.f('uq_questions_slug'))
    )
    op.create_index(op.f('ix_questions_close_at'), 'questions', ['close_at'], unique=False)
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=40), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("role IN ('admin', 'forecaster')", name=op.f('ck_users_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_index('uq_users_username_lower', 'users', [sa.text('lower(username)')], unique=True)
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('last_used_at', sa.BigInteger(), nullable=True),
    sa.Column('revoked_at', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_index(op.f('ix_api_tokens_user_id'), 'api_tokens', ['user_id'], unique=False)
    op.create_table('crowd_scores',
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('brier', sa.Float(precision=53), nullable=False),
    sa.Column('log', sa.Float(precision=53), nullable=False),
    sa.Column('rps', sa.Float(precision=53), nullable=True),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_crowd_scores_question_id_questions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('question_id', name=op.f('pk_crowd_scores'))
    )
    op.create_table('forecasts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.BigInteger(), nullable=False),
    sa.Column('probability', sa.Float(precision=53), nullable=True),
    sa.Column('probabilities_json', sa.Text(), nullable=True),
    sa.Column('rationale', sa.Text(), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('(probability IS NULL) <> (probabilities_json IS NULL)', name=op.f('ck_forecasts_one_form')),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_forecasts_question_id_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_forecasts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forecasts'))
    )
    op.create_index('ix_forecasts_question_user_at', 'forecasts', ['question_id', 'user_id', 'at'], unique=False)
    op.create_index(op.f('ix_forecasts_user_id'), 'forecasts', ['user_id'], unique=False)
    op.create_table('question_scores',
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('brier', sa.Float(precision=53), nullable=False),
    sa.Column('log', sa.Float(precision=53), nullable=False),
    sa.Column('rps', sa.Float(precision=53), nullable=True),
    sa.Column('peer', sa.Float(precision=53), nullable=False),
    sa.Column('coverage', sa.Float(precision=53), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_question_scores_question_id_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_question_scores_user_id_users')),
    sa.PrimaryKeyConstraint('question_id', 'user_id', name=op.f('pk_question_scores'))
    )
    op.create_index(op.f('ix_question_scores_user_id'), 'question_scores', ['user_id'], unique=False)
    op.create_table('question_tags',
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=40), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_question_tags_question_id_questions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('question_id', 'tag', name=op.f('pk_question_tags'))
    )
    op.create_index(op.f('ix_question_tags_tag'), 'question_tags', ['tag'], unique=False)
    op.create_table('resolutions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=200), nullable=False),
    sa.Column('known_at', sa.BigInteger(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('evidence_json', sa.Text(), nullable=True),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('superseded_at', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("source IN ('manual', 'rule', 'import', 'cascade')", name=op.f('ck_resolutions_source')),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_resolutions_question_id_questions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resolutions'))
    )
    op.create_index(op.f('ix_resolutions_question_id'), 'resolutions', ['question_id'], unique=False)
    op.create_index('uq_resolutions_current', 'resolutions', ['question_id'], unique=True, sqlite_where=sa.text('superseded_at IS NULL'), postgresql_where=sa.text('superseded_at IS NULL'))


def downgrade() -> None:
    op.drop_index('uq_resolutions_current', 'resolutions')
    op.drop_index(op.f('ix_resolutions_question_id'), 'resolutions')
    op.drop_table('resolutions')
    op.drop_index(op.f('ix_question_tags_tag'), 'question_tags')
    op.drop_table('question_tags')
    op.drop_index(op.f('ix_question_scores_user_id'), 'question_scores')
    op.drop_table('question_scores')
    op.drop_index(op.f('ix_forecasts_user_id'), 'forecasts')
    op.drop_index('ix_forecasts_question_user_at', 'forecasts')
    op.drop_table('forecasts')
    op.drop_table('crowd_scores')
    op.drop_index(op.f('ix_api_tokens_user_id'), 'api_tokens')
    op.drop_table('api_tokens')
    op.drop_index('uq_users_username_lower', 'users')
    op.drop_table('users')
    op.drop_index(op.f('ix_questions_close_at'), 'questions')
    op.drop_table('questions')
    op.drop_index('ix_observations_series_at', 'observations')
    op.drop_table('observations')
