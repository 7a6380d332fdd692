"""Signed API-client requests (HMAC-SM3 and SM2-SM3) against a bearer token, measured in the same run.

    .venv/bin/python bench/security_signed_requests.py              # 300 requests each, SQLite
    .venv/bin/python bench/security_signed_requests.py --requests 1000 --database-url postgresql+psycopg://...

Ours: ``GET /api/v1/auth/whoami`` signed by a unit's system with HMAC-SM3 (client signs, server checks
the window, stores the nonce, checks the rate limit and the MAC) and with SM2-SM3. Baseline: the same
route with a bearer token (one SM3 hash lookup), the cheapest authenticated call the platform has.
Each timed request includes the client's signing as well as the server's check, as a unit's system pays both.
The three kinds take turns request by request, so a busy spell on a shared machine hits them alike; each
kind's figure is the median of its requests' times (a stall of the machine moves the mean, not the median),
with the mean and this process's CPU time beside it. Last line, the SM2 one (target ≤ 1.5, issue 19):
``RATIO <median SM2-SM3 request / median bearer request>``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
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
        kinds = {
            "bearer": lambda: {"Authorization": f"Bearer {token}"},
            "hmac": lambda: api_clients.sign_request("GET", PATH, b"", **hmac_sign),
            "sm2": lambda: api_clients.sign_request("GET", PATH, b"", **sm2_sign),
        }
        wall: dict[str, list[float]] = {kind: [] for kind in kinds}
        cpu = dict.fromkeys(kinds, 0.0)  # this process's CPU: client, app and SQLite alike (PostgreSQL's is not in it)
        with TestClient(create_app(settings, database=database)) as c:
            for make_headers in kinds.values():
                c.get(PATH, headers=make_headers())  # warm up (the SM2 key's public half is derived once here)
            for _ in range(n):
                for kind, make_headers in kinds.items():
                    started, started_cpu = time.perf_counter(), time.process_time()
                    res = c.get(PATH, headers=make_headers())
                    wall[kind].append(time.perf_counter() - started)
                    cpu[kind] += time.process_time() - started_cpu
                    assert res.status_code == 200, res.text
        database.dispose()
        med = {kind: statistics.median(times) * 1000 for kind, times in wall.items()}
        mean = {kind: sum(times) / n * 1000 for kind, times in wall.items()}
        labels = {"bearer": "baseline bearer token", "hmac": "ours HMAC-SM3 signed", "sm2": "ours SM2-SM3 signed"}
        print(f"database: {database.dialect}, {n} requests each, taking turns; SM2 in C (gmssl-pyx)")
        for kind, label in labels.items():
            print(f"{label:22}: median {med[kind]:6.2f} ms, mean {mean[kind]:6.2f} ms, "
                  f"CPU {cpu[kind] / n * 1000:6.2f} ms  ({1000 / med[kind]:6.1f} req/s at the median)")
        print(f"HMAC-SM3 / bearer     : {med['hmac'] / med['bearer']:.2f} (means {mean['hmac'] / mean['bearer']:.2f}, "
              f"CPU {cpu['hmac'] / cpu['bearer']:.2f})")
        print(f"SM2-SM3 / bearer      : {med['sm2'] / med['bearer']:.2f} (means {mean['sm2'] / mean['bearer']:.2f}, "
              f"CPU {cpu['sm2'] / cpu['bearer']:.2f}); target 1.5")
        print(f"RATIO {med['sm2'] / med['bearer']:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
