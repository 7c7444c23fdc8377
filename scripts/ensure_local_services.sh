#!/usr/bin/env bash
# Makes sure the machine's PostgreSQL and Redis answer (this kind of machine runs both);
# starts one that has stopped with the machine's own start command. Used by CI.
set -euo pipefail

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! pg_up; then
  echo "PostgreSQL is down: starting it"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
fi
if ! redis_up; then
  echo "Redis is down: starting it"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
for _ in $(seq 1 30); do
  pg_up && redis_up && exit 0
  sleep 1
done
echo "PostgreSQL or Redis did not come up" >&2
exit 1
