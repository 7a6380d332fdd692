"""Signed API-client requests (HMAC-SM3 and SM2-SM3) against a bearer token, measured in the same run.

    .venv/bin/python bench/security_signed_requests.py              # 300 requests each, SQLite
    .venv/bin/python bench/security_signed_requests.py --requests 1000 --database-url postgresql+psycopg://...

Ours: ``GET /api/v1/auth/whoami`` signed by a unit's system with HMAC-SM3 (client signs, server checks
the window, stores the nonce, checks the rate limit and the MAC) and with SM2-SM3. Baseline: the same
route with a bearer token (one SM3 hash lookup), the cheapest authenticated call the platform has.
Last line: ``RATIO <hmac-sm3 / bearer>``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from pbshare.app import create_app
from pbshare.config import Settings
from pbshare.core import migrate
from pbshare.core.db import Database
from pbshare.security.clients import service as api_clients
from pbshare.security.crypto import algorithms as crypto
from pbshare.security.identity import service as security_service
from pbshare.units import service as unit_service

PATH = "/api/v1/auth/whoami"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="pbshare-bench-sec-"))
    try:
        settings = Settings(data_dir=tmp, database_url=args.database_url, start_listeners=False)
        database = Database.from_settings(settings)
        migrate.upgrade(database.engine)
        pair = crypto.sm2_generate()
        with database.session() as s:
            unit_service.ensure_office(s)
            hmac_client, hmac_key, secret = api_clients.create_client(
                s, unit_code="SZBA", name="bench-hmac", alg="HMAC-SM3", data_dir=settings.resolved_data_dir,
                rate_limit_per_minute=100000)
            sm2_client, sm2_key, _ = api_clients.create_client(
                s, unit_code="SZBA", name="bench-sm2", alg="SM2-SM3", public_key_hex=pair.public_hex,
                data_dir=settings.resolved_data_dir, rate_limit_per_minute=100000)
            user, _ = security_service.create_user(s, username="bench", display_name="bench", unit_code="SZBA",
                                                   roles=["case_handler"], password="Speed#pass2026x",
                                                   must_change_password=False)
            _, token = security_service.create_token(s, user_id=user.id, name="bench")
            ids = (hmac_client.id, hmac_key.id, sm2_client.id, sm2_key.id)
        hmac_sign = {"client_id": ids[0], "key_id": ids[1], "alg": "HMAC-SM3", "secret": bytes.fromhex(secret)}
        sm2_sign = {"client_id": ids[2], "key_id": ids[3], "alg": "SM2-SM3", "private_key_hex": pair.private_hex}
        n = args.requests
        with TestClient(create_app(settings, database=database)) as c:
            def timed(make_headers) -> float:
                c.get(PATH, headers=make_headers())  # warm up
                started = time.perf_counter()
                for _ in range(n):
                    res = c.get(PATH, headers=make_headers())
                    assert res.status_code == 200, res.text
                return time.perf_counter() - started

            bearer = timed(lambda: {"Authorization": f"Bearer {token}"})
            hmac_t = timed(lambda: api_clients.sign_request("GET", PATH, b"", **hmac_sign))
            sm2_t = timed(lambda: api_clients.sign_request("GET", PATH, b"", **sm2_sign))
        database.dispose()
        print(f"database: {database.dialect}, {n} requests each")
        print(f"baseline bearer token : {n / bearer:8.1f} req/s  ({bearer / n * 1000:.2f} ms each)")
        print(f"ours HMAC-SM3 signed  : {n / hmac_t:8.1f} req/s  ({hmac_t / n * 1000:.2f} ms each)")
        print(f"ours SM2-SM3 signed   : {n / sm2_t:8.1f} req/s  ({sm2_t / n * 1000:.2f} ms each, pure-Python SM2)")
        print(f"RATIO {hmac_t / bearer:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
