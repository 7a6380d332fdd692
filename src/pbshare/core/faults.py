"""Pause points for the fault tests: a process told ``PBSHARE_FAULT_PAUSE=<point>`` freezes there.

The fault tests (``tests/channels/test_faults_kill.py``) start ``pbshare listen`` with the variable set,
wait for the line ``PBSHARE_FAULT_PAUSED <point>`` on its standard error, then kill it with SIGKILL,
so the crash lands exactly between two steps that must survive one:

    inbox_committed   the inbox transaction committed, the receipt not sent, the broker not acknowledged
    outbox_claimed    due outbox messages read and signed, nothing sent yet
    outbox_sent       sent to the broker, not yet recorded as sent (the unit will see it twice)

The variable is read once, here, when the process starts; unset (production), every call is one
comparison. The pause blocks the whole thread on purpose: nothing else may happen after it.
"""

from __future__ import annotations

import os
import sys
import time

POINTS = ("inbox_committed", "outbox_claimed", "outbox_sent")
_PAUSE_AT = os.environ.get("PBSHARE_FAULT_PAUSE") or None


def pause_at(point: str) -> None:
    """Freeze this process for good when the fault test asked to stop at ``point``; else return at once."""
    if point != _PAUSE_AT:
        return
    print(f"PBSHARE_FAULT_PAUSED {point}", file=sys.stderr, flush=True)
    while True:  # until the test kills the process
        time.sleep(3600)
