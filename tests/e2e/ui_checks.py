"""The shared check every page's browser test runs: what a person must never see on a screen.

    watch = watch_page(page)          # once, right after the page is made: records console errors and API data
    ... open a screen ...
    problems = check_screen(page, watch, lang="en")   # [] when the screen is clean
    assert not problems, problems

It fails on:
- a console error or an uncaught exception (a failed request shows here too: a 401/403/404 a page fired);
- a visible string that is an internal word: a dotted code (``auth.login``, ``save_as.name``), a UUID, JSON
  (``{"``), a field path (``items[3]``), a raw ISO time (``2026-12-01T14:11``) or an unformatted decimal
  (``15125.0000000000``);
- in English, visible Chinese that is not data (Chinese text the API itself sent, such as a unit's or a
  person's name, is data and allowed; a label the page forgot to translate is not);
- horizontal overflow of the page (the document or the shell's main area scrolls sideways);
- a destructive button (删除/终止/停用/Delete/Terminate …) without a confirmation: it must carry
  ``data-confirm`` (set by the confirm helper in app/guard.js), or, when ``probe=True``, open a confirmation
  box when clicked (the box is then cancelled).

Text inside an element marked ``data-raw`` (SQL, a file's own content, code shown on purpose) is skipped by the
internal-word check.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

# Codes and paths a person should never read.
INTERNAL_WORDS: list[tuple[str, re.Pattern[str]]] = [
    ("dotted code or field path", re.compile(r"(?<![\w./@:-])[a-z][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+(?![\w/@-])")),
    ("UUID", re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)),
    ("JSON", re.compile(r"[{\[]\s*\"")),
    ("indexed field path", re.compile(r"\b[A-Za-z_]\w*\[\d+\]")),
    ("raw ISO time", re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")),
    ("unformatted decimal", re.compile(r"\b\d+\.\d{5,}\b")),
]
# Dotted words that are not codes: file names, host names, addresses.
ALLOWED_DOTTED = re.compile(
    r"\.(xlsx|xls|xlsm|csv|tsv|txt|json|yaml|yml|pdf|png|jpe?g|gif|docx|ofd|zip|db|sql|wsdl|ico|svg)$"
    r"|^(www|api|localhost|example|pbshare\.(in|out))\b"
    r"|\.(cn|com|org|gov|net|local)$|^(e\.g|i\.e|etc)\b"
)
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+(?:[·\u3000-\u303f\uff00-\uffef\w ]*[\u3400-\u9fff\uf900-\ufaff]+)*")
# Words shown in both languages on purpose (the language switch names each language in its own script).
ALLOWED_CJK = {"简体中文"}
DESTRUCTIVE = re.compile(r"删除|终止|停用|注销|撤销|吊销|作废|清空|销毁|\b(Delete|Terminate|Disable|Remove|Revoke|Destroy|Purge)\b", re.I)

_SCAN_JS = r"""
async () => {
  // the last re-render after the data arrived: two animation frames (cheaper than a fixed pause)
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const out = [];
  const vis = (el) => el && el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true });
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let n;
  while ((n = walker.nextNode())) {
    const text = n.nodeValue.trim();
    if (!text) continue;
    const el = n.parentElement;
    if (!el || el.closest('script,style,noscript,template')) continue;
    if (!vis(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    out.push({ text, raw: !!el.closest('[data-raw]') });
  }
  for (const el of document.querySelectorAll('[placeholder],[title],[aria-label]')) {
    if (!vis(el)) continue;
    for (const a of ['placeholder', 'title', 'aria-label']) {
      const v = el.getAttribute(a);
      if (v && v.trim()) out.push({ text: v.trim(), raw: !!el.closest('[data-raw]'), attr: a });
    }
  }
  const overflow = [];
  const se = document.scrollingElement;
  if (se.scrollWidth > se.clientWidth + 1) overflow.push(`page ${se.scrollWidth}px > ${se.clientWidth}px`);
  for (const m of document.querySelectorAll('.el-main')) {
    if (m.scrollWidth > m.clientWidth + 1) overflow.push(`main area ${m.scrollWidth}px > ${m.clientWidth}px`);
  }
  const destructive = [];
  for (const b of document.querySelectorAll('button, .el-button, a.el-link, .el-dropdown-menu__item')) {
    if (!vis(b) || b.disabled || b.classList.contains('is-disabled')) continue;
    const text = (b.innerText || '').trim();
    if (!text || text.length > 24) continue;
    const confirmed = !!b.closest('[data-confirm]');
    const sel = b.getAttribute('data-test') ? `[data-test="${b.getAttribute('data-test')}"]` : null;
    destructive.push({ text, confirmed, sel });
  }
  return { texts: out, overflow, destructive };
}
"""


@dataclass
class Watch:
    """What the page said while it was watched: console errors and every string the API sent."""

    errors: list[str] = field(default_factory=list)
    data: set[str] = field(default_factory=set)

    def data_text(self) -> str:
        return "\n".join(self.data)


def _strings(value: Any, into: set[str]) -> None:
    if isinstance(value, str):
        if CJK.search(value):
            into.add(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            _strings(k, into)
            _strings(v, into)
    elif isinstance(value, list):
        for v in value:
            _strings(v, into)


def watch_page(page) -> Watch:
    watch = Watch()

    def on_console(msg) -> None:
        if msg.type == "error":
            loc = msg.location or {}
            watch.errors.append(f"console: {msg.text} ({loc.get('url', '')})")

    def on_response(resp) -> None:
        if "/api/" not in resp.url or "json" not in (resp.headers.get("content-type") or ""):
            return
        try:
            body = resp.body()
        except Exception:  # a response the page navigated away from
            return
        try:
            _strings(json.loads(body), watch.data)
        except ValueError:
            return

    page.on("console", on_console)
    page.on("pageerror", lambda exc: watch.errors.append(f"uncaught: {exc}"))
    page.on("response", on_response)
    inflight: set[Any] = set()
    page.on("request", lambda r: inflight.add(r))
    page.on("requestfinished", lambda r: inflight.discard(r))
    page.on("requestfailed", lambda r: inflight.discard(r))
    page._ui_inflight = inflight  # read by settle()
    page.add_init_script(_NET_JS)
    return watch


# The page's own fetch() calls counted in the page, so settle() waits there in one call instead of polling from here.
_NET_JS = r"""
(() => {
  const net = (window.__uiNet = { inflight: 0, last: performance.now(), token: null });
  const fetch0 = window.fetch;
  window.fetch = function (...args) {
    net.inflight++; net.last = performance.now();
    return fetch0.apply(this, args).finally(() => { net.inflight--; net.last = performance.now(); });
  };
})();
"""
_QUIET_JS = r"""
({ quiet, token }) => {
  let net = window.__uiNet;
  if (!net) {  // a page loaded before watch_page(): wait quiet_ms, the network is then watched from Python
    net = window.__uiWait = window.__uiWait || { inflight: 0, last: 0, token: null };
  }
  if (net.token !== token) { net.token = token; net.last = Math.max(net.last, performance.now()); }
  return net.inflight === 0 && performance.now() - net.last >= quiet;
}
"""


_tokens = itertools.count()


def settle(page, quiet_ms: int = 250, timeout_ms: int = 15000, step_ms: int = 25) -> None:
    """Wait until the page has had no request in flight for ``quiet_ms`` (a hash route change fires no load event).

    First in the page (its fetch() calls, counted by the script watch_page() adds; one round trip however long the
    wait), then from here for anything else still loading (page.on("request") also sees module imports and images)."""
    inflight = getattr(page, "_ui_inflight", set())
    # first in the page: its fetch() calls quiet for quiet_ms (counted from this call), one round trip
    page.wait_for_function(_QUIET_JS, arg={"quiet": quiet_ms, "token": next(_tokens)}, polling=step_ms,
                           timeout=timeout_ms)
    if not inflight:
        return
    waited = quiet = 0  # then anything else the browser still loads (module imports, images), watched from here
    while waited < timeout_ms:
        quiet = quiet + step_ms if not inflight else 0
        if quiet >= quiet_ms:
            return
        page.wait_for_timeout(step_ms)
        waited += step_ms


def _internal_words(text: str) -> list[str]:
    found = []
    for what, rx in INTERNAL_WORDS:
        for m in rx.finditer(text):
            word = m.group(0)
            if what.startswith("dotted") and ALLOWED_DOTTED.search(word):
                continue
            found.append(f"{what}: {word!r} in {text[:80]!r}")
    return found


def check_screen(page, watch: Watch, *, lang: str = "zh-CN", probe: bool = False, where: str = "") -> list[str]:
    """Problems on the screen as it is now; ``where`` prefixes each (the route, the width, the language)."""
    scan = page.evaluate(_SCAN_JS)
    problems: list[str] = list(watch.errors)
    watch.errors.clear()
    data = watch.data_text()
    seen: set[str] = set()
    for item in scan["texts"]:
        text = item["text"]
        if text in seen:
            continue
        seen.add(text)
        if not item["raw"]:
            problems.extend(_internal_words(text))
        if lang == "en":
            for m in CJK.finditer(text):
                run = m.group(0)
                if run in ALLOWED_CJK or run in data:
                    continue
                problems.append(f"untranslated in English: {run!r} in {text[:80]!r}")
    problems.extend(f"horizontal overflow: {o}" for o in scan["overflow"])
    probed: set[str] = set()
    for b in scan["destructive"]:
        if not DESTRUCTIVE.search(b["text"]) or b["confirmed"]:
            continue
        if not probe or not b["sel"] or b["text"] in probed:
            if not probe:
                problems.append(f"destructive button without data-confirm: {b['text']!r}")
            continue
        probed.add(b["text"])
        if not _opens_confirmation(page, b["sel"]):
            problems.append(f"destructive button opens no confirmation: {b['text']!r}")
    return [f"{where}{p}" for p in dict.fromkeys(problems)]


def _opens_confirmation(page, selector: str) -> bool:
    page.locator(selector).first.click()
    box = page.locator(".el-message-box, .el-popconfirm").first
    try:
        box.wait_for(state="visible", timeout=1500)
    except Exception:
        return False
    page.keyboard.press("Escape")
    box.wait_for(state="hidden", timeout=3000)
    return True


def assert_clean(page, watch: Watch, **kwargs: Any) -> None:
    problems = check_screen(page, watch, **kwargs)
    assert not problems, "\n".join(problems)
