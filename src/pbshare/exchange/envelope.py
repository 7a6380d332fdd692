"""The exchange envelope (DESIGN.md §5): build, sign, verify, encrypt, parse.

Every channel carries the same JSON object. The signature covers the RFC 8785 canonical form of
the envelope without ``sig``, so a unit may serialise its JSON any way it likes (key order,
spacing, escapes) and the signature still checks.

Parsing never raises a bare exception: a bad message becomes an ``EnvelopeError`` with a stable
code, a bilingual message, the field at fault and the id it answers (when one could be read), so
the receiver can answer with an ``error`` envelope and keep the bad bytes.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pbshare.core.clock import utcnow
from pbshare.core.i18n import T
from pbshare.core.ids import new_id
from pbshare.core.jcs import jcs
from pbshare.security.crypto import algorithms as crypto

TYPES = ("request", "response", "delivery", "receipt", "correction", "error")
SIG_ALGS = (crypto.HMAC_SM3, crypto.SM2_SM3)
ENC_ALG = crypto.SM4_GCM
MAX_BYTES = 1024 * 1024  # default largest envelope a channel accepts
CLOCK_SKEW = timedelta(minutes=15)  # older (or further in the future) is refused as a replay
_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_UUID = re.compile(r"^[0-9a-fA-F-]{16,64}$")


@dataclass
class EnvelopeError(Exception):
    """Why an envelope was refused. ``answers`` is the id of the bad envelope when it could be read."""

    code: str
    message: T
    field: str | None = None
    answers: str | None = None
    sender: str | None = None
    detail: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code}: {self.message.render('en')}"


def canonical(envelope: dict[str, Any]) -> bytes:
    """RFC 8785 (JCS) bytes of the envelope without its signature: what is signed."""
    return jcs({k: v for k, v in envelope.items() if k != "sig"})


def dumps(envelope: dict[str, Any]) -> bytes:
    """Wire form. Canonical too, which costs little and makes stored copies byte-comparable."""
    return jcs(envelope)


def build(*, type: str, sender: str, receiver: str, payload: dict[str, Any] | None = None,
          resource: str | None = None, correlation_id: str | None = None, test: bool = False,
          id: str | None = None, created_at: datetime | None = None) -> dict[str, Any]:
    if type not in TYPES:
        raise ValueError(f"unknown envelope type {type}")
    env: dict[str, Any] = {
        "id": id or new_id(), "type": type, "sender": sender, "receiver": receiver,
        "created_at": (created_at or utcnow()).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "test": bool(test), "payload": payload if payload is not None else {},
    }
    if resource:
        env["resource"] = resource
    if correlation_id:
        env["correlation_id"] = correlation_id
    return env


@dataclass(frozen=True)
class Key:
    """What signs or checks an envelope for one connection.

    HMAC-SM3: ``secret`` on both sides. SM2-SM3: ``private_hex`` to sign, ``public_hex`` to verify.
    ``enc_key`` (16 bytes) encrypts payloads with SM4-GCM when the connection asks for it.
    """

    key_id: str
    alg: str = crypto.HMAC_SM3
    secret: bytes | None = None
    private_hex: str | None = None
    public_hex: str | None = None
    enc_key: bytes | None = None


def sign(envelope: dict[str, Any], key: Key) -> dict[str, Any]:
    body = canonical(envelope)
    if key.alg == crypto.HMAC_SM3:
        if not key.secret:
            raise ValueError("HMAC-SM3 needs a secret")
        value = crypto.mac(crypto.HMAC_SM3, key.secret, body)
    elif key.alg == crypto.SM2_SM3:
        if not key.private_hex:
            raise ValueError("SM2-SM3 needs a private key")
        value = crypto.sign(crypto.SM2_SM3, key.private_hex, body)
    else:
        raise ValueError(f"unknown signature algorithm {key.alg}")
    signed = {k: v for k, v in envelope.items() if k != "sig"}
    signed["sig"] = {"alg": key.alg, "key_id": key.key_id, "value": crypto.b64e(value)}
    return signed


def verify(envelope: dict[str, Any], key: Key) -> bool:
    sig = envelope.get("sig") or {}
    if sig.get("alg") != key.alg:
        return False
    try:
        value = crypto.b64d(sig.get("value", ""))
    except (ValueError, TypeError):
        return False
    body = canonical(envelope)
    if key.alg == crypto.HMAC_SM3:
        return crypto.mac_verify(crypto.HMAC_SM3, key.secret, body, value) if key.secret else False
    if key.alg == crypto.SM2_SM3:
        return crypto.verify(crypto.SM2_SM3, key.public_hex, body, value) if key.public_hex else False
    return False


def _aad(envelope: dict[str, Any]) -> bytes:
    # Binds the ciphertext to this envelope: it cannot be cut out and pasted into another one.
    return f"{envelope['id']}|{envelope['sender']}|{envelope['receiver']}".encode()


def encrypt_payload(envelope: dict[str, Any], key: Key) -> dict[str, Any]:
    """Replace ``payload`` by ``enc`` (SM4-GCM). Encrypt first, then sign."""
    if not key.enc_key:
        raise ValueError("no encryption key for this connection")
    plain = jcs(envelope.get("payload", {}))
    sealed = crypto.encrypt(ENC_ALG, key.enc_key, plain, aad=_aad(envelope))
    out = {k: v for k, v in envelope.items() if k not in ("payload", "sig")}
    out["enc"] = {"alg": ENC_ALG, "key_id": key.key_id, "iv": crypto.b64e(sealed.iv), "ct": crypto.b64e(sealed.ct)}
    return out


def decrypt_payload(envelope: dict[str, Any], key: Key) -> dict[str, Any]:
    enc = envelope["enc"]
    if not key.enc_key:
        raise EnvelopeError("no_encryption_key", T("该连接未配置加密密钥，无法解密", "This connection has no "
                                                   "encryption key; the payload cannot be decrypted"),
                            field="enc", answers=envelope.get("id"), sender=envelope.get("sender"))
    try:
        sealed = crypto.Sealed(enc["alg"], crypto.b64d(enc["iv"]), crypto.b64d(enc["ct"]))
        plain = crypto.decrypt(key.enc_key, sealed, aad=_aad(envelope))
        return json.loads(plain)
    except (crypto.CryptoError, ValueError, KeyError, TypeError) as exc:
        raise EnvelopeError("decrypt_failed", T("载荷无法解密：密钥不符或内容被篡改", "The payload did not "
                                                "decrypt: wrong key or tampered data"),
                            field="enc", answers=envelope.get("id"), sender=envelope.get("sender")) from exc


def _bad(code: str, zh: str, en: str, env: dict[str, Any] | None, field_name: str | None = None,
         **params: Any) -> EnvelopeError:
    answers = env.get("id") if isinstance(env, dict) and isinstance(env.get("id"), str) else None
    sender = env.get("sender") if isinstance(env, dict) and isinstance(env.get("sender"), str) else None
    return EnvelopeError(code, T(zh, en, **params), field=field_name, answers=answers, sender=sender)


def parse(raw: bytes | str, *, max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """Bytes off the wire -> a structurally valid envelope (signature not yet checked)."""
    size = len(raw)
    if size > max_bytes:
        raise EnvelopeError("too_large", T("消息 {n} 字节，超过上限 {m} 字节", "The message is {n} bytes, over the "
                                           "limit of {m} bytes", n=size, m=max_bytes))
    try:
        env = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EnvelopeError("malformed_json", T("消息不是合法的 JSON：{e}", "The message is not valid JSON: {e}",
                                                e=str(exc)[:200])) from exc
    validate(env)
    return env


def validate(env: Any) -> None:
    if not isinstance(env, dict):
        raise _bad("not_an_object", "消息必须是 JSON 对象", "The message must be a JSON object", None)
    for name in ("id", "type", "sender", "receiver", "created_at"):
        if not isinstance(env.get(name), str) or not env.get(name):
            raise _bad("missing_field", "缺少字段或类型不对：{f}", "Missing or mistyped field: {f}", env, name, f=name)
    if not _UUID.match(env["id"]):
        raise _bad("bad_id", "id 必须是 UUID", "id must be a UUID", env, "id")
    if env["type"] not in TYPES:
        raise _bad("bad_type", "未知的消息类型 {v}，应为 {a}", "Unknown type {v}; expected one of {a}", env, "type",
                   v=env["type"][:32], a="|".join(TYPES))
    for name in ("sender", "receiver", "resource"):
        if name in env and (not isinstance(env[name], str) or not _CODE.match(env[name])):
            raise _bad("bad_code", "{f} 必须是单位或资源代码", "{f} must be a unit or resource code", env, name, f=name)
    if "correlation_id" in env and not isinstance(env["correlation_id"], str):
        raise _bad("bad_correlation_id", "correlation_id 必须是字符串", "correlation_id must be a string", env,
                   "correlation_id")
    if not isinstance(env.get("test", False), bool):
        raise _bad("bad_test_flag", "test 必须是 true 或 false", "test must be true or false", env, "test")
    try:
        created = datetime.fromisoformat(env["created_at"].replace("Z", "+00:00"))
        if created.tzinfo is None:
            raise ValueError("no time zone")
    except ValueError:
        raise _bad("bad_created_at", "created_at 必须是带时区的 RFC 3339 时间", "created_at must be an RFC 3339 time "
                   "with a zone", env, "created_at") from None
    has_payload, has_enc = "payload" in env, "enc" in env
    if has_payload == has_enc:
        raise _bad("payload_or_enc", "必须且只能有 payload 或 enc 之一", "Exactly one of payload or enc is required",
                   env, "payload")
    if has_payload and not isinstance(env["payload"], dict):
        raise _bad("bad_payload", "payload 必须是 JSON 对象", "payload must be a JSON object", env, "payload")
    if has_enc:
        enc = env["enc"]
        if not isinstance(enc, dict) or enc.get("alg") != ENC_ALG or not all(
                isinstance(enc.get(k), str) for k in ("key_id", "iv", "ct")):
            raise _bad("bad_enc", "enc 须含 alg=SM4-GCM、key_id、iv、ct", "enc needs alg=SM4-GCM, key_id, iv and ct",
                       env, "enc")
    sig = env.get("sig")
    if not isinstance(sig, dict) or not all(isinstance(sig.get(k), str) for k in ("alg", "key_id", "value")):
        raise _bad("missing_signature", "缺少签名 sig（alg、key_id、value）", "The signature sig (alg, key_id, value) is "
                   "missing", env, "sig")
    if sig["alg"] not in SIG_ALGS:
        raise _bad("bad_sig_alg", "不支持的签名算法 {a}", "Unsupported signature algorithm {a}", env, "sig.alg",
                   a=sig["alg"][:32])


def created_at(env: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(env["created_at"].replace("Z", "+00:00"))


def check_fresh(env: dict[str, Any], *, now: datetime | None = None, skew: timedelta = CLOCK_SKEW) -> None:
    """A signed envelope captured and sent again later is refused once outside the window."""
    now = now or utcnow()
    if abs(now - created_at(env)) > skew:
        raise _bad("stale", "消息时间 {t} 超出允许的 {m} 分钟范围（疑似重放），请检查时钟后重新生成消息",
                   "created_at {t} is outside the allowed {m} minutes (a replay?); check the clock and send a new "
                   "message", env, "created_at", t=env["created_at"], m=int(skew.total_seconds() // 60))


def error_for(err: EnvelopeError, *, sender: str, receiver: str | None = None, test: bool = False) -> dict[str, Any]:
    """The ``error`` envelope that answers a refused message (unsigned; the channel signs it if it can)."""
    return build(type="error", sender=sender, receiver=receiver or err.sender or "UNKNOWN",
                 correlation_id=err.answers, test=test,
                 payload={"code": err.code, "message": err.message.render("zh-CN"),
                          "message_en": err.message.render("en"), "field": err.field, "answers": err.answers})


def receipt_for(env: dict[str, Any], *, sender: str, status: str = "accepted") -> dict[str, Any]:
    return build(type="receipt", sender=sender, receiver=env["sender"], correlation_id=env["id"],
                 resource=env.get("resource"), test=bool(env.get("test")), payload={"status": status})
