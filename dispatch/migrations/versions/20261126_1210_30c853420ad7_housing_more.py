"""housing_more: guarantors, references, exchanges and second-hand letting, issue 16

Revision ID: 30c853420ad7
Revises: 45f1775e6281
Create Date: 2026-11-26 12:10:00

The housing queue's named gaps: a guarantor (borgensman) on an applicant's case
(``housing_guarantors``), previous landlords' references (``housing_references``), tenants'
applications to exchange flats or let them second-hand (``housing_tenancy_applications``), and
the rent a vacancy file gives a listing (``housing_listings.rent_sek``).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '30c853420ad7'
down_revision = '45f1775e6281'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('housing_listings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rent_sek', sa.Numeric(precision=10, scale=2),
                                      nullable=True))

    op.create_table('housing_guarantors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('applicant_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('monthly_income', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('notice_given_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('credit_approved', sa.Boolean(), nullable=False),
    sa.Column('credit_checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['applicant_id'], ['housing_applicants.id'], name=op.f('fk_housing_guarantors_applicant_id_housing_applicants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_housing_guarantors_person_id_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_user_id'], ['users.id'], name=op.f('fk_housing_guarantors_staff_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_housing_guarantors'))
    )
    with op.batch_alter_table('housing_guarantors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_housing_guarantors_applicant_id'), ['applicant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_housing_guarantors_person_id'), ['person_id'], unique=False)

    op.create_table('housing_references',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('applicant_id', sa.Integer(), nullable=False),
    sa.Column('landlord_name', sa.String(length=200), nullable=False),
    sa.Column('contact', sa.String(length=200), nullable=False),
    sa.Column('answer', sa.String(length=10), nullable=False),
    sa.Column('remarks', sa.Text(), nullable=True),
    sa.Column('given_on', sa.Date(), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['applicant_id'], ['housing_applicants.id'], name=op.f('fk_housing_references_applicant_id_housing_applicants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_user_id'], ['users.id'], name=op.f('fk_housing_references_staff_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_housing_references'))
    )
    with op.batch_alter_table('housing_references', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_housing_references_applicant_id'), ['applicant_id'], unique=False)

    op.create_table('housing_tenancy_applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('landlord_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('counterpart_person_id', sa.Integer(), nullable=True),
    sa.Column('counterpart_address', sa.String(length=300), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('reason', sa.String(length=20), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('decided_by_user_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('credit_approved', sa.Boolean(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_housing_tenancy_applications_agreement_id_agreements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['counterpart_person_id'], ['people.id'], name=op.f('fk_housing_tenancy_applications_counterpart_person_id_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_user_id'], ['users.id'], name=op.f('fk_housing_tenancy_applications_decided_by_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['landlord_id'], ['landlords.id'], name=op.f('fk_housing_tenancy_applications_landlord_id_landlords'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_housing_tenancy_applications_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_housing_tenancy_applications'))
    )
    with op.batch_alter_table('housing_tenancy_applications', schema=None) as batch_op:
        batch_op.create_index('ix_housing_tenancy_applications_landlord_status', ['landlord_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_housing_tenancy_applications_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_housing_tenancy_applications_agreement_id'), ['agreement_id'], unique=False)


def downgrade():
    with op.batch_alter_table('housing_tenancy_applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_housing_tenancy_applications_agreement_id'))
        batch_op.drop_index(batch_op.f('ix_housing_tenancy_applications_person_id'))
        batch_op.drop_index('ix_housing_tenancy_applications_landlord_status')
    op.drop_table('housing_tenancy_applications')
    with op.batch_alter_table('housing_references', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_housing_references_applicant_id'))
    op.drop_table('housing_references')
    with op.batch_alter_table('housing_guarantors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_housing_guarantors_person_id'))
        batch_op.drop_index(batch_op.f('ix_housing_guarantors_applicant_id'))
    op.drop_table('housing_guarantors')
    with op.batch_alter_table('housing_listings', schema=None) as batch_op:
        batch_op.drop_column('rent_sek')
