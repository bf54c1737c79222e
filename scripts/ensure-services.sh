#!/usr/bin/env bash
# Makes sure Redis and Postgres answer. Starts local ones where installed, else `docker compose`,
# else says in one sentence what to do. Only local (127.0.0.1/localhost) URLs are started.
set -u
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
DATABASE_URL="${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/genqueue}"
here="$(cd "$(dirname "$0")/.." && pwd)"

is_local() { [[ "$1" == *"127.0.0.1"* || "$1" == *"localhost"* ]]; }

redis_up() { node -e '
  const net = require("net"); const u = new URL(process.argv[1]);
  const s = net.connect(Number(u.port || 6379), u.hostname, () => s.write("PING\r\n"));
  s.setTimeout(1000, () => process.exit(1));
  s.on("data", (d) => process.exit(String(d).startsWith("+PONG") || String(d).includes("NOAUTH") ? 0 : 1));
  s.on("error", () => process.exit(1));' "$REDIS_URL"; }

pg_up() { node -e '
  const net = require("net"); const u = new URL(process.argv[1]);
  const s = net.connect(Number(u.port || 5432), u.hostname, () => { s.end(); process.exit(0); });
  s.setTimeout(1000, () => process.exit(1)); s.on("error", () => process.exit(1));' "$DATABASE_URL"; }

wait_for() { for _ in $(seq 1 60); do "$1" && return 0; sleep 0.5; done; return 1; }

compose() { command -v docker >/dev/null 2>&1 && docker compose -f "$here/docker-compose.yml" up -d "$1" >/dev/null 2>&1; }

if ! redis_up; then
  if is_local "$REDIS_URL"; then
    if command -v redis-server >/dev/null 2>&1; then
      redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --maxmemory-policy noeviction >/dev/null
    else
      compose redis
    fi
  fi
  wait_for redis_up || { echo "Redis is not reachable at $REDIS_URL: install redis-server or Docker, or set REDIS_URL to a running Redis." >&2; exit 1; }
fi

if ! pg_up; then
  if is_local "$DATABASE_URL"; then
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start >/dev/null 2>&1 || true
    elif command -v pg_ctl >/dev/null 2>&1 && [ -n "${PGDATA:-}" ]; then
      pg_ctl -D "$PGDATA" -l "$PGDATA/server.log" start >/dev/null 2>&1 || true
    else
      compose postgres
    fi
  fi
  wait_for pg_up || { echo "Postgres is not reachable at $DATABASE_URL: install PostgreSQL or Docker, or set DATABASE_URL to a running server." >&2; exit 1; }
fi
