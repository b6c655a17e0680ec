"""Initial schema: households, signals, scores, review queue, decisions, objections, model versions, switches and
the hash-chained audit log with its chain head (seeded with the genesis hash).

Revision ID: 0001
Revises:
Create Date: 2026-11-25

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0001'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('anchor_seq', sa.Integer(), nullable=False),
    sa.Column('anchor_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    op.create_table('audit_log',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('municipality_code', sa.String(length=6), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_id', sa.String(length=128), nullable=True),
    sa.Column('model_version', sa.String(length=128), nullable=True),
    sa.Column('input_hash', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_created_at'), ['created_at'], unique=False)

    op.create_table('households',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_code', sa.String(length=6), nullable=False),
    sa.Column('household_pseudonym', sa.String(length=128), nullable=False),
    sa.Column('team', sa.String(length=64), nullable=False),
    sa.Column('household_type', sa.String(length=32), nullable=False),
    sa.Column('benefit_type', sa.String(length=32), nullable=False),
    sa.Column('municipal_tax_arrears_eur', sa.Float(), nullable=False),
    sa.Column('municipal_tax_remission', sa.Boolean(), nullable=False),
    sa.Column('prior_debt_assistance', sa.Boolean(), nullable=False),
    sa.Column('recent_move', sa.Boolean(), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_households')),
    sa.UniqueConstraint('municipality_code', 'household_pseudonym', name=op.f('uq_households_municipality_code_household_pseudonym'))
    )
    op.create_table('model_versions',
    sa.Column('version', sa.String(length=128), nullable=False),
    sa.Column('model_name', sa.String(length=128), nullable=False),
    sa.Column('source_uri', sa.String(length=1024), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('card_json', sa.JSON(), nullable=True),
    sa.Column('card_html', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_model_versions'))
    )
    op.create_table('objections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_code', sa.String(length=6), nullable=False),
    sa.Column('household_pseudonym', sa.String(length=128), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('registered_by', sa.String(length=128), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by', sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objections'))
    )
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.create_index('uq_objections_active_household', ['municipality_code', 'household_pseudonym'], unique=True, sqlite_where=sa.text('withdrawn_at IS NULL'), postgresql_where=sa.text('withdrawn_at IS NULL'))

    op.create_table('score_submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_code', sa.String(length=6), nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_submissions')),
    sa.UniqueConstraint('municipality_code', 'idempotency_key', name=op.f('uq_score_submissions_municipality_code_idempotency_key'))
    )
    with op.batch_alter_table('score_submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_submissions_created_at'), ['created_at'], unique=False)

    op.create_table('service_switches',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('changed_by', sa.String(length=128), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_service_switches'))
    )
    op.create_table('model_status_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=128), nullable=False),
    sa.Column('from_status', sa.String(length=32), nullable=True),
    sa.Column('to_status', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['version'], ['model_versions.version'], name=op.f('fk_model_status_events_version_model_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_model_status_events'))
    )
    with op.batch_alter_table('model_status_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_model_status_events_version'), ['version'], unique=False)

    op.create_table('scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('model_version', sa.String(length=128), nullable=False),
    sa.Column('reference_date', sa.Date(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('band', sa.String(length=32), nullable=False),
    sa.Column('intensity', sa.String(length=32), nullable=False),
    sa.Column('uncertain', sa.Boolean(), nullable=False),
    sa.Column('out_of_distribution', sa.JSON(), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_scores_household_id_households'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scores'))
    )
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scores_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scores_scored_at'), ['scored_at'], unique=False)

    op.create_table('signals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('municipality_code', sa.String(length=6), nullable=False),
    sa.Column('signal_ref', sa.String(length=128), nullable=False),
    sa.Column('partner_type', sa.String(length=32), nullable=False),
    sa.Column('amount_eur', sa.Float(), nullable=False),
    sa.Column('arrears_start_date', sa.Date(), nullable=False),
    sa.Column('signal_date', sa.Date(), nullable=False),
    sa.Column('crisis', sa.Boolean(), nullable=False),
    sa.Column('warm_handover', sa.Boolean(), nullable=False),
    sa.Column('end_of_supply', sa.Boolean(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_signals_household_id_households'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signals')),
    sa.UniqueConstraint('municipality_code', 'signal_ref', name=op.f('uq_signals_municipality_code_signal_ref'))
    )
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signals_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_signals_received_at'), ['received_at'], unique=False)

    op.create_table('review_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('municipality_code', sa.String(length=6), nullable=False),
    sa.Column('team', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('approach', sa.String(length=32), nullable=False),
    sa.Column('standard_reason', sa.String(length=32), nullable=True),
    sa.Column('score_id', sa.Integer(), nullable=True),
    sa.Column('control_sample', sa.Boolean(), nullable=False),
    sa.Column('crisis', sa.Boolean(), nullable=False),
    sa.Column('end_of_supply', sa.Boolean(), nullable=False),
    sa.Column('suggested_intensity', sa.String(length=32), nullable=False),
    sa.Column('total_arrears_eur', sa.Float(), nullable=False),
    sa.Column('first_signal_date', sa.Date(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('held_until', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_review_items_household_id_households'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['score_id'], ['scores.id'], name=op.f('fk_review_items_score_id_scores'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_items'))
    )
    with op.batch_alter_table('review_items', schema=None) as batch_op:
        batch_op.create_index('ix_review_items_queue', ['municipality_code', 'team', 'status'], unique=False)
        batch_op.create_index('uq_review_items_open_household', ['household_id'], unique=True, sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))

    op.create_table('decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_item_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('municipality_code', sa.String(length=6), nullable=False),
    sa.Column('team', sa.String(length=64), nullable=False),
    sa.Column('decided_by', sa.String(length=128), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end_result', sa.String(length=32), nullable=False),
    sa.Column('suggested_intensity', sa.String(length=32), nullable=False),
    sa.Column('chosen_intensity', sa.String(length=32), nullable=False),
    sa.Column('rank_at_decision', sa.Integer(), nullable=True),
    sa.Column('departed_intensity', sa.Boolean(), nullable=False),
    sa.Column('departed_order', sa.Boolean(), nullable=False),
    sa.Column('departure_reason', sa.Text(), nullable=True),
    sa.Column('control_sample', sa.Boolean(), nullable=False),
    sa.Column('approach', sa.String(length=32), nullable=False),
    sa.Column('model_version', sa.String(length=128), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('band', sa.String(length=32), nullable=True),
    sa.Column('reference_date', sa.Date(), nullable=False),
    sa.Column('total_arrears_eur', sa.Float(), nullable=False),
    sa.Column('last_contact_on', sa.Date(), nullable=True),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_decisions_household_id_households'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['review_item_id'], ['review_items.id'], name=op.f('fk_decisions_review_item_id_review_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions')),
    sa.UniqueConstraint('review_item_id', name=op.f('uq_decisions_review_item_id'))
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decisions_decided_at'), ['decided_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_decisions_household_id'), ['household_id'], unique=False)

    op.create_table('contact_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('reached', sa.Boolean(), nullable=False),
    sa.Column('attempted_on', sa.Date(), nullable=False),
    sa.Column('part_of_day', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], name=op.f('fk_contact_attempts_decision_id_decisions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_attempts'))
    )
    with op.batch_alter_table('contact_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_attempts_decision_id'), ['decision_id'], unique=False)
    # The single row every audit append locks; values are frozen here (a migration must not import app code).
    genesis = "0" * 64
    chain_head = sa.table(
        "audit_chain_head",
        sa.column("id", sa.Integer),
        sa.column("last_seq", sa.Integer),
        sa.column("last_hash", sa.String),
        sa.column("anchor_seq", sa.Integer),
        sa.column("anchor_hash", sa.String),
    )
    op.bulk_insert(
        chain_head, [{"id": 1, "last_seq": 0, "last_hash": genesis, "anchor_seq": 0, "anchor_hash": genesis}]
    )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('contact_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_attempts_decision_id'))

    op.drop_table('contact_attempts')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decisions_household_id'))
        batch_op.drop_index(batch_op.f('ix_decisions_decided_at'))

    op.drop_table('decisions')
    with op.batch_alter_table('review_items', schema=None) as batch_op:
        batch_op.drop_index('uq_review_items_open_household', sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
        batch_op.drop_index('ix_review_items_queue')

    op.drop_table('review_items')
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signals_received_at'))
        batch_op.drop_index(batch_op.f('ix_signals_household_id'))

    op.drop_table('signals')
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scores_scored_at'))
        batch_op.drop_index(batch_op.f('ix_scores_household_id'))

    op.drop_table('scores')
    with op.batch_alter_table('model_status_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_model_status_events_version'))

    op.drop_table('model_status_events')
    op.drop_table('service_switches')
    with op.batch_alter_table('score_submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_score_submissions_created_at'))

    op.drop_table('score_submissions')
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.drop_index('uq_objections_active_household', sqlite_where=sa.text('withdrawn_at IS NULL'), postgresql_where=sa.text('withdrawn_at IS NULL'))

    op.drop_table('objections')
    op.drop_table('model_versions')
    op.drop_table('households')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_created_at'))

    op.drop_table('audit_log')
    op.drop_table('audit_chain_head')
