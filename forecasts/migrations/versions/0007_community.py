"""community: comments, follows, notifications, the mail outbox; email and preferences

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Existing rationales become comments marked with their forecast, and every existing
forecaster follows the questions they forecast, so the thread and the notifications
start from what is already there. Existing resolutions count as notified (nobody is
mailed about the past), and existing questions keep showing their crowd.
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

USER_FLAGS = (('hide_crowd', sa.false()), ('notify_closing', sa.true()),
              ('notify_resolved', sa.true()), ('notify_stale', sa.true()),
              ('notify_reply', sa.true()), ('mail_digest', sa.false()))


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN: a batch rebuild of these tables would drop the
    # search triggers of migration 0004.
    op.add_column('users', sa.Column('email', sa.String(length=254), nullable=True))
    op.add_column('users', sa.Column('email_verified_at', sa.BigInteger(), nullable=True))
    for name, default in USER_FLAGS:
        op.add_column('users', sa.Column(name, sa.Boolean(), server_default=default,
                                         nullable=False))
    op.add_column('users', sa.Column('last_digest_at', sa.BigInteger(), nullable=True))
    op.create_index('uq_users_email_lower', 'users', [sa.text('lower(email)')], unique=True)
    op.add_column('questions', sa.Column('hide_crowd_until_forecast', sa.Boolean(),
                                         server_default=sa.false(), nullable=False))
    op.add_column('resolutions', sa.Column('notified_at', sa.BigInteger(), nullable=True))
    op.execute("UPDATE resolutions SET notified_at = created_at")

    op.create_table('comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('forecast_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('edited_at', sa.BigInteger(), nullable=True),
    sa.Column('deleted_at', sa.BigInteger(), nullable=True),
    sa.Column('hidden_at', sa.BigInteger(), nullable=True),
    sa.Column('hidden_by', sa.String(length=80), nullable=True),
    sa.Column('hidden_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['forecast_id'], ['forecasts.id'], name=op.f('fk_comments_forecast_id_forecasts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['comments.id'], name=op.f('fk_comments_parent_id_comments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_comments_question_id_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_comments_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comments'))
    )
    op.create_index('ix_comments_question_created', 'comments', ['question_id', 'created_at', 'id'], unique=False)
    op.create_index(op.f('ix_comments_parent_id'), 'comments', ['parent_id'], unique=False)
    op.create_index(op.f('ix_comments_forecast_id'), 'comments', ['forecast_id'], unique=False)
    op.create_index(op.f('ix_comments_user_id'), 'comments', ['user_id'], unique=False)

    op.create_table('follows',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('following', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_follows_question_id_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_follows_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'question_id', name=op.f('pk_follows'))
    )
    op.create_index(op.f('ix_follows_question_id'), 'follows', ['question_id'], unique=False)

    op.create_table('mail_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('to_addr', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=True),
    sa.Column('headers_json', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.BigInteger(), nullable=False),
    sa.Column('claimed_by', sa.String(length=120), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('sent_at', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("state IN ('pending', 'sending', 'sent', 'failed')", name=op.f('ck_mail_outbox_state')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mail_outbox_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_outbox'))
    )
    op.create_index('ix_mail_outbox_state_next', 'mail_outbox', ['state', 'next_attempt_at'], unique=False)
    op.create_index(op.f('ix_mail_outbox_user_id'), 'mail_outbox', ['user_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=True),
    sa.Column('comment_id', sa.Integer(), nullable=True),
    sa.Column('payload_json', sa.Text(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('read_at', sa.BigInteger(), nullable=True),
    sa.Column('mail_state', sa.String(length=16), nullable=False),
    sa.Column('mail_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('closing', 'resolved', 'stale', 'reply')", name=op.f('ck_notifications_kind')),
    sa.CheckConstraint("mail_state IN ('pending', 'queued', 'none')", name=op.f('ck_notifications_mail_state')),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_notifications_comment_id_comments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['mail_id'], ['mail_outbox.id'], name=op.f('fk_notifications_mail_id_mail_outbox'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_notifications_question_id_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('key', name=op.f('uq_notifications_key'))
    )
    op.create_index('ix_notifications_user_read', 'notifications', ['user_id', 'read_at'], unique=False)
    op.create_index('ix_notifications_mail_state', 'notifications', ['mail_state', 'user_id'], unique=False)
    op.create_index(op.f('ix_notifications_question_id'), 'notifications', ['question_id'], unique=False)

    # What is already there: rationales as comments, forecasters as followers.
    op.execute("INSERT INTO comments (question_id, user_id, forecast_id, body, created_at) "
               "SELECT question_id, user_id, id, rationale, at FROM forecasts "
               "WHERE rationale IS NOT NULL ORDER BY id")
    op.execute("INSERT INTO follows (user_id, question_id, following, created_at) "
               "SELECT user_id, question_id, TRUE, MIN(at) FROM forecasts "
               "GROUP BY user_id, question_id")


def downgrade() -> None:
    op.drop_table('notifications')
    op.drop_table('mail_outbox')
    op.drop_table('follows')
    op.drop_table('comments')
    op.drop_column('resolutions', 'notified_at')
    op.drop_column('questions', 'hide_crowd_until_forecast')
    op.drop_index('uq_users_email_lower', table_name='users')
    for name in ('last_digest_at', *reversed([n for n, _ in USER_FLAGS]),
                 'email_verified_at', 'email'):
        op.drop_column('users', name)
