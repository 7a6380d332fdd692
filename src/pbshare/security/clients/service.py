"""API clients: units' systems calling the platform with signed requests.

Each request carries these headers (the REST channel and units' systems build them with
``sign_request``):

  ``X-PB-Client``     the client's id
  ``X-PB-Key``        the key's id (two keys are valid while a rotation overlaps)
  ``X-PB-Alg``        ``HMAC-SM3`` (shared secret) or ``SM2-SM3`` (registered public key)
  ``X-PB-Timestamp``  unix seconds; refused outside ±5 minutes
  ``X-PB-Nonce``      16-64 random characters; a reused nonce is refused
  ``X-PB-Signature``  hex

The string to sign is ``METHOD\\npath-with-query\\ntimestamp\\nnonce\\nsm3_hex(body)``, the path
exactly as sent on the wire (percent-encoded, with the query string).
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import time
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pbshare.core.clock import as_utc, utcnow
from pbshare.core.errors import Forbidden, Invalid, NotFound, TooManyRequests, Unauthorized
from pbshare.core.i18n import T
from pbshare.core.lookup import get_or_raise, one_or_raise
from pbshare.security.audit import service as audit
from pbshare.security.clients.models import ApiClient, ApiClientKey, ApiNonce
from pbshare.security.crypto import algorithms as crypto
from pbshare.security.crypto.pii import vault_for
from pbshare.security.enums import Role
from pbshare.security.permissions import permissions_for
from pbshare.units import service as unit_service
from pbshare.units.principal import Principal

WINDOW_SECONDS = 300
ALGS = (crypto.HMAC_SM3, crypto.SM2_SM3)
H_CLIENT, H_KEY, H_ALG = "X-PB-Client", "X-PB-Key", "X-PB-Alg"
H_TIMESTAMP, H_NONCE, H_SIGNATURE = "X-PB-Timestamp", "X-PB-Nonce", "X-PB-Signature"
SIGNED_HEADERS = (H_CLIENT, H_KEY, H_ALG, H_TIMESTAMP, H_NONCE, H_SIGNATURE)
_NONCE_RE = re.compile(r"^[A-Za-z0-9_\-.~]{16,64}$")
DEFAULT_OVERLAP_HOURS = 24


# the client side --------------------------------------------------------------------------------
def string_to_sign(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    return "\n".join([method.upper(), path, timestamp, nonce, crypto.sm3_hex(body or b"")]).encode("utf-8")


def sign_request(
    method: str,
    path: str,
    body: bytes,
    *,
    client_id: str,
    key_id: str,
    alg: str,
    secret: bytes | None = None,
    private_key_hex: str | None = None,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The six ``X-PB-*`` headers for one request. ``path`` is the path with its query string, as sent."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(16)
    data = string_to_sign(method, path, ts, nonce, body)
    if alg == crypto.HMAC_SM3:
        if secret is None:
            raise ValueError("HMAC-SM3 needs the shared secret")
        signature = crypto.hmac_sm3(secret, data).hex()
    elif alg == crypto.SM2_SM3:
        if private_key_hex is None:
            raise ValueError("SM2-SM3 needs the private key")
        signature = crypto.sign(crypto.SM2_SM3, private_key_hex, data).hex()
    else:
        raise ValueError(f"unknown algorithm {alg}")
    return {H_CLIENT: client_id, H_KEY: key_id, H_ALG: alg, H_TIMESTAMP: ts, H_NONCE: nonce, H_SIGNATURE: signature}


# managing clients ----------------------------------------------------------------------------------
def normalise_public_key(public_key_hex: str | None) -> str:
    """An SM2 public key as stored: 128 hex x||y (a 04 prefix is dropped); a clear error otherwise."""
    try:
        return crypto.sm2_public_raw(public_key_hex or "")
    except crypto.CryptoError:
        raise Invalid(T("SM2 公钥应为 SM2 曲线上的点，写作 128 位十六进制（x||y，可带 04 前缀）；请核对是否完整复制",
                        "The SM2 public key must be a point on the SM2 curve written as 128 hex digits (x||y, "
                        "optionally prefixed by 04); check that it was copied whole"),
                      code="bad_public_key") from None


def _check_allowlist(entries: list[str] | None) -> list[str]:
    out = []
    for entry in entries or []:
        try:
            out.append(str(ipaddress.ip_network(entry.strip(), strict=False)))
        except ValueError:
            raise Invalid(T("IP 白名单中的 {e} 不是有效的地址或网段", "{e} in the IP allowlist is not an address or "
                            "CIDR block", e=entry), code="bad_ip_allowlist") from None
    return out


def _new_key(db: Session, *, client: ApiClient, alg: str, data_dir: Path,
             public_key_hex: str | None) -> tuple[ApiClientKey, str | None]:
    if alg not in ALGS:
        raise Invalid(T("签名算法须为 HMAC-SM3 或 SM2-SM3", "The algorithm must be HMAC-SM3 or SM2-SM3"),
                      code="unknown_algorithm")
    secret_hex = None
    key = ApiClientKey(client_id=client.id, alg=alg)
    if alg == crypto.HMAC_SM3:
        secret_hex = secrets.token_hex(32)
        key.secret_sealed = vault_for(data_dir).seal(secret_hex)
    else:
        key.public_key_hex = normalise_public_key(public_key_hex)
    client.keys.append(key)
    db.flush()
    return key, secret_hex


def create_client(
    db: Session, *, unit_code: str, name: str, alg: str, data_dir: Path, public_key_hex: str | None = None,
    ip_allowlist: list[str] | None = None, rate_limit_per_minute: int = 600,
) -> tuple[ApiClient, ApiClientKey, str | None]:
    """Register a unit's system. Returns the client, its first key and (HMAC only) the secret in hex, shown once."""
    unit = unit_service.get_unit_by_code(db, code=unit_code)
    client = ApiClient(unit_id=unit.id, name=name, ip_allowlist=_check_allowlist(ip_allowlist),
                       rate_limit_per_minute=rate_limit_per_minute, keys=[])
    db.add(client)
    db.flush()
    key, secret_hex = _new_key(db, client=client, alg=alg, data_dir=data_dir, public_key_hex=public_key_hex)
    return client, key, secret_hex


_NO_CLIENT = T("API 客户端不存在", "The API client does not exist")


def get_client(db: Session, *, client_id: str) -> ApiClient:
    return get_or_raise(db, ApiClient, client_id, _NO_CLIENT)


def visible_client(db: Session, *, client_id: str, principal: Principal) -> ApiClient:
    """The client if ``principal`` may see its unit; another unit's client answers 404, as if it did not exist."""
    client = db.get(ApiClient, client_id)
    if client is None or not principal.can_see_unit(client.unit_id):
        raise NotFound(_NO_CLIENT)
    return client


def list_clients(db: Session, *, unit_id: str | None = None) -> list[ApiClient]:
    stmt = select(ApiClient).order_by(ApiClient.created_at)
    if unit_id:
        stmt = stmt.where(ApiClient.unit_id == unit_id)
    return list(db.scalars(stmt))


def update_client(db: Session, *, client_id: str, name: str | None = None, ip_allowlist: list[str] | None = None,
                  rate_limit_per_minute: int | None = None, is_active: bool | None = None) -> ApiClient:
    client = get_client(db, client_id=client_id)
    if name is not None:
        client.name = name
    if ip_allowlist is not None:
        client.ip_allowlist = _check_allowlist(ip_allowlist)
    if rate_limit_per_minute is not None:
        client.rate_limit_per_minute = rate_limit_per_minute
    if is_active is not None:
        client.is_active = is_active
    db.flush()
    return client


def rotate_key(db: Session, *, client_id: str, data_dir: Path, alg: str | None = None,
               public_key_hex: str | None = None,
               overlap_hours: int = DEFAULT_OVERLAP_HOURS) -> tuple[ApiClientKey, str | None]:
    """A new key; the keys valid now stay valid for ``overlap_hours`` so callers switch without downtime."""
    client = get_client(db, client_id=client_id)
    now = utcnow()
    until = now + timedelta(hours=overlap_hours)
    for key in client.keys:
        if key.revoked_at is None and (key.expires_at is None or as_utc(key.expires_at) > until):
            key.expires_at = until
    current = next((k for k in reversed(client.keys) if k.revoked_at is None), None)
    return _new_key(db, client=client, alg=alg or (current.alg if current else crypto.HMAC_SM3),
                    data_dir=data_dir, public_key_hex=public_key_hex)


def revoke_key(db: Session, *, client_id: str, key_id: str) -> ApiClientKey:
    key = one_or_raise(db, select(ApiClientKey).where(ApiClientKey.id == key_id, ApiClientKey.client_id == client_id),
                       T("密钥不存在", "The key does not exist"))
    key.revoked_at = key.revoked_at or utcnow()
    db.flush()
    return key


def revoke_client(db: Session, *, client_id: str) -> ApiClient:
    """Leaving the sharing: the client stops working at once, its history stays."""
    client = get_client(db, client_id=client_id)
    client.is_active = False
    now = utcnow()
    for key in client.keys:
        key.revoked_at = key.revoked_at or now
    db.flush()
    return client


def key_is_valid(key: ApiClientKey) -> bool:
    now = utcnow()
    return key.revoked_at is None and (key.expires_at is None or as_utc(key.expires_at) > now)


# the server side -------------------------------------------------------------------------------------
_BAD_SIGNATURE = T("请求签名无效", "The request signature is not valid")


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    return (value or "").strip()


def _refuse(db: Session, exc: Exception, *, client_id: str | None, ip: str | None, reason: str) -> None:
    """Keep an audit record of the refusal even though the request fails. A client id that names no
    client is the caller's invention: left out, so random ids cannot split a flood into many records."""
    if client_id and db.get(ApiClient, client_id[:36]) is None:
        client_id = None
    audit.record_refusal(db, action="api.signature", actor_name=f"client:{(client_id or '?')[:40]}",
                         ip=ip, object_type="api_client", object_id=(client_id or None) and client_id[:36],
                         detail={"reason": reason})
    db.commit()
    raise exc


def _signed_by(key: ApiClientKey, data: bytes, signature: str, data_dir: Path) -> bool:
    try:
        given = bytes.fromhex(signature)
    except ValueError:
        given = b""
    if key.alg == crypto.HMAC_SM3:
        secret = bytes.fromhex(vault_for(data_dir).open(key.secret_sealed) or "")
        return bool(secret) and crypto.mac_verify(crypto.HMAC_SM3, secret, data, given)
    return bool(given) and crypto.verify(crypto.SM2_SM3, key.public_key_hex or "", data, given)


def _refuse_closed(db: Session, client: ApiClient, key: ApiClientKey, *, method: str, path: str, ts: str, nonce: str,
                   signature: str, body: bytes, ip: str | None, data_dir: Path) -> None:
    """A disabled client or a revoked key. When the request really is signed by that key and the client's unit
    has left the sharing, say so (since when, whom to contact): the unit's engineers need to know why their
    system stopped working. Anything else stays the bare ``signature_invalid`` (nothing learnt by guessing)."""
    unit = unit_service.get_unit(db, unit_id=client.unit_id)
    notice = unit_service.left_notice(db, unit=unit)
    if notice is not None and _signed_by(key, string_to_sign(method, path, ts, nonce, body), signature, data_dir):
        _refuse(db, Forbidden(notice, code="unit_left"), client_id=client.id, ip=ip, reason="unit left the sharing")
    _refuse(db, Unauthorized(_BAD_SIGNATURE, code="signature_invalid"), client_id=client.id, ip=ip,
            reason="unknown, revoked or expired client or key")


def verify_request(
    db: Session, *, method: str, path: str, headers: Mapping[str, str], body: bytes, ip: str | None,
    data_dir: Path,
) -> Principal:
    """Check a signed request and return the client's principal (role ``api_client``, its unit, ``via="signature"``).

    Refused: unknown or revoked client or key, a timestamp outside ±5 minutes, a reused nonce, a
    bad signature, an address outside the allowlist, more requests in a minute than the client's limit.
    """
    client_id, key_id, alg = _header(headers, H_CLIENT), _header(headers, H_KEY), _header(headers, H_ALG)
    ts, nonce, signature = _header(headers, H_TIMESTAMP), _header(headers, H_NONCE), _header(headers, H_SIGNATURE)
    if not all((client_id, key_id, alg, ts, nonce, signature)):
        _refuse(db, Unauthorized(T("签名请求缺少 X-PB-* 头", "A signed request needs all X-PB-* headers"),
                                 code="signature_headers_missing"), client_id=client_id, ip=ip, reason="headers")
    if not ts.isdigit() or abs(int(time.time()) - int(ts)) > WINDOW_SECONDS:
        _refuse(db, Unauthorized(T("请求时间戳超出 5 分钟有效期，请校准时钟后重新签名",
                                   "The request timestamp is outside the 5-minute window; fix the clock and sign "
                                   "again"), code="signature_expired"), client_id=client_id, ip=ip, reason="timestamp")
    if not _NONCE_RE.fullmatch(nonce):
        _refuse(db, Unauthorized(T("随机数须为 16 至 64 个字母数字字符", "The nonce must be 16 to 64 letters or digits"),
                                 code="bad_nonce"), client_id=client_id, ip=ip, reason="nonce format")
    client = db.get(ApiClient, client_id[:36])
    key = db.get(ApiClientKey, key_id[:36]) if client else None
    if client is None or key is None or key.client_id != client.id or key.alg != alg:
        _refuse(db, Unauthorized(_BAD_SIGNATURE, code="signature_invalid"), client_id=client_id, ip=ip,
                reason="unknown, revoked or expired client or key")
        raise AssertionError  # unreachable; keeps type checkers calm
    if not client.is_active or not key_is_valid(key):
        _refuse_closed(db, client, key, method=method, path=path, ts=ts, nonce=nonce, signature=signature, body=body,
                       ip=ip, data_dir=data_dir)
    if not _signed_by(key, string_to_sign(method, path, ts, nonce, body), signature, data_dir):
        _refuse(db, Unauthorized(_BAD_SIGNATURE, code="signature_invalid"), client_id=client_id, ip=ip,
                reason="signature mismatch")
    if client.ip_allowlist:
        try:
            addr = ipaddress.ip_address(ip or "")
            allowed = any(addr in ipaddress.ip_network(net) for net in client.ip_allowlist)
        except ValueError:
            allowed = False
        if not allowed:
            _refuse(db, Forbidden(T("来源地址 {ip} 不在该客户端的白名单内", "The address {ip} is not in this client's "
                                    "allowlist", ip=ip or "?"), code="ip_not_allowed"),
                    client_id=client_id, ip=ip, reason="ip allowlist")
    now = utcnow()
    recent = db.scalar(select(func.count()).select_from(ApiNonce).where(
        ApiNonce.client_id == client.id, ApiNonce.seen_at > now - timedelta(minutes=1)))
    if recent is not None and recent >= client.rate_limit_per_minute:
        raise TooManyRequests(T("该客户端每分钟最多 {n} 次请求，请稍后再试", "This client may make at most {n} requests "
                                "a minute; try again shortly", n=client.rate_limit_per_minute), code="rate_limited",
                              retry_after=60 - now.second)
    # Now and then forget nonces that can no longer be replayed (outside the window anyway).
    if secrets.randbelow(20) == 0:
        db.execute(delete(ApiNonce).where(ApiNonce.client_id == client.id, ApiNonce.expires_at < now))
    try:
        with db.begin_nested():
            db.add(ApiNonce(client_id=client.id, nonce=nonce, seen_at=now,
                            expires_at=now + timedelta(seconds=2 * WINDOW_SECONDS)))
    except IntegrityError:
        _refuse(db, Unauthorized(T("请求已被使用过（随机数重复），疑似重放", "This request was already used (the nonce "
                                   "repeats): a replay is refused"), code="nonce_reused"),
                client_id=client_id, ip=ip, reason="nonce reused")
    # Touch the "last used" stamps at most once a minute to keep writes down.
    if client.last_used_at is None or (now - as_utc(client.last_used_at)).total_seconds() > 60:
        client.last_used_at = now
    if key.last_used_at is None or (now - as_utc(key.last_used_at)).total_seconds() > 60:
        key.last_used_at = now
    db.flush()
    return principal_for_client(db, client=client, key=key)


def principal_for_client(db: Session, *, client: ApiClient, key: ApiClientKey | None = None) -> Principal:
    unit = unit_service.get_unit(db, unit_id=client.unit_id)
    roles = frozenset({Role.api_client.value})
    return Principal(
        user_id=client.id, username=f"client:{client.name}"[:64], display_name=client.name, unit_id=unit.id,
        unit_code=unit.code, roles=roles, permissions=permissions_for(roles), via="signature",
        extra={"api_client_id": client.id, "key_id": key.id if key else None},
    )


def is_signed(headers: Mapping[str, str]) -> bool:
    return bool(_header(headers, H_SIGNATURE))


def expiring_keys(db: Session, *, within_days: int = 30) -> list[dict[str, object]]:
    """Keys of active clients that stop working within ``within_days`` (a rotation left open, or a set end)."""
    now = utcnow()
    stmt = (select(ApiClientKey, ApiClient).join(ApiClient, ApiClient.id == ApiClientKey.client_id)
            .where(ApiClient.is_active, ApiClientKey.revoked_at.is_(None), ApiClientKey.expires_at.is_not(None),
                   ApiClientKey.expires_at <= now + timedelta(days=within_days))
            .order_by(ApiClientKey.expires_at).limit(100))
    return [{"client": c.name, "client_id": c.id, "key_id": k.id, "expires_at": k.expires_at,
             "expired": k.expires_at is not None and as_utc(k.expires_at) <= now} for k, c in db.execute(stmt).all()]
