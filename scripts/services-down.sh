#!/bin/bash
# Stops what services-up.sh started, by pid file only (never by process name, so nothing else on
# the machine is touched). Data (.ci-work/pg, the Rucio DB, images) is kept: the next
# services-up.sh restarts quickly. Pass --purge to delete .ci-work's service state as well.
#
# Why the zombie check: PID 1 here does not reap orphans, so a stopped daemon can linger as
# <defunct>; `kill -0` still succeeds on it, so pid_alive() reads /proc/PID/status instead.
set -uo pipefail
# shellcheck source=scripts/lib-services.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-services.sh"

if [ "$(id -u)" != 0 ]; then
  echo "ERROR: services-down.sh must run as root (the daemons run as root or postgres)" >&2
  exit 1
fi
t0=$(now)

stop_pid "Rucio server" "$(pid_from_file "$RUCIO_PIDFILE")"
rm -f "$RUCIO_PIDFILE"

stop_pid "moto S3" "$(pid_from_file "$MOTO_PIDFILE")"
rm -f "$MOTO_PIDFILE"

PG_BASE=$(pg_base_dir)
if [ -f "$PG_BASE/data/postmaster.pid" ]; then
  pg_pid=$(head -n1 "$PG_BASE/data/postmaster.pid" | tr -dc '0-9')
  if pid_alive "$pg_pid"; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_BASE/data" -m fast -w -t 30 stop >/dev/null 2>&1 \
      || stop_pid "PostgreSQL" "$pg_pid"
    log "PostgreSQL (pid $pg_pid) stopped"
  fi
fi

stop_pid "podman service" "$(pid_from_file "$PODMAN_PIDFILE")"
rm -f "$PODMAN_PIDFILE" "$PODMAN_SOCK"

# dockerd stops its own containerd; give it time to stop running containers first.
stop_pid "dockerd" "$(pid_from_file "$DOCKER_PIDFILE")" 40
rm -f "$DOCKER_PIDFILE"

if [ "${1:-}" = --purge ]; then
  rm -rf "$PG_BASE" "$WORK/pg" "$WORK/pg-location" "$RUCIO_HOME" "$ENV_FILE" "$WORK/busybox-rootfs.tar"
  log "purged service state under $WORK"
else
  rm -f "$ENV_FILE"
fi
elapsed "services-down total" "$t0"
