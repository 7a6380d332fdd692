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
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pbshare.core.clock import utcnow
from pbshare.core.i18n import T
from pbshare.core.ids import new_id
from pbshare.core.jcs import jcs, sorted_json
from pbshare.security.crypto import algorithms as crypto

TYPES = ("request", "response", "delivery", "receipt", "correction", "error")
SIG_ALGS = (crypto.HMAC_SM3, crypto.SM2_SM3)
ENC_ALG = crypto.SM4_GCM
MAX_BYTES = 1024 * 1024  # default largest envelope a channel accepts
CLOCK_SKEW = timedelta(minutes=15)  # older (or further in the future) is refused as a replay
MAX_DEPTH = 64  # deeper JSON is refused before it is parsed: nothing recursive ever sees it
MAX_EXACT_INT = 2**53 - 1  # RFC 8785 (I-JSON) numbers: an integer beyond this cannot be signed the same everywhere
_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")  # always fullmatch: "$" would let a trailing newline through
_UUID = re.compile(r"[0-9a-fA-F-]{16,64}")
_REF = re.compile(r"[!-~]{1,64}")  # correlation_id: printable ASCII, as long as an id column holds


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


def verify(envelope: dict[str, Any], key: Key, *, signed: bytes | None = None) -> bool:
    """Check ``sig``; ``signed``: the envelope's ``canonical`` bytes when already known (``parse_signed``)."""
    sig = envelope.get("sig") or {}
    if sig.get("alg") != key.alg:
        return False
    try:
        value = crypto.b64d(sig.get("value", ""))
    except (ValueError, TypeError):
        return False
    body = signed if signed is not None else canonical(envelope)
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
    except (crypto.CryptoError, ValueError, KeyError, TypeError) as exc:
        raise EnvelopeError("decrypt_failed", T("载荷无法解密：密钥不符或内容被篡改", "The payload did not "
                                                "decrypt: wrong key or tampered data"),
                            field="enc", answers=envelope.get("id"), sender=envelope.get("sender")) from exc
    try:
        payload = loads(plain)  # the same strict reading as the envelope itself: a key holder can send poison too
    except EnvelopeError as err:
        raise dataclasses.replace(err, field="enc", answers=envelope.get("id"), sender=envelope.get("sender")) from None
    if not isinstance(payload, dict):
        raise _bad("bad_payload", "payload 必须是 JSON 对象", "payload must be a JSON object", envelope, "enc")
    return payload


def shown(text: str, limit: int = 32) -> str:
    """A sender's text echoed in an error message: cut, and only printable characters (no NUL, no lone
    surrogate), so the message can be stored and signed whatever the sender put in."""
    return "".join(c if c.isprintable() else "?" for c in text[:limit])  # a surrogate is not printable


def _bad(code: str, zh: str, en: str, env: dict[str, Any] | None, field_name: str | None = None,
         **params: Any) -> EnvelopeError:
    # Echoed back only when well-formed: the answer's correlation_id and receiver must be storable and signable.
    answers = env.get("id") if isinstance(env, dict) and isinstance(env.get("id"), str) \
        and _UUID.fullmatch(env["id"]) else None
    sender = env.get("sender") if isinstance(env, dict) and isinstance(env.get("sender"), str) \
        and _CODE.fullmatch(env["sender"]) else None
    return EnvelopeError(code, T(zh, en, **params), field=field_name, answers=answers, sender=sender)


def _nests_too_deep(value: Any) -> bool:
    """True when a parsed value nests deeper than ``MAX_DEPTH``, found by an explicit stack (no
    recursion). Anything far deeper never got here: json's parser stops at the recursion limit."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if type(node) is dict else node
        for child in children:
            if type(child) is dict or type(child) is list:
                if depth >= MAX_DEPTH:
                    return True
                stack.append((child, depth + 1))
    return False


def _bad_number(text: str) -> EnvelopeError:
    return EnvelopeError("bad_number", T("数值 {v} 超出 RFC 8785 可签名的范围（不允许 NaN、Infinity 及绝对值大于 2^53-1 的整数）",
                                         "The number {v} cannot be signed under RFC 8785 (no NaN, no Infinity, no "
                                         "integer beyond ±(2^53-1)); send it as a string", v=shown(text)))


def _int(text: str) -> int:
    if len(text.lstrip("-")) > 16 or abs(value := int(text)) > MAX_EXACT_INT:
        raise _bad_number(text)
    return value


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 reads as inf
        raise _bad_number(text)
    return value


def _constant(text: str) -> Any:
    raise _bad_number(text)  # NaN, Infinity, -Infinity: Python reads them, JSON does not have them


def loads(raw: bytes | str) -> Any:
    """Strict JSON: bounded depth, only numbers RFC 8785 can sign, only strings UTF-8 can carry.

    Every way a value could later fail canonicalisation (and so crash the signature check) is refused
    here with its own code: ``too_deep``, ``bad_number``, ``bad_string``, ``malformed_json``.
    """
    return _loads(raw)[0]


# Sixteen digits in a row: an integer that may pass 2^53 (fifteen never do). Without such a run every
# integer is read by json's own parser instead of a Python call per number.
_LONG_DIGITS = re.compile(rb"[0-9]{16}")
# A character beyond U+FFFF, as UTF-8 (lead byte 0xF0-0xF4) or as an escaped surrogate pair.
_ASTRAL = re.compile(rb"[\xf0-\xf4]|\\u[dD][89abAB]")


def _loads(raw: bytes | str) -> tuple[Any, bool]:
    """``loads``, and whether the value is plain: no float and no character beyond U+FFFF, so that
    ``core.jcs.sorted_json`` gives its RFC 8785 bytes without walking it first."""
    data = raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass")
    floats: list[str] = []

    def read_float(text: str) -> float:
        floats.append(text)
        return _float(text)

    try:
        value = json.loads(data, parse_int=_int if _LONG_DIGITS.search(data) else None, parse_float=read_float,
                           parse_constant=_constant)
    except RecursionError:  # nested past the interpreter's limit (the probe's 100,000 levels)
        raise _too_deep() from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise EnvelopeError("malformed_json", T("消息不是合法的 JSON：{e}", "The message is not valid JSON: {e}",
                                                e=shown(str(exc), 200))) from None
    if isinstance(value, (dict, list)) and data.count(b"[") + data.count(b"{") > MAX_DEPTH \
            and _nests_too_deep(value):
        raise _too_deep()
    # A lone surrogate comes in as a \ud800-style escape or as raw surrogate bytes (0xED 0xA0-0xBF);
    # without either, no string can hold one and the check is skipped.
    if b"\\u" in data or b"\xed" in data:
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise EnvelopeError("bad_string", T("字符串含有孤立的代理码点（如 \\ud800），不是合法的 Unicode 文本",
                                                "A string holds a lone surrogate (such as \\ud800), which is not "
                                                "valid Unicode text")) from None
    return value, not floats and not _ASTRAL.search(data)


def _too_deep() -> EnvelopeError:
    return EnvelopeError("too_deep", T("JSON 嵌套超过 {m} 层", "The JSON nests deeper than {m} levels", m=MAX_DEPTH))


def parse(raw: bytes | str, *, max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """Bytes off the wire -> a structurally valid envelope (signature not yet checked)."""
    size = len(raw)
    if size > max_bytes:
        raise EnvelopeError("too_large", T("消息 {n} 字节，超过上限 {m} 字节", "The message is {n} bytes, over the "
                                           "limit of {m} bytes", n=size, m=max_bytes))
    env = loads(raw)
    validate(env)
    return env


def parse_signed(raw: bytes | str, *, max_bytes: int = MAX_BYTES) -> tuple[dict[str, Any], bytes]:
    """``parse``, and the bytes its signature covers (``canonical``), found cheaply for a plain envelope."""
    size = len(raw)
    if size > max_bytes:
        raise EnvelopeError("too_large", T("消息 {n} 字节，超过上限 {m} 字节", "The message is {n} bytes, over the "
                                           "limit of {m} bytes", n=size, m=max_bytes))
    env, plain = _loads(raw)
    validate(env)
    unsigned = {k: v for k, v in env.items() if k != "sig"}
    return env, sorted_json(unsigned) if plain else jcs(unsigned)


def validate(env: Any) -> None:
    if not isinstance(env, dict):
        raise _bad("not_an_object", "消息必须是 JSON 对象", "The message must be a JSON object", None)
    for name in ("id", "type", "sender", "receiver", "created_at"):
        if not isinstance(env.get(name), str) or not env.get(name):
            raise _bad("missing_field", "缺少字段或类型不对：{f}", "Missing or mistyped field: {f}", env, name, f=name)
    if not _UUID.fullmatch(env["id"]):
        raise _bad("bad_id", "id 必须是 UUID", "id must be a UUID", env, "id")
    if env["type"] not in TYPES:
        raise _bad("bad_type", "未知的消息类型 {v}，应为 {a}", "Unknown type {v}; expected one of {a}", env, "type",
                   v=shown(env["type"]), a="|".join(TYPES))
    for name in ("sender", "receiver", "resource"):
        if name in env and (not isinstance(env[name], str) or not _CODE.fullmatch(env[name])):
            raise _bad("bad_code", "{f} 必须是单位或资源代码", "{f} must be a unit or resource code", env, name, f=name)
    if "correlation_id" in env and not (isinstance(env["correlation_id"], str)
                                        and _REF.fullmatch(env["correlation_id"])):
        raise _bad("bad_correlation_id", "correlation_id 必须是所答消息的 id（可打印 ASCII，不超过 64 字符）",
                   "correlation_id must be the id of the message answered (printable ASCII, at most 64 characters)",
                   env, "correlation_id")
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
                   a=shown(sig["alg"]))
    if not _CODE.fullmatch(sig["key_id"]):
        raise _bad("unknown_key", "未知的密钥编号 {k}：请使用平台发放的 key_id", "Unknown key id {k}: use the key_id "
                   "the platform issued to you", env, "sig.key_id", k=shown(sig["key_id"], 64))


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
