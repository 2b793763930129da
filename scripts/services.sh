#!/usr/bin/env bash
# Makes sure the real servers the tests talk to are up: PostgreSQL on 127.0.0.1:5432 and Redis on
# 127.0.0.1:6379. Starts them with the machine's own commands when they are installed but stopped;
# installs them from Debian's packages when they are missing.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

if ! have pg_ctlcluster || ! have redis-server; then
  echo "services: installing PostgreSQL and Redis from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql redis-server >/dev/null
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "services: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "services: starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi
echo "services: redis $(redis-cli -h 127.0.0.1 -p 6379 ping)"
