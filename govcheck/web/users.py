"""Console users: argon2id password hashes, the login check with its throttle, and the audit
entries those write. The CLI (`govcheck user …`) and the console share these functions."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govcheck import clock
from govcheck.store.schema import AuditRow, ConsoleKeyRow, UnitRow, UserRow

ROLES = ("staff", "assessor", "unit")
ROLE_ZH = {"staff": "监测人员", "assessor": "考核人员", "unit": "被考核单位"}
HASHER = PasswordHasher()
# Throttle: after this many failed logins for one name (or from one address) inside the
# window, logins are refused — even with the right password — until the window has passed.
MAX_FAILURES_PER_NAME = 5
MAX_FAILURES_PER_CLIENT = 20
THROTTLE_WINDOW = dt.timedelta(minutes=15)
MIN_PASSWORD = 8


class UserError(ValueError):
    """Bad input for a user command (exit 2 on the command line, a message in the console)."""


def now() -> dt.datetime:
    return clock.now().replace(microsecond=0)


def audit(session: Session, user: str, action: str, *, finding_id: int | None = None, unit: str | None = None,
          note: str | None = None, client: str | None = None) -> None:
    session.add(AuditRow(at=now(), user=user, action=action, finding_id=finding_id, unit=unit, note=note, client=client))


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password: at least {MIN_PASSWORD} characters")


def add_user(session: Session, name: str, role: str, unit: str | None, password: str, by: str = "cli") -> UserRow:
    name = (name or "").strip()
    if not name:
        raise UserError("NAME: empty user name")
    if role not in ROLES:
        raise UserError(f"--role {role!r}: one of {', '.join(ROLES)}")
    if role == "unit" and not unit:
        raise UserError("--role unit needs --unit 单位名 (the unit whose findings this user sees)")
    if role != "unit" and unit:
        raise UserError(f"--unit is only for --role unit (a {role} user sees every unit)")
    if unit:
        known = list(session.scalars(select(UnitRow.name).order_by(UnitRow.name)))
        if known and unit not in known:
            raise UserError(f"--unit {unit!r}: no such unit in the database ({'、'.join(known)})")
    if session.scalar(select(UserRow).where(UserRow.name == name)) is not None:
        raise UserError(f"NAME {name!r}: a user of that name exists (use `govcheck user passwd`)")
    _check_password(password)
    at = now()
    row = UserRow(name=name, role=role, unit=unit, password_hash=HASHER.hash(password), created_at=at,
                  password_changed_at=at)
    session.add(row)
    audit(session, by, "user_add", unit=unit, note=f"{name} ({role})")
    return row


def set_password(session: Session, name: str, password: str, by: str = "cli") -> UserRow:
    row = session.scalar(select(UserRow).where(UserRow.name == name))
    if row is None:
        raise UserError(f"NAME {name!r}: no such user")
    _check_password(password)
    row.password_hash, row.password_changed_at = HASHER.hash(password), now()
    audit(session, by, "user_passwd", unit=row.unit, note=name)
    return row


def list_users(session: Session) -> list[UserRow]:
    return list(session.scalars(select(UserRow).order_by(UserRow.role, UserRow.name)))


def session_stamp(user: UserRow) -> str:
    """Part of the session cookie: a password change ends every session opened before it."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def throttled(session: Session, name: str, client: str | None) -> bool:
    since = now() - THROTTLE_WINDOW
    last_ok = session.scalar(select(func.max(AuditRow.at)).where(AuditRow.user == name, AuditRow.action == "login"))
    start = max(since, last_ok) if last_ok else since
    by_name = session.scalar(select(func.count()).select_from(AuditRow).where(
        AuditRow.user == name, AuditRow.action == "login_failed", AuditRow.at >= start))
    if by_name >= MAX_FAILURES_PER_NAME:
        return True
    if client:
        by_client = session.scalar(select(func.count()).select_from(AuditRow).where(
            AuditRow.client == client, AuditRow.action == "login_failed", AuditRow.at >= since))
        return by_client >= MAX_FAILURES_PER_CLIENT
    return False


def authenticate(session: Session, name: str, password: str, client: str | None) -> tuple[UserRow | None, str | None]:
    """(user, None) on success, (None, 中文 reason) otherwise; every attempt is audited."""
    name = (name or "").strip()[:100]
    if throttled(session, name, client):
        audit(session, name, "login_throttled", client=client)
        return None, f"登录失败次数过多，请 {int(THROTTLE_WINDOW.total_seconds() // 60)} 分钟后再试"
    row = session.scalar(select(UserRow).where(UserRow.name == name))
    try:
        ok = row is not None and HASHER.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        ok = False
    if row is None:
        # Same work as a real check, so a missing name does not answer faster.
        try:
            HASHER.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
    if not ok:
        audit(session, name, "login_failed", client=client)
        return None, "用户名或密码错误"
    if HASHER.check_needs_rehash(row.password_hash):
        row.password_hash = HASHER.hash(password)
    audit(session, row.name, "login", unit=row.unit, client=client)
    return row, None


_DUMMY_HASH = HASHER.hash(secrets.token_hex(8))


def signing_key(session: Session) -> str:
    row = session.get(ConsoleKeyRow, "session")
    if row is None:
        row = ConsoleKeyRow(name="session", value=secrets.token_urlsafe(48))
        session.add(row)
        session.flush()
    return row.value
