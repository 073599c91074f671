#!/bin/bash
# Installs (when missing) and starts, on loopback only, the real backends the test suite drives:
# dockerd, the podman Docker-compatible service, a throwaway PostgreSQL 15 cluster, a moto S3
# server and a Rucio server with a posix RSE. Writes .ci-work/services.env for test.sh and pytest.
#
# Why a script rather than pytest fixtures that start daemons: the machine has no systemd and its
# PID 1 does not reap zombies, so daemons are started once per machine, checked for readiness and
# reused by every test run (and by every developer working in the same checkout).
# Idempotent: every step first probes whether its service already answers.
# As non-root it only checks that everything is already up (exit 1 otherwise).
# Follows /work/shared/docs/backends.md (sections 2, 5, 6 and 7).
set -euo pipefail
# shellcheck source=scripts/lib-services.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-services.sh"

T_TOTAL=$(now)
mkdir -p "$WORK" "$LOGDIR"
export DEBIAN_FRONTEND=noninteractive
export DOCKER_HOST="unix://$DOCKER_SOCK"

write_env_file() {
  local tmp="$ENV_FILE.tmp"
  cat > "$tmp" <<EOF
# Written by scripts/services-up.sh; source it before running pytest.
export DOCKER_HOST=unix://$DOCKER_SOCK
export EXECBROKER_TEST_DOCKER_HOST=unix://$DOCKER_SOCK
export EXECBROKER_TEST_PODMAN_HOST=unix://$PODMAN_SOCK
export EXECBROKER_TEST_IMAGE=$TEST_IMAGE
export EXECBROKER_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/postgres
export EXECBROKER_TEST_S3_URL=http://127.0.0.1:$MOTO_PORT
export EXECBROKER_TEST_RUCIO_CFG=$RUCIO_CFG
export EXECBROKER_TEST_RUCIO_URL=http://127.0.0.1:$RUCIO_PORT
export EXECBROKER_TEST_RUCIO_PYTHON=$RUCIO_VENV/bin/python
export EXECBROKER_TEST_RUCIO_RSE=LOCAL_POSIX
export EXECBROKER_TEST_RUCIO_ACCOUNT=root
export EXECBROKER_TEST_RUCIO_USER=ddmlab
export EXECBROKER_TEST_RUCIO_PASSWORD=secret
EOF
  mv "$tmp" "$ENV_FILE"
}

# ---------------------------------------------------------------- non-root: check only
if [ "$(id -u)" != 0 ]; then
  down=()
  docker_ready || down+=("dockerd ($DOCKER_SOCK)")
  podman_ready || down+=("podman service ($PODMAN_SOCK)")
  pg_ready || down+=("PostgreSQL (127.0.0.1:$PG_PORT)")
  moto_ready || down+=("moto S3 (127.0.0.1:$MOTO_PORT)")
  rucio_ready || down+=("Rucio (127.0.0.1:$RUCIO_PORT)")
  if [ ${#down[@]} -eq 0 ] && [ -f "$ENV_FILE" ]; then
    log "not root, but every service already answers: using $ENV_FILE"
    exit 0
  fi
  echo "ERROR: services-up.sh must run as root to install and start the test backends" >&2
  echo "       (apt-get install, dockerd, podman and a postgres-owned cluster need root)." >&2
  echo "       Not answering: ${down[*]:-none} ${ENV_FILE##*/}: $([ -f "$ENV_FILE" ] && echo present || echo missing)" >&2
  echo "       Run 'sudo bash scripts/services-up.sh' once, then rerun this command." >&2
  exit 1
fi

# ---------------------------------------------------------------- packages
install_missing_packages() {
  local t0 need=()
  t0=$(now)
  command -v dockerd >/dev/null || need+=(docker.io)
  command -v containerd >/dev/null || need+=(containerd)
  command -v runc >/dev/null || need+=(runc)
  command -v podman >/dev/null || need+=(podman)
  dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || need+=(busybox-static)
  { [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/postgres" ] && [ -x "$PG_BIN/pg_isready" ]; } || need+=(postgresql)
  command -v curl >/dev/null || need+=(curl)
  python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
  if [ ${#need[@]} -eq 0 ]; then
    log "all system packages present (docker.io containerd runc podman busybox-static postgresql curl)"
    elapsed "apt packages (none needed)" "$t0"
    return
  fi
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    # Without it Debian's maintainer scripts would start dockerd/postgresql themselves.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
  fi
  log "apt-get install ${need[*]}"
  apt-get update -q >"$LOGDIR/apt-update.log" 2>&1 || fail_with_log "apt-get update failed" "$LOGDIR/apt-update.log"
  elapsed "apt-get update" "$t0"
  local t1
  t1=$(now)
  apt-get install -y -q --no-install-recommends "${need[@]}" >"$LOGDIR/apt-install.log" 2>&1 \
    || fail_with_log "apt-get install ${need[*]} failed" "$LOGDIR/apt-install.log"
  elapsed "apt-get install (${#need[@]} pkgs)" "$t1"
}

# ---------------------------------------------------------------- test image rootfs
# A registry-free image: Debian's static busybox plus applet links, imported into both engines.
build_rootfs_tar() {
  local tar="$WORK/busybox-rootfs.tar" r a
  [ -s "$tar" ] && return
  r=$(mktemp -d)
  mkdir -p "$r/bin" "$r/etc" "$r/proc" "$r/dev" "$r/sys" "$r/root" "$r/var/www"
  install -d -m 1777 "$r/tmp"
  cp /bin/busybox "$r/bin/busybox"
  local have
  have=" $(/bin/busybox --list | tr '\n' ' ') "
  for a in sh echo sleep cat ls id env wc md5sum sha256sum head tail test true false grep httpd nc \
           mkdir rm cp mv touch printf date seq tr sed dd stat kill ps; do
    if [[ "$have" == *" $a "* ]]; then ln -s busybox "$r/bin/$a"; else log "busybox lacks applet $a"; fi
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$r/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$r/etc/group"
  tar -C "$r" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
  rm -rf "$r"
}

# ---------------------------------------------------------------- dockerd
start_dockerd() {
  local t0 pid
  t0=$(now)
  if docker_ready; then
    log "dockerd already answers on $DOCKER_SOCK"
  else
    pid=$(pid_from_file "$DOCKER_PIDFILE")
    if ! pid_alive "$pid"; then
      # A pid file naming a dead or zombie process makes dockerd refuse to start, and a stale
      # containerd pid file naming a zombie would make it wait for a containerd that is gone.
      rm -f "$DOCKER_PIDFILE"
      local cpid
      cpid=$(pid_from_file /run/docker/containerd/containerd.pid)
      [ -n "$cpid" ] && ! pid_alive "$cpid" && rm -f /run/docker/containerd/containerd.pid
      setsid dockerd --host "unix://$DOCKER_SOCK" --bridge=none --iptables=false --ip6tables=false \
        --ip-masq=false --pidfile "$DOCKER_PIDFILE" \
        --default-ulimit nofile=20000:20000 --default-ulimit nproc=32768:32768 \
        </dev/null >"$LOGDIR/dockerd.log" 2>&1 &
    fi
    wait_for 60 docker_ready || fail_with_log "dockerd did not answer _ping within 60 s" "$LOGDIR/dockerd.log"
    log "dockerd up (pid $(pid_from_file "$DOCKER_PIDFILE"))"
  fi
  elapsed "dockerd start" "$t0"
  t0=$(now)
  if ! docker image inspect "$TEST_IMAGE" >/dev/null 2>&1; then
    docker import --change 'ENV PATH=/bin' --change 'CMD ["/bin/sh"]' \
      "$WORK/busybox-rootfs.tar" "$TEST_IMAGE" >/dev/null
  fi
  [ "$(docker run --rm --network none "$TEST_IMAGE" echo docker-ok 2>&1)" = docker-ok ] \
    || fail_with_log "docker run $TEST_IMAGE failed" "$LOGDIR/dockerd.log"
  elapsed "docker image + smoke run" "$t0"
}

# ---------------------------------------------------------------- podman
start_podman() {
  local t0 pid
  t0=$(now)
  mkdir -p /etc/containers /run/podman
  # crun fails on this hybrid cgroup layout and the default ulimits exceed the hard limits;
  # netns "none" keeps podman from creating its private-range CNI bridge (backends.md section 2).
  cat > /etc/containers/containers.conf <<'EOF'
# Written by execbroker scripts/services-up.sh (see shared/docs/backends.md, section 2).
[containers]
netns = "none"
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
  if podman_ready; then
    log "podman service already answers on $PODMAN_SOCK"
  else
    pid=$(pid_from_file "$PODMAN_PIDFILE")
    if ! pid_alive "$pid"; then
      rm -f "$PODMAN_SOCK"
      setsid podman system service --time=0 "unix://$PODMAN_SOCK" \
        </dev/null >"$LOGDIR/podman.log" 2>&1 &
      echo $! > "$PODMAN_PIDFILE"
    fi
    wait_for 60 podman_ready || fail_with_log "podman service did not answer _ping within 60 s" "$LOGDIR/podman.log"
    log "podman service up (pid $(pid_from_file "$PODMAN_PIDFILE"))"
  fi
  elapsed "podman service start" "$t0"
  t0=$(now)
  if ! podman image exists "$TEST_IMAGE"; then
    # The repository:tag form keeps the tag (the API's import ignores it, see backends.md).
    podman import -q --change 'ENV PATH=/bin' --change 'CMD ["/bin/sh"]' \
      "$WORK/busybox-rootfs.tar" "$TEST_IMAGE" >/dev/null
  fi
  [ "$(podman run --rm --pull=never "$TEST_IMAGE" echo podman-ok 2>&1)" = podman-ok ] \
    || fail_with_log "podman run $TEST_IMAGE failed" "$LOGDIR/podman.log"
  elapsed "podman image + smoke run" "$t0"
}

# ---------------------------------------------------------------- PostgreSQL
start_postgres() {
  local t0 base
  t0=$(now)
  if [ ! -f "$WORK/pg-location" ]; then
    install -d -o postgres -g postgres "$WORK/pg"
    if runuser -u postgres -- test -w "$WORK/pg"; then
      echo "$WORK/pg" > "$WORK/pg-location"
    else
      base="/var/lib/postgresql/execbroker-ci-$(printf %s "$REPO" | sha1sum | cut -c1-12)"
      log "postgres cannot reach $WORK/pg (parent not traversable): using $base"
      echo "$base" > "$WORK/pg-location"
    fi
  fi
  base=$(pg_base_dir)
  install -d -o postgres -g postgres "$base"
  if pg_ready; then
    log "PostgreSQL already answers on 127.0.0.1:$PG_PORT"
    elapsed "postgres start" "$t0"
    return
  fi
  local stale
  stale=$(head -n1 "$base/data/postmaster.pid" 2>/dev/null | tr -dc '0-9' || true)
  if [ -n "$stale" ] && ! pid_alive "$stale"; then
    # postgres treats a zombie's pid as a running postmaster and would refuse to start.
    rm -f "$base/data/postmaster.pid"
  fi
  if [ ! -f "$base/data/PG_VERSION" ]; then
    rm -rf "$base/data"
    runuser -u postgres -- "$PG_BIN/initdb" -D "$base/data" -U postgres -A trust --no-sync -E UTF8 \
      --locale=C.UTF-8 >"$LOGDIR/initdb.log" 2>&1 || fail_with_log "initdb failed" "$LOGDIR/initdb.log"
    elapsed "postgres initdb" "$t0"
  fi
  # No unix socket: clone paths can exceed the 107-byte socket path limit, and tests use TCP.
  # (One line: pg_ctl hands these options to a shell, where a newline would end the command.)
  local pg_opts="-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off"
  pg_opts+=" -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$base/data" -l "$base/server.log" -w -t 60 \
    -o "$pg_opts" start \
    >"$LOGDIR/pg_ctl.log" 2>&1 || fail_with_log "pg_ctl start failed (see also $base/server.log)" "$base/server.log"
  wait_for 30 pg_ready || fail_with_log "pg_isready failed on 127.0.0.1:$PG_PORT" "$base/server.log"
  log "PostgreSQL up on 127.0.0.1:$PG_PORT (data in $base/data)"
  elapsed "postgres start" "$t0"
}

# ---------------------------------------------------------------- moto S3
start_moto() {
  local t0 pid
  t0=$(now)
  if [ ! -x "$REPO/.venv/bin/moto_server" ]; then
    bash "$REPO/scripts/ensure-venv.sh"
  fi
  if moto_ready; then
    log "moto S3 already answers on 127.0.0.1:$MOTO_PORT"
  else
    pid=$(pid_from_file "$MOTO_PIDFILE")
    if ! pid_alive "$pid"; then
      setsid "$REPO/.venv/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" </dev/null >"$LOGDIR/moto.log" 2>&1 &
      echo $! > "$MOTO_PIDFILE"
    fi
    wait_for 60 moto_ready || fail_with_log "moto_server did not answer within 60 s" "$LOGDIR/moto.log"
    log "moto S3 up on 127.0.0.1:$MOTO_PORT (pid $(pid_from_file "$MOTO_PIDFILE"))"
  fi
  elapsed "moto S3 start" "$t0"
}

# ---------------------------------------------------------------- Rucio
start_rucio() {
  local t0 pid
  t0=$(now)
  local version="${EXECBROKER_RUCIO_VERSION:-41.5.1}"
  # Checked by metadata: importing the server modules needs RUCIO_CONFIG, which is written below.
  if ! "$RUCIO_VENV/bin/python" -c "import importlib.metadata as m; assert m.version('rucio') == '$version'" \
       2>/dev/null; then
    log "pip install rucio==$version into $RUCIO_VENV"
    [ -x "$RUCIO_VENV/bin/python" ] || python3 -m venv "$RUCIO_VENV"
    "$RUCIO_VENV/bin/python" -m pip install -q --disable-pip-version-check "rucio==$version" \
      >"$LOGDIR/pip-rucio.log" 2>&1 || fail_with_log "pip install rucio failed" "$LOGDIR/pip-rucio.log"
    elapsed "rucio pip install" "$t0"
  else
    log "rucio already installed in $RUCIO_VENV"
  fi
  mkdir -p "$RUCIO_HOME/log" "$RUCIO_HOME/trace" "$RUCIO_HOME/rse"
  # 'traces' stays out of [api] endpoints: it would need ActiveMQ brokers (backends.md section 7).
  cat > "$RUCIO_CFG" <<EOF
[common]
logdir = $RUCIO_HOME/log
loglevel = INFO
[database]
default = sqlite:///$RUCIO_HOME/rucio.db
[api]
endpoints = accounts, auth, config, credentials, dids, export, heartbeats, identities, import, lifetime_exceptions, locks, meta_conventions, ping, redirect, replicas, requests, rses, rules, scopes, subscriptions, vos
[trace]
tracedir = $RUCIO_HOME/trace
[bootstrap]
userpass_identity = ddmlab
userpass_pwd = secret
[client]
rucio_host = http://127.0.0.1:$RUCIO_PORT
auth_host = http://127.0.0.1:$RUCIO_PORT
auth_type = userpass
username = ddmlab
password = secret
account = root
request_retries = 1
EOF
  export RUCIO_CONFIG="$RUCIO_CFG"
  local t1
  t1=$(now)
  if [ ! -f "$RUCIO_HOME/bootstrapped" ]; then
    rm -f "$RUCIO_HOME/rucio.db"
    "$RUCIO_VENV/bin/python" - >"$LOGDIR/rucio-bootstrap.log" 2>&1 <<'EOF' || fail_with_log "rucio DB bootstrap failed" "$LOGDIR/rucio-bootstrap.log"
from rucio.db.sqla import models
from rucio.db.sqla.session import get_engine
from rucio.db.sqla.util import create_base_vo, create_root_account

models.register_models(get_engine())
create_base_vo()
create_root_account()
EOF
    touch "$RUCIO_HOME/bootstrapped"
    elapsed "rucio DB bootstrap" "$t1"
  fi
  t1=$(now)
  if rucio_ready; then
    log "Rucio already answers on 127.0.0.1:$RUCIO_PORT"
  else
    pid=$(pid_from_file "$RUCIO_PIDFILE")
    if ! pid_alive "$pid"; then
      setsid "$RUCIO_VENV/bin/python" -c "
from werkzeug.serving import run_simple
from rucio.web.rest.flaskapi.v1.main import application
run_simple('127.0.0.1', $RUCIO_PORT, application, threaded=True)" </dev/null >"$LOGDIR/rucio-server.log" 2>&1 &
      echo $! > "$RUCIO_PIDFILE"
    fi
    wait_for 90 rucio_ready || fail_with_log "Rucio server did not answer /ping within 90 s" "$LOGDIR/rucio-server.log"
    log "Rucio up on 127.0.0.1:$RUCIO_PORT (pid $(pid_from_file "$RUCIO_PIDFILE"))"
  fi
  elapsed "rucio server start" "$t1"
  t1=$(now)
  RSE_PREFIX="$RUCIO_HOME/rse/" "$RUCIO_VENV/bin/python" - >"$LOGDIR/rucio-setup.log" 2>&1 <<'EOF' || fail_with_log "Rucio RSE/scope setup failed" "$LOGDIR/rucio-setup.log"
"""Idempotent: creates the posix RSE, its protocol, the scope and the account limit if absent."""
import os

from rucio.client import Client
from rucio.common.exception import RSEProtocolNotSupported

rse = "LOCAL_POSIX"
client = Client()
if rse not in {r["rse"] for r in client.list_rses()}:
    client.add_rse(rse)
try:
    have_protocol = bool(client.get_protocols(rse))
except RSEProtocolNotSupported:
    have_protocol = False
if not have_protocol:
    both = {"read": 1, "write": 1, "delete": 1}
    client.add_protocol(rse, {
        "scheme": "file", "hostname": "localhost", "port": 0, "prefix": os.environ["RSE_PREFIX"],
        "impl": "rucio.rse.protocols.posix.Default", "domains": {"lan": both, "wan": both},
    })
scopes = {s if isinstance(s, str) else s.get("scope") for s in client.list_scopes()}
if "test" not in scopes:
    client.add_scope("root", "test")
client.set_local_account_limit("root", rse, 10**13)
print("rse", rse, "scopes", sorted(s for s in scopes if s))
EOF
  local who
  who=$("$RUCIO_VENV/bin/rucio" whoami 2>&1) || fail_with_log "rucio whoami failed: $who" "$LOGDIR/rucio-server.log"
  grep -q 'root' <<<"$who" || fail_with_log "rucio whoami did not name account root: $who" "$LOGDIR/rucio-server.log"
  elapsed "rucio RSE setup + whoami" "$t1"
}

install_missing_packages
build_rootfs_tar
start_dockerd
start_podman
start_postgres
start_moto
start_rucio
write_env_file
log "services up; environment in $ENV_FILE"
elapsed "services-up total" "$T_TOTAL"
