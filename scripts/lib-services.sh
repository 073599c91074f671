# shellcheck shell=bash
# Helpers sourced by services-up.sh, services-down.sh and test.sh.
#
# Why a shared file: the up and down scripts must agree on every path, port and pid file, and
# the machine has quirks (no systemd, PID 1 does not reap zombies) that each of them has to
# handle the same way.

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$REPO/.ci-work"
ENV_FILE="$WORK/services.env"
RUCIO_HOME="$WORK/rucio"
RUCIO_VENV="$WORK/venv-rucio"
RUCIO_CFG="$RUCIO_HOME/rucio.cfg"
RUCIO_PORT=18088
MOTO_PORT=5000
PG_PORT=55432
PG_BIN=/usr/lib/postgresql/15/bin
DOCKER_SOCK=/run/docker.sock
DOCKER_PIDFILE=/run/dockerd.pid
PODMAN_SOCK=/run/podman/podman.sock
PODMAN_PIDFILE=/run/podman/execbroker-service.pid
MOTO_PIDFILE="$WORK/moto.pid"
RUCIO_PIDFILE="$WORK/rucio-server.pid"
TEST_IMAGE=localhost/busybox:test
LOGDIR="$WORK/logs"

# The throwaway PostgreSQL cluster lives in .ci-work/pg, but the postgres user must be able to reach
# it: a clone under /root (mode 700) is not traversable, so fall back to a directory of its own.
pg_base_dir() {
  if [ -f "$WORK/pg-location" ]; then cat "$WORK/pg-location"; return; fi
  echo "$WORK/pg"
}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

now() { date +%s.%N; }

# Prints "STEP took N.NN s" so that CI logs show where the time goes.
elapsed() { # name start
  awk -v a="$2" -v b="$(now)" -v n="$1" 'BEGIN { printf "[timing] %-28s %6.2f s\n", n, b - a }'
}

# kill -0 succeeds on a zombie, and zombies are common here (PID 1 does not reap), so "alive"
# means: the /proc entry exists and its state is not Z.
pid_alive() {
  local pid="$1"
  [ -n "$pid" ] && [ -d "/proc/$pid" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null
}

pid_from_file() { [ -s "$1" ] && tr -dc '0-9' < "$1" || true; }

# Retries a probe command until it succeeds or the deadline (seconds) passes.
wait_for() { # seconds command...
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}

fail_with_log() { # message logfile
  echo "ERROR: $1" >&2
  if [ -f "$2" ]; then echo "---- last 40 lines of $2 ----" >&2; tail -n 40 "$2" >&2; fi
  exit 1
}

# Readiness probes, shared by the up script, the non-root check and test.sh.
docker_ready() { [ "$(curl -s -m 3 --unix-socket "$DOCKER_SOCK" http://d/_ping 2>/dev/null)" = OK ]; }
podman_ready() { [ "$(curl -s -m 3 --unix-socket "$PODMAN_SOCK" http://d/_ping 2>/dev/null)" = OK ]; }
pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2; }
moto_ready() { curl -sf -m 3 -o /dev/null "http://127.0.0.1:$MOTO_PORT/"; }
rucio_ready() { curl -sf -m 3 -o /dev/null "http://127.0.0.1:$RUCIO_PORT/ping"; }

# Stops a process by pid and waits for it to be gone (or a zombie); SIGKILL after the timeout.
stop_pid() { # name pid [seconds]
  local name="$1" pid="$2" secs="${3:-20}" i
  if ! pid_alive "$pid"; then return 0; fi
  kill "$pid" 2>/dev/null || true
  for ((i = 0; i < secs * 5; i++)); do
    pid_alive "$pid" || { log "$name (pid $pid) stopped"; return 0; }
    sleep 0.2
  done
  log "$name (pid $pid) ignored SIGTERM for ${secs}s: sending SIGKILL"
  kill -9 "$pid" 2>/dev/null || true
  sleep 0.5
}
