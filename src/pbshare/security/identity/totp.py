"""Second factor: TOTP (RFC 6238, any authenticator app) with QR enrolment and one-use recovery codes.

The secret is stored sealed (``security.pii``); a code is accepted once (the time step is remembered)
and within one step of the server clock. Recovery codes are 10 random groups, stored as SM3 hashes.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from datetime import timedelta
from pathlib import Path

import pyotp
import qrcode
import qrcode.image.svg
from sqlalchemy import select
from sqlalchemy.orm import Session

from pbshare.core.clock import as_utc, utcnow
from pbshare.core.errors import Conflict, Invalid
from pbshare.core.i18n import T
from pbshare.security.crypto import algorithms as crypto
from pbshare.security.crypto.pii import vault_for
from pbshare.security.identity.models import TotpRecoveryCode, User, UserTotp
from pbshare.security.identity.policy import SecurityPolicy

ISSUER = "pbshare"
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i to misread


def _hash_code(code: str) -> str:
    return crypto.sm3_hex(code.strip().lower().replace("-", "").replace(" ", "").encode())


def qr_data_url(text: str) -> str:
    svg = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2).to_string(encoding="unicode")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def get(db: Session, *, user_id: str) -> UserTotp | None:
    return db.get(UserTotp, user_id)


def is_enrolled(db: Session, *, user_id: str) -> bool:
    row = db.get(UserTotp, user_id)
    return bool(row and row.confirmed_at)


def is_required(policy: SecurityPolicy, user: User) -> bool:
    return policy.totp_required_for_all or bool(user.role_names & set(policy.totp_required_roles))


def enrolment_overdue(db: Session, *, policy: SecurityPolicy, user: User) -> bool:
    """Required, not enrolled, and the grace period since the account was created has passed."""
    if not is_required(policy, user) or is_enrolled(db, user_id=user.id):
        return False
    return as_utc(user.created_at) + timedelta(days=policy.totp_grace_days) <= utcnow()


def start_enrolment(db: Session, *, user: User, data_dir: Path) -> dict:
    """A new secret, not active until ``confirm`` gets a code from the app."""
    row = db.get(UserTotp, user.id)
    if row and row.confirmed_at:
        raise Conflict(T("已启用双因素认证；如需更换设备，请先停用再重新绑定",
                         "Two-factor authentication is already on; turn it off first to move to a new device"),
                       code="totp_already_enrolled")
    secret = pyotp.random_base32()
    if row is None:
        row = UserTotp(user_id=user.id, secret_sealed="", last_step=0)
        db.add(row)
    row.secret_sealed = vault_for(data_dir).seal(secret) or ""
    row.confirmed_at = None
    row.created_at = utcnow()
    db.flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    return {"secret": secret, "otpauth_uri": uri, "qr_data_url": qr_data_url(uri)}


def _match_step(secret: str, code: str) -> int | None:
    """The time step whose code matches (current, previous or next), or None."""
    totp = pyotp.TOTP(secret)
    now = utcnow()
    for offset in (0, -1, 1):
        moment = now + timedelta(seconds=offset * totp.interval)
        if hmac.compare_digest(totp.at(moment).encode(), code.encode()):  # str compare refuses non-ASCII
            return totp.timecode(moment)
    return None


def _new_recovery_codes(db: Session, *, user_id: str) -> list[str]:
    for old in db.scalars(select(TotpRecoveryCode).where(TotpRecoveryCode.user_id == user_id)):
        db.delete(old)
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        code = f"{raw[:5]}-{raw[5:]}"
        codes.append(code)
        db.add(TotpRecoveryCode(user_id=user_id, code_hash=_hash_code(code)))
    db.flush()
    return codes


def confirm(db: Session, *, user: User, code: str, data_dir: Path) -> list[str]:
    """Turn TOTP on after the first good code; returns the recovery codes (shown once)."""
    row = db.get(UserTotp, user.id)
    if row is None or row.confirmed_at:
        raise Invalid(T("请先开始绑定", "Start the enrolment first"), code="totp_not_started")
    secret = vault_for(data_dir).open(row.secret_sealed) or ""
    step = _match_step(secret, code.strip())
    if step is None:
        raise Invalid(T("验证码不正确：请检查手机时间是否准确，并输入应用中当前显示的 6 位数字",
                        "The code is wrong: check the phone's clock and enter the 6 digits the app shows now"),
                      code="totp_invalid")
    row.confirmed_at = utcnow()
    row.last_step = step
    db.flush()
    return _new_recovery_codes(db, user_id=user.id)


def verify(db: Session, *, user: User, code: str, data_dir: Path) -> str | None:
    """Check a login code: a TOTP code not used before, or an unused recovery code.

    Returns ``"totp"`` or ``"recovery"`` on success, None otherwise.
    """
    row = db.get(UserTotp, user.id)
    if row is None or not row.confirmed_at:
        return None
    code = (code or "").strip()
    if code.isdigit() and len(code) == 6:
        step = _match_step(vault_for(data_dir).open(row.secret_sealed) or "", code)
        if step is not None and step > row.last_step:
            row.last_step = step
            db.flush()
            return "totp"
        return None
    digest = _hash_code(code)
    for rec in db.scalars(select(TotpRecoveryCode).where(TotpRecoveryCode.user_id == user.id,
                                                         TotpRecoveryCode.used_at.is_(None))):
        if hmac.compare_digest(rec.code_hash, digest):
            rec.used_at = utcnow()
            db.flush()
            return "recovery"
    return None


def regenerate_recovery_codes(db: Session, *, user: User) -> list[str]:
    if not is_enrolled(db, user_id=user.id):
        raise Invalid(T("尚未启用双因素认证", "Two-factor authentication is not on"), code="totp_not_enrolled")
    return _new_recovery_codes(db, user_id=user.id)


def recovery_codes_left(db: Session, *, user_id: str) -> int:
    return len(list(db.scalars(select(TotpRecoveryCode.id).where(TotpRecoveryCode.user_id == user_id,
                                                                 TotpRecoveryCode.used_at.is_(None)))))


def disable(db: Session, *, user_id: str) -> bool:
    row = db.get(UserTotp, user_id)
    for rec in db.scalars(select(TotpRecoveryCode).where(TotpRecoveryCode.user_id == user_id)):
        db.delete(rec)
    if row is None:
        return False
    db.delete(row)
    db.flush()
    return True
