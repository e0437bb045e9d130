"""The tables of access and accountability: roles handed out for a while, operations waiting
for a confirmation, the keys member data was sealed with, and the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from storage.encryption import SecretText
from storage.types import utc_field


class PendingOperation(SQLModel, table=True):
    """A sensitive operation asked for and waiting for its confirmation (/approve)."""

    __tablename__ = "pending_operations"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)  # points_grant
    group_id: str = Field(max_length=128)
    payload: str = Field(sa_type=SecretText("pending_operations.payload"))  # JSON: what to do
    requested_by: str = Field(max_length=128)
    at: datetime = utc_field()  # type: ignore[assignment]
    expires_at: datetime = utc_field()  # type: ignore[assignment]
    done_by: str | None = Field(default=None, max_length=128)
    done_at: datetime | None = utc_field(nullable=True)  # type: ignore[assignment]


class RoleGrant(SQLModel, table=True):
    """A role handed out for a while (/role, qunbot role grant), beside config.yaml's roles."""

    __tablename__ = "role_grants"

    id: int | None = Field(default=None, primary_key=True)
    member_id: str = Field(max_length=128)
    group_id: str | None = Field(default=None, max_length=128)  # None: every group
    role: str = Field(max_length=16)
    granted_by: str = Field(max_length=128)
    at: datetime = utc_field()  # type: ignore[assignment]
    until: datetime = utc_field()  # type: ignore[assignment]
    revoked_at: datetime | None = utc_field(nullable=True)  # type: ignore[assignment]
    revoked_by: str | None = Field(default=None, max_length=128)
    expiry_audited: bool = False  # its expiry is in the audit log


class DataKey(SQLModel, table=True):
    """A key that sealed data here (by id, never the key): the start-up check and rotation."""

    __tablename__ = "data_keys"

    key_id: str = Field(primary_key=True, max_length=16)
    first_used_at: datetime = utc_field()  # type: ignore[assignment]
    retired_at: datetime | None = utc_field(nullable=True)  # type: ignore[assignment]


class AuditEntry(SQLModel, table=True):
    """Who did what, when and where: every admin action, refusals included."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_field()  # type: ignore[assignment]
    actor: str = Field(max_length=128)
    role: str = Field(max_length=16)
    action: str = Field(max_length=64)
    group_id: str | None = Field(default=None, max_length=128)
    detail: str = Field(default="", sa_type=SecretText("audit_log.detail"))
    outcome: str = Field(max_length=16)
