"""Console tables: users, the audit log (logins, feedback, user administration) and units'
整改反馈. Reviews themselves live in the `reviews` trail that `govcheck review` writes; the
console's 留痕 page reads both."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from govcheck.store.schema import Base

ROLES = ("staff", "assessor", "unit")
ROLE_ZH = {"staff": "监测人员", "assessor": "考核人员", "unit": "被考核单位"}


class UserRow(Base):
    __tablename__ = "console_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(10))              # staff | assessor | unit
    unit: Mapped[str | None] = mapped_column(String(200))      # the unit a `unit` user belongs to
    password_hash: Mapped[str] = mapped_column(String(200))    # argon2id, PHC string
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    password_changed_at: Mapped[dt.datetime] = mapped_column(DateTime)


class AuditRow(Base):
    """Append-only: the console has no route that updates or deletes a row of it."""

    __tablename__ = "console_audit"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    user: Mapped[str] = mapped_column(String(100), index=True)   # the name typed at a failed login
    action: Mapped[str] = mapped_column(String(30))             # login | login_failed | login_throttled | logout | feedback | user_add | user_passwd
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id"))
    unit: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    client: Mapped[str | None] = mapped_column(String(100))     # remote address of a console request


class FeedbackRow(Base):
    """A unit's 整改反馈 (已整改 with a note). Its outcome is not stored: it is read from the
    scans after it (pending until the next scan covers the unit; seen again → 整改未通过)."""

    __tablename__ = "console_feedback"
    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    by: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    after_scan_id: Mapped[int | None] = mapped_column(Integer)   # the newest completed scan when it was sent


class KeyRow(Base):
    """The console's cookie-signing key, made once per database so every server process and
    restart shares it (GOVCHECK_SECRET_KEY overrides)."""

    __tablename__ = "console_keys"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
