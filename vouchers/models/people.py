"""Users (applicants, evaluators, managers) and the organisations SMEs apply for."""

from __future__ import annotations

from datetime import date

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflows.lifecycle import ROLES

from .. import search
from ..extensions import db
from .base import money, str200, timestamp, utcnow

# A large enterprise may register; the calls' size rule (SMEs by default) decides.
COMPANY_SIZES = ("micro", "small", "medium", "large")
SECTORS = ("biotech", "medtech", "digital_health", "nutrition", "pharma", "diagnostics")


class Organisation(db.Model):
    """An undertaking: the SME an applicant applies for (also an evaluator's employer)."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    legal_name: Mapped[str200]
    registry_number: Mapped[str] = mapped_column(String(40), unique=True)
    country: Mapped[str] = mapped_column(String(2))
    region: Mapped[str200]
    size: Mapped[str] = mapped_column(String(10), default="small")
    sector: Mapped[str] = mapped_column(String(30), default="biotech")
    # Compact forms (vouchers/identifiers.py checks them); rows from before the checks
    # keep their value until next edited.
    vat_number: Mapped[str | None] = mapped_column(String(20))
    # Confirmed bank details; new ones after an award wait in BankDetailsChange.
    iban: Mapped[str | None] = mapped_column(String(34))
    bic: Mapped[str | None] = mapped_column(String(11))
    account_holder: Mapped[str | None] = mapped_column(String(200))
    # Bumped by every award, so two awards to one undertaking serialise on this row.
    award_lock: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)
    # Set when its personal data was erased (services/privacy.py): the figures stay.
    anonymised_at: Mapped[timestamp | None]
    # search.search_key(legal_name), indexed for the applications table's text search.
    search_name: Mapped[str] = mapped_column(
        Text, default=search.key_default("legal_name"), server_default="")

    members: Mapped[list[User]] = relationship(back_populates="organisation")
    aid_declarations: Mapped[list[AidDeclaration]] = relationship(
        back_populates="organisation", order_by="AidDeclaration.granted_on",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        CheckConstraint(f"size IN {COMPANY_SIZES!r}", name="size_known"),
        # The table's country filter reads the ids of a country's companies from here.
        Index("ix_organisations_country", "country", "id"),
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.legal_name}>"


search.keep_in_step(Organisation, "search_name", "legal_name")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str200]
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    # Part of the session: changing it (logout, password change, disabling) ends every
    # session of this user on the server side, which a signed cookie alone cannot do.
    session_generation: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)
    last_login_at: Mapped[timestamp | None]
    # None until the owner follows the link mailed at registration; an applicant applies
    # only with a verified address. Invited users verified theirs by accepting the link.
    email_verified_at: Mapped[timestamp | None]
    # The non-urgent messages (vouchers/mail_kinds.py) go out once a day in one digest.
    mail_digest: Mapped[bool] = mapped_column(default=False)
    # A manager or evaluator of a partner agency. A manager of a partner that is not the
    # lead sees the SMEs of its regions only (vouchers/policy_partners.py); none: the whole
    # programme, as a lead partner's manager.
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"), index=True)
    # The TOTP secret, encrypted with a key derived from SECRET_KEY (services/totp.py):
    # unlike a password it must be read back to check a code. None: no second factor.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[timestamp | None]
    # The last 30-second step a code was accepted for: a code is never accepted twice.
    totp_last_step: Mapped[int] = mapped_column(default=0)
    # Set when the account's personal data was erased (services/privacy.py).
    anonymised_at: Mapped[timestamp | None]
    # The language the user chose (vouchers/i18n.py); None: the browser's preference.
    language: Mapped[str | None] = mapped_column(String(5))

    organisation: Mapped[Organisation | None] = relationship(back_populates="members")

    __table_args__ = (
        CheckConstraint(f"role IN {ROLES!r}", name="role_known"),
        # Case-insensitive uniqueness of e-mail addresses.
        Index("uq_users_email_lower", func.lower(email), unique=True),
    )

    def get_id(self) -> str:
        return f"{self.id}:{self.session_generation}"

    @property
    def is_active(self) -> bool:  # Flask-Login: disabled accounts cannot log in
        return self.enabled

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class AidDeclaration(db.Model):
    """One de minimis aid the undertaking declares it received elsewhere, with its date.

    Aid granted more than the rolling three years before an award stops counting
    (services/budget.py decides the period).
    """

    __tablename__ = "aid_declarations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    granting_body: Mapped[str200]
    granted_on: Mapped[date]
    amount: Mapped[money]
    declared_at: Mapped[timestamp] = mapped_column(default=utcnow)
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    organisation: Mapped[Organisation] = relationship(back_populates="aid_declarations")

    __table_args__ = (CheckConstraint("amount > 0", name="aid_amount_positive"),)
