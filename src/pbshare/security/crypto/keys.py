"""Master key and wrapped data keys under ``<data_dir>/keys`` (directory 0700, files 0600).

``master.key`` holds 32 random bytes and never leaves the data dir. Every data key (``pii.key``
for sealing personal identifiers, ``index.key`` for the blind index, ``audit.key`` for signing audit
archives, ...) is stored *wrapped*: encrypted with the master key (SM4-GCM, the key's name as
associated data so files cannot be swapped). ``rotate_master`` makes a new master key and re-wraps
every data key; the data itself is untouched, so rotation takes milliseconds.

Files written before wrapping existed (32 raw bytes) are wrapped in place on first read.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from pbshare.security.crypto import algorithms as crypto

MAGIC = "pbshare-wrapped-key/1"
MASTER = "master.key"
PREVIOUS_MASTER = "master.key.prev"
WRAP_ALG = crypto.SM4_GCM


class KeyFileError(Exception):
    """A key file is unreadable: wrong master key or a damaged file."""


def _write_private(path: Path, data: bytes) -> None:
    """Write atomically with mode 0600 (temp file, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def master_id(master: bytes) -> str:
    return crypto.sm3_hex(b"pbshare-master-id" + master)[:16]


@dataclass
class KeyRing:
    keys_dir: Path

    def master(self) -> bytes:
        path = self.keys_dir / MASTER
        if not path.exists():
            _write_private(path, os.urandom(32))
        data = path.read_bytes()
        if len(data) != 32:
            raise KeyFileError(f"{path} is not a 32-byte master key")
        return data

    def _masters(self) -> dict[str, bytes]:
        found = {}
        for name in (MASTER, PREVIOUS_MASTER):
            path = self.keys_dir / name
            if path.exists() and len(path.read_bytes()) == 32:
                found[master_id(path.read_bytes())] = path.read_bytes()
        return found

    def _wrap(self, name: str, key: bytes, master: bytes) -> bytes:
        sealed = crypto.encrypt(WRAP_ALG, master, key, aad=name.encode())
        return (MAGIC + "\n" + json.dumps({"name": name, "master_id": master_id(master),
                                           "sealed": sealed.to_text()}) + "\n").encode()

    def _unwrap(self, name: str, raw: bytes) -> bytes:
        text = raw.decode("utf-8")
        head, _, body = text.partition("\n")
        if head != MAGIC:
            raise KeyFileError(f"{name}: not a wrapped key file")
        doc = json.loads(body)
        master = self._masters().get(doc["master_id"])
        if master is None:
            raise KeyFileError(f"{name}: wrapped by a master key that is not here ({doc['master_id']})")
        try:
            return crypto.decrypt(master, crypto.Sealed.from_text(doc["sealed"]), aad=name.encode())
        except crypto.CryptoError as exc:
            raise KeyFileError(f"{name}: does not unwrap (damaged file or wrong master key)") from exc

    def data_key(self, name: str, size: int = 32) -> bytes:
        """The data key ``<name>.key``: created on first use, wrapped by the master key."""
        path = self.keys_dir / f"{name}.key"
        master = self.master()
        if not path.exists():
            key = os.urandom(size)
            _write_private(path, self._wrap(name, key, master))
            return key
        raw = path.read_bytes()
        if not raw.startswith(MAGIC.encode()):
            # A key file from before wrapping: keep the key, wrap it now.
            _write_private(path, self._wrap(name, raw, master))
            return raw
        return self._unwrap(name, raw)

    def wrapped_names(self) -> list[str]:
        names = []
        for path in sorted(self.keys_dir.glob("*.key")):
            if path.name != MASTER and path.read_bytes().startswith(MAGIC.encode()):
                names.append(path.stem)
        return names

    def rotate_master(self) -> dict:
        """A new master key; every wrapped data key is re-wrapped. Safe to re-run after a crash."""
        old = self.master()
        plain = {name: self.data_key(name) for name in self.wrapped_names()}
        # Keep the old master until every data key is re-wrapped, so a crash half-way loses nothing.
        _write_private(self.keys_dir / PREVIOUS_MASTER, old)
        new = os.urandom(32)
        _write_private(self.keys_dir / MASTER, new)
        for name, key in plain.items():
            _write_private(self.keys_dir / f"{name}.key", self._wrap(name, key, new))
        (self.keys_dir / PREVIOUS_MASTER).unlink()
        return {"old_master_id": master_id(old), "new_master_id": master_id(new), "rewrapped": sorted(plain)}

    def status(self) -> dict:
        master = self.master()
        return {"master_id": master_id(master), "data_keys": self.wrapped_names(),
                "master_mode": oct((self.keys_dir / MASTER).stat().st_mode & 0o777)}


def keyring_for(data_dir: Path) -> KeyRing:
    return KeyRing(Path(data_dir) / "keys")


def data_key(data_dir: Path, name: str) -> bytes:
    """For other domains: a named data key (e.g. ``data_key(dir, "channel-hmac")``), wrapped at rest."""
    return keyring_for(data_dir).data_key(name)
