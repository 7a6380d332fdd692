"""Cases list with masked identifiers; unmasking needs the right and a purpose."""

from __future__ import annotations

from stdnum.cn import ric

from pbshare.demo import service as demo_service


def test_demo_cases_are_masked_and_valid(as_user, database, settings):
    with database.session() as s:
        demo_service.load_units(s)
        made = demo_service.load_cases(s, data_dir=settings.resolved_data_dir, count=20)
    assert made == 20
    client = as_user("h1", ["case_handler"])
    page = client.get("/api/v1/cases?size=50").json()
    assert page["total"] == 20
    first = page["items"][0]
    assert first["debtor"]["name"].startswith("演示·")
    assert first["debtor"]["masked"] is True and "********" in first["debtor"]["id_no"]
    full = client.post(f"/api/v1/cases/{first['id']}/unmask", json={"purpose": "财产调查核对身份"}).json()
    assert full["debtor"]["masked"] is False
    assert ric.is_valid(full["debtor"]["id_no"])
    assert full["debtor"]["id_no"][:6] == first["debtor"]["id_no"][:6]


def test_unmask_needs_the_right(as_user, database, settings):
    with database.session() as s:
        demo_service.load_units(s)
        demo_service.load_cases(s, data_dir=settings.resolved_data_dir, count=2)
    client = as_user("da", ["data_admin"])
    case = client.get("/api/v1/cases").json()["items"][0]
    res = client.post(f"/api/v1/cases/{case['id']}/unmask", json={"purpose": "想看看而已"})
    assert res.status_code == 403


def test_demo_is_idempotent(database, settings):
    for _ in range(2):
        with database.session() as s:
            demo_service.run(s, data_dir=settings.resolved_data_dir, cases=5)
    from sqlalchemy import func, select

    from pbshare.exchange.cases.models import BankruptcyCase
    from pbshare.security.identity.models import User

    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(BankruptcyCase)) == 5
        assert s.scalar(select(func.count()).select_from(User)) == len(demo_service.DEMO_USERS)


def test_identifiers_are_stored_sealed(database, settings):
    """The database never holds an ID number in clear."""
    from sqlalchemy import text

    with database.session() as s:
        demo_service.load_units(s)
        demo_service.load_cases(s, data_dir=settings.resolved_data_dir, count=3)
    with database.engine.connect() as conn:
        rows = conn.execute(text("SELECT id_no_sealed, id_no_masked FROM debtor")).all()
    for sealed, masked in rows:
        assert sealed.startswith("SM4-GCM:")
        assert masked[6:14] == "********"


def test_unmask_is_audited_with_purpose(as_user, database, settings):
    from pbshare.security.audit import service as audit

    with database.session() as s:
        demo_service.load_units(s)
        demo_service.load_cases(s, data_dir=settings.resolved_data_dir, count=1)
    client = as_user("h2", ["case_handler"])
    case = client.get("/api/v1/cases").json()["items"][0]
    client.post(f"/api/v1/cases/{case['id']}/unmask", json={"purpose": "核对财产申报"})
    from sqlalchemy import select

    with database.session() as s:
        rec = s.scalars(select(audit.AuditRecord).where(audit.AuditRecord.action == "pii.unmask")).one()
        assert rec.actor_name == "h2" and rec.purpose == "核对财产申报"
        assert audit.verify(s).ok
