"""Demo units answer by themselves: the demo steps, then a real `pbshare serve` whose demo responders
answer a handler's requests over SOAP (SZPSB), REST (SZAMR) and AMQP (SZHPF), and receipt the restriction
the handler decides: public security, market regulation and the credit centre (SZCREDIT, REST) each get it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from pbshare.demo import connections as demo_connections
from pbshare.demo import responders
from pbshare.demo import service as demo_service
from pbshare.demo.requests import DEMO_CASES
from pbshare.exchange.cases import service as cases

CHANNEL_OF = {"301001": "soap", "501001": "rest", "601002": "amqp"}
ANSWER_WITHIN = 45.0  # seconds (a few on an idle machine; this one is shared by parallel test runs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def public_fields(resource: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The fields a handler sees unmasked (personal identifiers and addresses are masked on read)."""
    shown = [i["code"] for i in responders.info_items(resource) if not i.get("pii") and i.get("id_kind") != "cn_ric"]
    return [{k: r.get(k) for k in shown} for r in records]


def test_a_unit_system_answers_the_same_for_the_same_person_and_nothing_for_real_people():
    id_no = "440305198507271835"
    first = responders.records_for("301001", name="演示·张三", id_no=id_no)
    assert first == responders.records_for("301001", name="演示·张三", id_no=id_no)
    assert first and set(first[0]) == {i["code"] for i in responders.info_items("301001")}
    assert responders.records_for("301001", name="张三", id_no=id_no) == []  # not a demo person: no record
    answer = responders.answer_for({"kind": "query", "resource": "301001",
                                    "subjects": [{"name": "张三", "id_no": id_no}]})
    assert answer["records"] == [] and "查无记录" in answer["note"]
    plate = first[0]["plate_no"]
    results = responders.answer_for({
        "kind": "verification", "resource": "301001", "subjects": [{"name": "演示·张三", "id_no": id_no}],
        "check_values": [{"plate_no": plate}, {"plate_no": plate, "state": "不存在的状态"}, {"plate_no": "粤B·Z9999"}]})
    assert [r["result"] for r in results["results"]] == ["match", "mismatch", "not_found"]


def _pbshare() -> list[str]:
    script = Path(sys.executable).parent / "pbshare"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from pbshare.cli import app; app()"]


@pytest.fixture
def served(settings, database, tmp_path):
    """The demo loaded, then `pbshare serve` in its own process on a free port, listeners and responders on."""
    data_dir = settings.resolved_data_dir
    with database.session() as s:
        summary = demo_service.run(s, data_dir=data_dir, cases=6, database=database)
    assert summary["connections"]["units"] == 4 and summary["connections"]["request"]
    assert summary["subscriptions"]["subscriptions"] == 3
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PBSHARE_")}
    env.update({"PBSHARE_DATA_DIR": str(data_dir), "PBSHARE_PORT": str(port), "PBSHARE_HOST": "127.0.0.1",
                "PBSHARE_CHANNEL_PREFIX": f"pbt{uuid.uuid4().hex[:8]}", "PBSHARE_SOCKET_HOST": "127.0.0.1",
                "PBSHARE_SOCKET_PORT": str(free_port()), "PBSHARE_LOG_JSON": "false", "PBSHARE_LOG_LEVEL": "INFO",
                "PYTHONFAULTHANDLER": "1"})  # a hung server dumps its threads on SIGABRT
    if settings.database_url:
        env["PBSHARE_DATABASE_URL"] = settings.database_url
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([*_pbshare(), "serve"], env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, log_path.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "pbshare serve did not start within 90 s"
            time.sleep(0.2)
        yield base, summary, proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    text = log_path.read_text(errors="replace")
    # the units' systems never failed (the platform's own retried hiccups are its business)
    failed = [line for line in text.splitlines() if line.startswith("ERROR   pbshare.demo") or "pbshare/demo/" in line]
    assert not failed, text[-4000:]


@contextlib.contextmanager
def dump_threads_if_stuck(proc: subprocess.Popen) -> Iterator[None]:
    """A server that stops answering prints every thread's stack into its log (faulthandler) before it goes."""
    try:
        yield
    except httpx.TimeoutException:
        proc.send_signal(signal.SIGABRT)
        raise


def call(http: httpx.Client, method: str, url: str, **kw: Any) -> httpx.Response:
    """As a person's browser does: a ``503 database_busy`` (SQLite busy with the listeners) is tried again."""
    for _ in range(20):
        res = http.request(method, url, **kw)
        if res.status_code != 503:
            return res
        time.sleep(float(res.headers.get("Retry-After", "1")))
    return res


def _wait_answered(http: httpx.Client, request_id: str, within: float) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        req = call(http, "GET", f"/api/v1/requests/{request_id}").json()
        if all(i["state"] == "answered" for i in req["items"]):
            return req
        assert time.monotonic() < deadline, [(i["resource_code"], i["state"]) for i in req["items"]]
        time.sleep(0.3)


def test_demo_units_answer_a_handlers_requests_over_soap_rest_and_amqp(served, settings, database):
    base, summary, proc = served
    data_dir = settings.resolved_data_dir
    path = demo_connections.path_for(data_dir)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with database.session() as s:  # running the demo again keeps the connections and their credentials
        assert demo_connections.load_demo(s, data_dir=data_dir)["units"] == 0
        # the demo person whose records the units hold in every one of the three resources
        people = []
        for n in range(6):
            case = cases.find_case_by_no(s, case_no=f"(演示)（{2021 + n % 4}）粤03破{1000 + n}号")
            name, id_no = case.debtor.name, cases.debtor_id_no(s, debtor_id=case.debtor_id, data_dir=data_dir)
            expected = {r: responders.records_for(r, name=name, id_no=id_no) for r in CHANNEL_OF}
            people.append((case.id, expected))
    case_id, expected = next((c, e) for c, e in people if all(e.values()))

    with httpx.Client(base_url=base, timeout=30) as http, dump_threads_if_stuck(proc):
        me = call(http, "POST", "/api/v1/auth/login", json={"username": "handler", "password": demo_service.DEMO_PASSWORD})
        assert me.status_code == 200, me.text
        http.headers["X-CSRF-Token"] = me.json()["csrf_token"]
        basis = "《深圳经济特区个人破产条例》第三十条"
        query = call(http, "POST", f"/api/v1/cases/{case_id}/requests", json={
            "kind": "query", "resources": list(CHANNEL_OF), "purpose": "调查债务人名下财产", "legal_basis": basis})
        assert query.status_code == 201, query.text
        assert {i["resource_code"]: i["route"] for i in query.json()["items"]} == CHANNEL_OF
        plate = expected["301001"][0]["plate_no"]
        check = call(http, "POST", f"/api/v1/cases/{case_id}/requests", json={
            "kind": "verification", "resources": ["301001"], "purpose": "核查债务人申报的车辆", "legal_basis": basis,
            "check_values": [{"resource": "301001", "values": {"plate_no": plate}},
                             {"resource": "301001", "values": {"plate_no": "粤B·Z9999"}}]})
        assert check.status_code == 201, check.text

        answered = _wait_answered(http, query.json()["id"], ANSWER_WITHIN)
        for item in answered["items"]:
            resource = item["resource_code"]
            assert item["answer"]["channel"] == CHANNEL_OF[resource]
            assert item["answer"]["unit_code"] == {"soap": "SZPSB", "rest": "SZAMR", "amqp": "SZHPF"}[
                CHANNEL_OF[resource]]
            assert public_fields(resource, item["answer"]["records"]) == public_fields(resource, expected[resource])
            assert all("*" in r.get("owner_id_no", r.get("person_id_no", r.get("id_no", "*")))
                       for r in item["answer"]["records"])  # masked on read
            history = call(http, "GET", f"/api/v1/requests/items/{item['id']}").json()["history"]
            states = [h["to_state"] for h in history]
            assert states.index("accepted") < states.index("answered")  # the states move as a person watches

        verified = _wait_answered(http, check.json()["id"], 10)["items"][0]
        assert [r["result"] for r in verified["answer"]["results"]] == ["match", "not_found"]

        # the demo's own request on the second demo case is answered too
        demo_request = summary["connections"]["request"]
        demo_answered = _wait_answered(http, demo_request, 10)
        assert {i["answer"]["channel"] for i in demo_answered["items"]} == {"soap", "rest", "amqp"}
        # a restriction decided on the demo case reaches the three subscribers' systems, each with its receipt
        decided = call(http, "POST", f"/api/v1/cases/{case_id}/decisions", json={
            "kind": "restriction", "decision_no": "（演示）深破限字〔2026〕9号",
            "effective_on": date.today().isoformat(), "restriction": "限制出境"})
        assert decided.status_code == 201, decided.text
        assert decided.json()["deliveries"] == 3
    with httpx.Client(base_url=base, timeout=30) as admin, dump_threads_if_stuck(proc):
        me = call(admin, "POST", "/api/v1/auth/login", json={"username": "dataadmin",
                                                              "password": demo_service.DEMO_PASSWORD})
        assert me.status_code == 200, me.text
        deadline = time.monotonic() + ANSWER_WITHIN
        while True:
            rows = call(admin, "GET", "/api/v1/subscriptions/deliveries", params={"case_id": case_id}).json()
            if len(rows) == 3 and all(r["acknowledged"] for r in rows):
                break
            assert time.monotonic() < deadline, rows
            time.sleep(0.5)
        assert {r["unit_code"] for r in rows} == {"SZPSB", "SZAMR", "SZCREDIT"}
        assert {r["event"] for r in rows} == {"restriction_decided"}
    with database.session() as s:
        assert cases.find_case_by_no(s, case_no=DEMO_CASES[1]).id == demo_answered["case_id"]
