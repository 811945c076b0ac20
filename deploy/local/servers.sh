#!/usr/bin/env bash
# Installs, starts, stops and reports the three servers the platform needs on this machine:
# PostgreSQL, RabbitMQ and ClickHouse, from Debian's packages, on 127.0.0.1 only, without
# systemd or Docker. Used by the AppHost, by the tests (Experiments.TestInfrastructure) and by CI.
#
# Every server runs as its own system user, with its data under one state folder, detached
# from the caller (its own session), so it outlives the process that started it.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: servers.sh COMMAND [SERVER...]

Commands:
  install            install the missing Debian packages (postgresql, rabbitmq-server,
                     clickhouse-server, clickhouse-client); no daemon is started by it
  start [SERVER...]  install if needed, then start the servers (default: all) and wait until
                     each answers; a server that already answers is reused
  stop [SERVER...]   stop the servers (default: all) that this script started
  restart [SERVER...]
  status             one line per server: name, port, running/stopped, pid
  env                print `export ConnectionStrings__...=...` lines to eval
  logs SERVER [-f]   print (or follow) a server's log
  rabbitmq-prune [REGEX] [--dry-run]
                     delete the RabbitMQ queues left behind by test platforms: names matching
                     REGEX (default: ingest queues of test databases and t_* queues, see below)
                     that have no consumer; and the virtual hosts of test processes that are
                     gone (tests-<pid>-<hex>); the server keeps running
  rabbitmq-vhost add|delete NAME
                     add a RabbitMQ virtual host (guest may use it) or delete it with all it
                     holds; the tests give each test process one, so that their queues never
                     meet the platform's ('/') or another test process's
  help               this text

Servers: postgres, rabbitmq, clickhouse.
A server whose ConnectionStrings__<server> variable is already set is the user's own: start
skips it and env prints that value.

Environment (defaults):
  EXPERIMENTS_STATE_DIR               /var/lib/experiments-local
  EXPERIMENTS_POSTGRES_PORT           54320  (user postgres, password postgres)
  EXPERIMENTS_RABBITMQ_PORT           56720  (user guest, password guest)
  EXPERIMENTS_RABBITMQ_DIST_PORT      56721
  EXPERIMENTS_EPMD_PORT               56722
  EXPERIMENTS_CLICKHOUSE_HTTP_PORT    58123  (user default, empty password)
  EXPERIMENTS_CLICKHOUSE_TCP_PORT     59000
  EXPERIMENTS_CLICKHOUSE_INTERSERVER_PORT 59009
  EXPERIMENTS_START_TIMEOUT           120    seconds to wait for a server to answer
EOF
}

STATE_DIR=${EXPERIMENTS_STATE_DIR:-/var/lib/experiments-local}
PG_PORT=${EXPERIMENTS_POSTGRES_PORT:-54320}
RABBIT_PORT=${EXPERIMENTS_RABBITMQ_PORT:-56720}
RABBIT_DIST_PORT=${EXPERIMENTS_RABBITMQ_DIST_PORT:-56721}
EPMD_PORT=${EXPERIMENTS_EPMD_PORT:-56722}
CH_HTTP_PORT=${EXPERIMENTS_CLICKHOUSE_HTTP_PORT:-58123}
CH_TCP_PORT=${EXPERIMENTS_CLICKHOUSE_TCP_PORT:-59000}
CH_INTERSERVER_PORT=${EXPERIMENTS_CLICKHOUSE_INTERSERVER_PORT:-59009}
START_TIMEOUT=${EXPERIMENTS_START_TIMEOUT:-120}
LOCK_TIMEOUT=${EXPERIMENTS_LOCK_TIMEOUT:-900}

ALL_SERVERS=(postgres rabbitmq clickhouse)
PACKAGES=(postgresql rabbitmq-server clickhouse-server clickhouse-client procps)
PG_BIN=/usr/lib/postgresql/15/bin
RABBIT_BIN=/usr/lib/rabbitmq/bin
RABBIT_NODE=experiments@localhost

log() { printf '[servers] %s\n' "$*" >&2; }
die() { printf '[servers] error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Per-server facts
# ---------------------------------------------------------------------------------------------

server_port() {
    case $1 in
        postgres) echo "$PG_PORT" ;;
        rabbitmq) echo "$RABBIT_PORT" ;;
        clickhouse) echo "$CH_HTTP_PORT" ;;
    esac
}

server_user() { echo "$1"; }   # each server runs as the system user of the same name

connection_string() {
    case $1 in
        postgres) echo "Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=postgres;Database=postgres" ;;
        rabbitmq) echo "amqp://guest:guest@127.0.0.1:$RABBIT_PORT/" ;;
        clickhouse) echo "Host=127.0.0.1;Port=$CH_HTTP_PORT;Username=default;Password=;Database=default" ;;
    esac
}

# The user's own server: ConnectionStrings__<name> set in the environment.
external_connection() {
    local var="ConnectionStrings__$1"
    printf '%s' "${!var:-}"
}

pid_file() { echo "$STATE_DIR/$1/server.pid"; }

log_files() {
    case $1 in
        postgres) echo "$STATE_DIR/postgres/postgres.log" ;;
        rabbitmq) echo "$STATE_DIR/rabbitmq/rabbitmq.log" ;;
        clickhouse) echo "$STATE_DIR/clickhouse/console.log $STATE_DIR/clickhouse/log/clickhouse-server.log" ;;
    esac
}

check_server_name() {
    case $1 in
        postgres | rabbitmq | clickhouse) ;;
        *) die "unknown server '$1' (expected: ${ALL_SERVERS[*]})" ;;
    esac
}

# ---------------------------------------------------------------------------------------------
# Probes: does the server really answer?
# ---------------------------------------------------------------------------------------------

probe_postgres() {
    PGPASSWORD=postgres PGCONNECT_TIMEOUT=2 "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres \
        -d postgres -XAtqc 'select 1' >/dev/null 2>&1
}

# Opens an AMQP 0-9-1 connection and expects the server's Connection.Start method frame (type 1).
probe_rabbitmq() {
    # shellcheck disable=SC2016 # expanded by the inner bash
    timeout 3 bash -c '
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "AMQP\x00\x00\x09\x01" >&3
        IFS= read -r -N 1 -t 2 frame_type <&3 || exit 1
        [[ $frame_type == $'"'"'\x01'"'"' ]]
    ' _ "$RABBIT_PORT" 2>/dev/null
}

probe_clickhouse() {
    # shellcheck disable=SC2016 # expanded by the inner bash
    timeout 3 bash -c '
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "GET /ping HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3
        grep -q "^Ok\." <&3
    ' _ "$CH_HTTP_PORT" 2>/dev/null
}

probe() { "probe_$1"; }

# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------

# True if the process exists and is not a zombie.
is_running() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

# Prints the pid recorded for a server if that process is alive and runs as the server's user.
live_pid() {
    local file pid
    file=$(pid_file "$1")
    [[ -r $file ]] || return 1
    pid=$(<"$file")
    [[ $pid =~ ^[0-9]+$ ]] && is_running "$pid" || return 1
    [[ $(stat -c %U "/proc/$pid" 2>/dev/null) == "$(server_user "$1")" ]] || return 1
    echo "$pid"
}

# Every process of a server, found by owner and working directory: each server is started in
# its own state folder and its children inherit it (PostgreSQL moves into its data folder,
# below it). This finds epmd and the leftovers of a killed run, whatever became of pid files.
server_processes() {
    local dir="$STATE_DIR/$1" pid cwd
    for pid in $(pgrep -u "$(server_user "$1")" 2>/dev/null); do
        cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || continue
        if [[ $cwd == "$dir" || $cwd == "$dir"/* ]]; then echo "$pid"; fi
    done
}

# Runs a command as a system user, in the server's state folder, detached in a new session,
# stdin from /dev/null, output appended to a log file, without our lock descriptor.
# Prints the new process's pid.
spawn_as() {
    local user=$1 logfile=$2
    shift 2
    cd "$STATE_DIR/$user"
    # In a non-interactive shell a background job is not a process-group leader, so setsid
    # calls setsid(2) in place and execs: $! is the daemon's own pid.
    setsid setpriv --reuid="$user" --regid="$user" --init-groups -- "$@" \
        </dev/null >>"$logfile" 2>&1 9>&- &
    echo $!
}

wait_until_answers() {
    local name=$1 pid=$2 started=$SECONDS
    while ! probe "$name"; do
        if ! is_running "$pid"; then
            fail_with_log "$name" "exited during startup"
        fi
        if ((SECONDS - started >= START_TIMEOUT)); then
            fail_with_log "$name" "did not answer on 127.0.0.1:$(server_port "$name") within ${START_TIMEOUT}s"
        fi
        sleep 0.2
    done
}

fail_with_log() {
    local name=$1 reason=$2 file
    {
        printf '[servers] error: %s %s. Last lines of its log:\n' "$name" "$reason"
        for file in $(log_files "$name"); do
            [[ -r $file ]] || continue
            printf -- '----- %s\n' "$file"
            tail -n 25 "$file"
        done
        printf -- '-----\n'
    } >&2
    exit 1
}

# Stops a server: a clean shutdown signal to the process we started, then TERM and at last
# KILL for whatever is left of it (epmd, or processes of a killed run).
stop_server() {
    local name=$1 pid waited=0 found='' signal
    local -a rest=()
    if pid=$(live_pid "$name"); then
        found=1
        case $name in
            postgres) kill -INT "$pid" 2>/dev/null || true ;;   # fast shutdown
            *) kill -TERM "$pid" 2>/dev/null || true ;;         # clean shutdown (beam, clickhouse)
        esac
        while is_running "$pid" && ((waited < 300)); do
            sleep 0.1
            waited=$((waited + 1))
        done
    fi
    for signal in TERM KILL; do
        mapfile -t rest < <(server_processes "$name")
        ((${#rest[@]} > 0)) || break
        found=1
        kill "-$signal" "${rest[@]}" 2>/dev/null || true
        for ((waited = 0; waited < 50; waited++)); do
            [[ -n $(server_processes "$name") ]] || break
            sleep 0.1
        done
    done
    rm -f "$(pid_file "$name")"
    if [[ -n $found ]]; then log "$name: stopped"; fi
}

# ---------------------------------------------------------------------------------------------
# install
# ---------------------------------------------------------------------------------------------

missing_packages() {
    local pkg
    for pkg in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed$' || echo "$pkg"
    done
}

cmd_install() {
    local missing
    mapfile -t missing < <(missing_packages)
    if ((${#missing[@]} == 0)); then
        log "packages: all installed"
        return 0
    fi
    [[ $EUID -eq 0 ]] || die "installing ${missing[*]} needs root"
    log "packages: installing ${missing[*]}"
    # Keep the packages' maintainer scripts from starting their own daemons.
    local policy=/usr/sbin/policy-rc.d created_policy=''
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        created_policy=1
    fi
    local rc=0
    {
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq &&
            apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}"
    } >&2 || rc=$?
    if [[ -n $created_policy ]]; then rm -f "$policy"; fi
    ((rc == 0)) || die "apt-get failed ($rc) installing ${missing[*]}"
    mapfile -t missing < <(missing_packages)
    ((${#missing[@]} == 0)) || die "still missing after install: ${missing[*]}"
    log "packages: installed"
}

# ---------------------------------------------------------------------------------------------
# start, one function per server; each runs with the state lock held
# ---------------------------------------------------------------------------------------------

prepare_dir() {   # prepare_dir OWNER DIR...
    local owner=$1
    shift
    mkdir -p "$@"
    chown "$owner:$owner" "$@"
    chmod 700 "$@"
}

start_postgres() {
    local dir="$STATE_DIR/postgres"
    local data="$dir/data" logfile="$dir/postgres.log"
    prepare_dir postgres "$dir" "$dir/run"
    if [[ ! -s $data/PG_VERSION ]]; then
        log "postgres: initializing $data"
        rm -rf "$data"
        prepare_dir postgres "$data"
        local pwfile="$dir/.pwfile"
        printf 'postgres\n' >"$pwfile"
        chown postgres:postgres "$pwfile"
        setpriv --reuid=postgres --regid=postgres --init-groups -- \
            "$PG_BIN/initdb" -D "$data" -U postgres --pwfile="$pwfile" --auth-local=trust \
            --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >>"$logfile" 2>&1 ||
            { rm -f "$pwfile"; fail_with_log postgres "initdb failed"; }
        rm -f "$pwfile"
    fi
    # Settings owned by this script, rewritten on every start so port changes apply.
    cat >"$data/experiments.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$dir/run'
max_connections = 300
synchronous_commit = off
logging_collector = off
EOF
    chown postgres:postgres "$data/experiments.conf"
    grep -q "^include_if_exists = 'experiments.conf'" "$data/postgresql.conf" ||
        echo "include_if_exists = 'experiments.conf'" >>"$data/postgresql.conf"
    # Lock files left by a killed server: their pid is gone, an unreaped zombie (which
    # PostgreSQL's own check takes for alive) or reused by another process. stop_server has
    # already ended every process of ours, and a live postmaster always runs in its data folder.
    local pid lockfile
    for lockfile in "$data/postmaster.pid" "$dir/run/.s.PGSQL.$PG_PORT.lock"; do
        [[ -r $lockfile ]] || continue
        pid=$(head -n 1 "$lockfile")
        if ! [[ $pid =~ ^[0-9]+$ ]] || ! is_running "$pid" ||
            [[ $(readlink "/proc/$pid/cwd" 2>/dev/null) != "$data" ]]; then
            rm -f "$lockfile"
        fi
    done
    pid=$(spawn_as postgres "$logfile" "$PG_BIN/postgres" -D "$data")
    echo "$pid" >"$(pid_file postgres)"
    wait_until_answers postgres "$pid"
}

start_rabbitmq() {
    local dir="$STATE_DIR/rabbitmq"
    local logfile="$dir/rabbitmq.log"
    prepare_dir rabbitmq "$dir" "$dir/mnesia" "$dir/log"
    cat >"$dir/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$RABBIT_PORT
loopback_users.guest = true
default_user = guest
default_pass = guest
log.console = true
log.console.level = info
log.file = false
EOF
    : >"$dir/enabled_plugins"
    echo '[].' >"$dir/enabled_plugins"
    chown rabbitmq:rabbitmq "$dir/rabbitmq.conf" "$dir/enabled_plugins"
    local -a env_vars=(
        HOME="$dir"
        ERL_EPMD_PORT="$EPMD_PORT"
        ERL_EPMD_ADDRESS=127.0.0.1
        RABBITMQ_NODENAME="$RABBIT_NODE"
        RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
        RABBITMQ_NODE_PORT="$RABBIT_PORT"
        RABBITMQ_DIST_PORT="$RABBIT_DIST_PORT"
        RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf"
        RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf"
        RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config"
        RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
        RABBITMQ_MNESIA_BASE="$dir/mnesia"
        RABBITMQ_LOG_BASE="$dir/log"
        RABBITMQ_PID_FILE="$dir/mnesia/rabbitmq.pid"
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    )
    # epmd first, on loopback and on our own port (stop_server ends it with the rest).
    local epmd_pid
    epmd_pid=$(spawn_as rabbitmq "$logfile" env "${env_vars[@]}" epmd -address 127.0.0.1 -port "$EPMD_PORT")
    echo "$epmd_pid" >"$dir/epmd.pid"
    local pid
    pid=$(spawn_as rabbitmq "$logfile" env "${env_vars[@]}" "$RABBIT_BIN/rabbitmq-server")
    echo "$pid" >"$(pid_file rabbitmq)"
    wait_until_answers rabbitmq "$pid"
}

start_clickhouse() {
    local dir="$STATE_DIR/clickhouse"
    prepare_dir clickhouse "$dir" "$dir/data" "$dir/tmp" "$dir/log" "$dir/run" "$dir/format_schemas"
    cat >"$dir/config.xml" <<EOF
<?xml version="1.0"?>
<!-- Written by deploy/local/servers.sh on every start: edit the script, not this file. -->
<yandex>
    <logger>
        <level>information</level>
        <log>$dir/log/clickhouse-server.log</log>
        <errorlog>$dir/log/clickhouse-server.err.log</errorlog>
        <size>100M</size>
        <count>3</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>$CH_HTTP_PORT</http_port>
    <tcp_port>$CH_TCP_PORT</tcp_port>
    <interserver_http_port>$CH_INTERSERVER_PORT</interserver_http_port>
    <interserver_http_host>127.0.0.1</interserver_http_host>
    <max_connections>4096</max_connections>
    <keep_alive_timeout>10</keep_alive_timeout>
    <max_concurrent_queries>100</max_concurrent_queries>
    <uncompressed_cache_size>8589934592</uncompressed_cache_size>
    <mark_cache_size>1073741824</mark_cache_size>
    <path>$dir/data/</path>
    <tmp_path>$dir/tmp/</tmp_path>
    <user_files_path>$dir/data/user_files/</user_files_path>
    <format_schema_path>$dir/format_schemas/</format_schema_path>
    <users_config>$dir/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
    <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
    <max_session_timeout>3600</max_session_timeout>
    <default_session_timeout>60</default_session_timeout>
    <max_table_size_to_drop>0</max_table_size_to_drop>
    <max_partition_size_to_drop>0</max_partition_size_to_drop>
</yandex>
EOF
    cat >"$dir/users.xml" <<EOF
<?xml version="1.0"?>
<!-- Written by deploy/local/servers.sh on every start: edit the script, not this file. -->
<yandex>
    <profiles>
        <default>
            <max_memory_usage>10000000000</max_memory_usage>
            <use_uncompressed_cache>0</use_uncompressed_cache>
            <load_balancing>random</load_balancing>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks>
                <ip>127.0.0.1</ip>
                <ip>::1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
EOF
    chown clickhouse:clickhouse "$dir/config.xml" "$dir/users.xml"
    : >>"$dir/console.log"
    chown clickhouse:clickhouse "$dir/console.log"
    # ClickHouse 18.16 refuses to start (silently) over a pid file of a dead process.
    rm -f "$dir/run/clickhouse-server.pid"
    local pid
    pid=$(spawn_as clickhouse "$dir/console.log" env HOME="$dir" \
        /usr/sbin/clickhouse-server --config-file="$dir/config.xml" --pid-file="$dir/run/clickhouse-server.pid")
    echo "$pid" >"$(pid_file clickhouse)"
    wait_until_answers clickhouse "$pid"
}

# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------

# Takes the state lock on descriptor 9 (released when this script exits).
take_lock() {
    mkdir -p "$STATE_DIR"
    chmod 755 "$STATE_DIR"
    exec 9>>"$STATE_DIR/.lock"
    if ! flock -w "$LOCK_TIMEOUT" 9; then
        die "timed out after ${LOCK_TIMEOUT}s waiting for $STATE_DIR/.lock (another servers.sh is busy)"
    fi
}

# Sets SELECTED to the named servers, or to all of them.
selected_servers() {
    local name
    SELECTED=("$@")
    (($# > 0)) || SELECTED=("${ALL_SERVERS[@]}")
    for name in "${SELECTED[@]}"; do check_server_name "$name"; done
}

cmd_start() {
    local -a todo=()
    local name
    selected_servers "$@"
    for name in "${SELECTED[@]}"; do
        if [[ -n $(external_connection "$name") ]]; then
            log "$name: ConnectionStrings__$name is set, using that server"
        elif [[ -z $(missing_packages) ]] && probe "$name"; then
            log "$name: already answering on 127.0.0.1:$(server_port "$name")"
        else
            todo+=("$name")
        fi
    done
    ((${#todo[@]} > 0)) || return 0

    [[ $EUID -eq 0 ]] || die "starting ${todo[*]} needs root (or set ConnectionStrings__<server> to your own server)"
    take_lock
    cmd_install

    # Start the ones still not answering (another servers.sh may have started them meanwhile),
    # in parallel: each in a subshell, its failure reported with its log.
    local -a pids=() names=()
    for name in "${todo[@]}"; do
        if probe "$name"; then
            log "$name: already answering on 127.0.0.1:$(server_port "$name")"
            continue
        fi
        (
            started=$SECONDS
            stop_server "$name" 2>/dev/null   # leftovers of a killed run, if any
            log "$name: starting on 127.0.0.1:$(server_port "$name")"
            "start_$name"
            log "$name: running (pid $(live_pid "$name" || echo '?')), answered after $((SECONDS - started))s"
        ) &
        pids+=($!)
        names+=("$name")
    done
    local i failed=()
    for i in "${!pids[@]}"; do
        wait "${pids[$i]}" || failed+=("${names[$i]}")
    done
    ((${#failed[@]} == 0)) || die "could not start: ${failed[*]}"
}

cmd_stop() {
    local name
    selected_servers "$@"
    [[ $EUID -eq 0 ]] || die "stop needs root"
    take_lock
    for name in "${SELECTED[@]}"; do
        stop_server "$name" &
    done
    wait
}

cmd_status() {
    local name pid state
    for name in "${ALL_SERVERS[@]}"; do
        pid=$(live_pid "$name" || echo -)
        if [[ -n $(external_connection "$name") ]]; then
            state=external
        elif probe "$name"; then
            state=running
        else
            state=stopped
        fi
        printf '%-11s 127.0.0.1:%-6s %-8s pid %s\n' "$name" "$(server_port "$name")" "$state" "$pid"
    done
}

cmd_env() {
    local name value
    for name in "${ALL_SERVERS[@]}"; do
        value=$(external_connection "$name")
        [[ -n $value ]] || value=$(connection_string "$name")
        # Single quotes: readable, eval-able, and easy to parse outside a shell (' is '\'').
        printf "export ConnectionStrings__%s='%s'\n" "$name" "${value//\'/\'\\\'\'}"
    done
}

cmd_logs() {
    (($# >= 1)) || die "usage: servers.sh logs SERVER [-f]"
    check_server_name "$1"
    local -a files=()
    local file
    for file in $(log_files "$1"); do
        [[ -r $file ]] && files+=("$file")
    done
    ((${#files[@]} > 0)) || die "no log for $1 yet"
    if [[ ${2:-} == -f ]]; then
        exec tail -n 50 -F "${files[@]}"
    fi
    tail -n 200 "${files[@]}"
}

# Test platforms name their queues for fresh test databases (t_<name>_<hex>): ingest-events-t_...,
# ingest-assignments-t_..., their _error queues, and older t_... queues.
PRUNE_DEFAULT_REGEX='^(ingest-(events|assignments)-)?t_[a-z0-9_]+$'

rabbitmqctl_as_server() {
    (cd "$STATE_DIR/rabbitmq" && setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups -- \
        env HOME="$STATE_DIR/rabbitmq" ERL_EPMD_PORT="$EPMD_PORT" "$RABBIT_BIN/rabbitmqctl" -q -n "$RABBIT_NODE" "$@")
}

cmd_rabbitmq_prune() {
    local regex=$PRUNE_DEFAULT_REGEX dry_run=0 arg
    for arg in "$@"; do
        case $arg in
            --dry-run) dry_run=1 ;;
            *) regex=$arg ;;
        esac
    done
    [[ $EUID -eq 0 ]] || die "rabbitmq-prune needs root"
    [[ -z $(external_connection rabbitmq) ]] || die "RabbitMQ is the user's own (ConnectionStrings__rabbitmq is set); prune it yourself"
    probe rabbitmq || die "RabbitMQ is not running (servers.sh start rabbitmq)"
    local listing name messages consumers deleted=0 kept=0
    listing=$(rabbitmqctl_as_server list_queues --no-table-headers name messages consumers) || die "rabbitmqctl list_queues failed"
    while IFS=$'\t' read -r name messages consumers; do
        [[ -n $name && $name =~ $regex ]] || continue
        if [[ $consumers != 0 ]]; then
            kept=$((kept + 1))
            continue
        fi
        if ((dry_run)); then
            printf 'would delete %s (%s messages)\n' "$name" "$messages"
        # </dev/null: rabbitmqctl would otherwise read (and swallow) the rest of the listing this loop reads.
        elif rabbitmqctl_as_server delete_queue --if-unused "$name" >/dev/null </dev/null; then
            printf 'deleted %s (%s messages)\n' "$name" "$messages"
        else
            log "could not delete $name (a consumer attached meanwhile?)"
            continue
        fi
        deleted=$((deleted + 1))
    done <<<"$listing"
    log "$((dry_run ? 0 : deleted)) queue(s) deleted$( ((dry_run)) && echo " ($deleted would be)"), $kept matching queue(s) with consumers kept (regex $regex)"

    # Virtual hosts of test processes (tests-<pid>-<hex>) whose process is gone.
    local vhosts vhost pid removed=0
    vhosts=$(rabbitmqctl_as_server list_vhosts --no-table-headers name) || die "rabbitmqctl list_vhosts failed"
    while read -r vhost; do
        [[ $vhost =~ ^tests-([0-9]+)-[0-9a-f]+$ ]] || continue
        pid=${BASH_REMATCH[1]}
        kill -0 "$pid" 2>/dev/null && continue
        if ((dry_run)); then
            printf 'would delete virtual host %s\n' "$vhost"
        elif rabbitmqctl_as_server delete_vhost "$vhost" >/dev/null </dev/null; then
            printf 'deleted virtual host %s\n' "$vhost"
        else
            log "could not delete virtual host $vhost"
            continue
        fi
        removed=$((removed + 1))
    done <<<"$vhosts"
    log "$((dry_run ? 0 : removed)) test virtual host(s) deleted$( ((dry_run)) && echo " ($removed would be)")"
}

cmd_rabbitmq_vhost() {
    local action=${1:-} name=${2:-}
    [[ ($action == add || $action == delete) && $name =~ ^[A-Za-z0-9_.-]+$ ]] || die "usage: servers.sh rabbitmq-vhost add|delete NAME"
    [[ $EUID -eq 0 ]] || die "rabbitmq-vhost needs root"
    [[ -z $(external_connection rabbitmq) ]] || die "RabbitMQ is the user's own (ConnectionStrings__rabbitmq is set)"
    probe rabbitmq || die "RabbitMQ is not running (servers.sh start rabbitmq)"
    if [[ $action == add ]]; then
        rabbitmqctl_as_server add_vhost "$name" >/dev/null </dev/null || die "rabbitmqctl add_vhost $name failed"
        rabbitmqctl_as_server set_permissions -p "$name" guest '.*' '.*' '.*' >/dev/null </dev/null \
            || die "rabbitmqctl set_permissions on $name failed"
    else
        rabbitmqctl_as_server delete_vhost "$name" >/dev/null </dev/null || die "rabbitmqctl delete_vhost $name failed"
    fi
}

main() {
    local command=${1:-help}
    (($# == 0)) || shift
    case $command in
        install)
            take_lock
            cmd_install
            ;;
        start) cmd_start "$@" ;;
        stop) cmd_stop "$@" ;;
        restart)
            cmd_stop "$@"
            exec 9>&-
            cmd_start "$@"
            ;;
        status) cmd_status ;;
        env) cmd_env ;;
        logs) cmd_logs "$@" ;;
        rabbitmq-prune) cmd_rabbitmq_prune "$@" ;;
        rabbitmq-vhost) cmd_rabbitmq_vhost "$@" ;;
        help | -h | --help) usage ;;
        *)
            usage >&2
            exit 2
            ;;
    esac
}

main "$@"
