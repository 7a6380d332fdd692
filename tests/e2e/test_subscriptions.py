"""In the browser: the data admin approves public security's subscription to 801002 with a reason, the case
handler decides a restriction on the case page, and the pushes page shows it sent, then acknowledged."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from pbshare.exchange import envelope as env_mod
from pbshare.exchange.messaging import service as messaging
from pbshare.exchange.subscriptions import service as subs
from pbshare.exchange.subscriptions.schemas import SubscriptionIn
from tests.channels.conftest import open_connection  # noqa: F401  (fixture)
from tests.conftest import make_user
from tests.e2e.conftest import signed_in
from tests.exchange.requests_world import make_world
from tests.exchange.test_subscriptions_rules import who

pytestmark = pytest.mark.browser


def _login(browser, url: str, username: str):
    context, page = signed_in(browser, url, username)
    return context, page, page.js_errors


@pytest.mark.parametrize("backend", ["sqlite"])  # the browser path once; both databases are covered below it
def test_approve_decide_and_see_it_acknowledged(browser, live_server, database, settings, open_connection):  # noqa: F811
    world = make_world(database, settings)
    psb = open_connection("mqtt", unit_code="SZPSB")
    with database.session() as s:
        from pbshare.security.enums import Role

        subs.subscribe(s, body=SubscriptionIn(unit_code="SZPSB", resource_code="801002", channel="mqtt",
                                              purpose="执行限制出境措施"), principal=who(s, Role.unit_operator, "SZPSB"))
    make_user(database, "e2e_admin", ["data_admin"])
    make_user(database, "e2e_handler", ["case_handler"])

    context, page, errors = _login(browser, live_server, "e2e_admin")
    page.goto(live_server + "/#/subscriptions")
    expect(page.locator("[data-test=state-SZPSB]")).to_have_text("待审批", timeout=15000)
    page.click("[data-test=approve-SZPSB]")
    page.locator(".el-message-box input").fill("用途符合共享条件")
    page.locator(".el-message-box .el-button--primary").click()
    expect(page.locator("[data-test=state-SZPSB]")).to_have_text("生效中", timeout=10000)
    context.close()

    context, page, errors2 = _login(browser, live_server, "e2e_handler")
    page.goto(live_server + f"/#/cases/{world.case_id}")
    page.click("[data-test=decide-restriction]")
    page.fill("[data-test=decision-no]", "（演示）深破限字〔2026〕9号")
    page.click("[data-test=decision-save]")
    expect(page.get_by_text("推送给 1 个订阅")).to_be_visible(timeout=10000)
    expect(page.locator("[data-test=decisions]")).to_contain_text("限制高消费")
    context.close()

    # public security's system receipts the push (a signed receipt through the inbox, as any channel hands it in)
    with database.session() as s:
        rows = subs.deliveries(s, principal=who(s, Role.data_admin))
        msg = messaging.find_outbox_message(s, message_id=rows[0].outbox_id or "")
        assert msg is not None
        messaging.mark_sent(s, msg)
        receipt = env_mod.sign(env_mod.build(type="receipt", sender="SZPSB", receiver="SZBA", correlation_id=msg.envelope_id,
                                             payload={"status": "accepted"}), psb.key)
        assert messaging.receive(s, raw=env_mod.dumps(receipt), channel="mqtt",
                                 data_dir=settings.resolved_data_dir).status == "accepted"

    context, page, errors3 = _login(browser, live_server, "e2e_admin")
    page.goto(live_server + "/#/subscriptions/deliveries")
    expect(page.locator("[data-test=acked-SZPSB]")).to_have_text("1", timeout=15000)
    expect(page.locator("[data-test=deliveries]")).to_contain_text("已回执")
    expect(page.locator("[data-test=deliveries]")).to_contain_text("决定行为限制")
    context.close()
    assert not (errors + errors2 + errors3)
