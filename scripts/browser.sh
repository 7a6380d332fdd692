#!/usr/bin/env bash
# Debian's chromium (never `playwright install`, which downloads browsers) and a CJK font so
# Chinese text renders in screenshots.
set -euo pipefail
if [[ -x /usr/bin/chromium ]] && fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy"; then
    echo "browser: chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}') ready"
    exit 0
fi
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
echo "browser: installed $(/usr/bin/chromium --version)"
