"""Password hashing (argon2id) and the complexity policy."""

from __future__ import annotations

import re
import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from pbshare.core.errors import Invalid
from pbshare.core.i18n import T

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters

MIN_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_policy(password: str, *, username: str = "", min_length: int = MIN_LENGTH, min_classes: int = 3) -> None:
    """At least ``min_length`` characters and ``min_classes`` of: lower, upper, digit, symbol; not the user name."""
    classes = sum(
        bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]")
    )
    if len(password) < min_length or classes < min_classes:
        raise Invalid(
            T(
                "密码太弱：至少 {n} 位，并包含大写字母、小写字母、数字、符号中的 {k} 类",
                "The password is too weak: use at least {n} characters from {k} of upper case, "
                "lower case, digits and symbols",
                n=min_length, k=min_classes,
            ),
            code="weak_password",
        )
    if username and username.lower() in password.lower():
        raise Invalid(
            T("密码不能包含用户名", "The password must not contain the user name"), code="weak_password"
        )


def generate_password(length: int = 16) -> str:
    """A one-time password that satisfies the strictest policy (all four classes)."""
    alphabet = string.ascii_letters + string.digits + "@#%+=-"
    length = max(length, 16)
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        try:
            check_policy(candidate, min_classes=4)
            return candidate
        except Invalid:
            continue
