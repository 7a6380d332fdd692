#!/usr/bin/env bash
# Make sure the services the tests talk to are up, starting any that are down with the
# commands this machine's environment documents. Idempotent; exits non-zero if one stays down.
set -uo pipefail

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {  # name port seconds
    local i
    for ((i = 0; i < $3 * 2; i++)); do up "$2" && return 0; sleep 0.5; done
    echo "services: $1 did not come up on port $2" >&2
    return 1
}

start() {  # name port command...
    local name=$1 port=$2
    shift 2
    if up "$port"; then echo "services: $name up (:$port)"; return 0; fi
    echo "services: starting $name"
    "$@" >/dev/null 2>&1 || true
    wait_for "$name" "$port" 60 && echo "services: $name up (:$port)"
}

status=0
start postgresql 5432 bash -c 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start' || status=1
start rabbitmq 5672 rabbitmq-server -detached || status=1
start mosquitto 1883 mosquitto -d -c /etc/mosquitto/mosquitto.conf || status=1
start nats 4222 start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log || status=1
start mariadb 3306 start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || status=1
exit $status
