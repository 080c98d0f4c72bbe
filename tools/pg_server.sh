#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, in a directory of its own.
#   tools/pg_server.sh start DIR   initdb in DIR, start on 127.0.0.1 (a free port) and wait until
#                                  it accepts connections; prints one line, the admin URL:
#                                  postgresql://USER@127.0.0.1:PORT/postgres
#   tools/pg_server.sh stop DIR    stop it (fast) and remove DIR
# DIR must be missing or empty (e.g. from mktemp -d); its unix socket lives in DIR too, so keep
# DIR's path short (under /tmp). The server never runs as root: as root it runs as the
# `postgres` system user of Debian's postgresql package (DIR is handed to that user), otherwise
# as the current user. Trust authentication, local socket and 127.0.0.1 only; UTF8, locale C.
# Binaries: $PG_BIN if set, else the newest /usr/lib/postgresql/*/bin, else pg_ctl's on PATH.
set -euo pipefail

die() {
    echo "pg_server: $*" >&2
    exit 1
}

usage() {
    echo "usage: tools/pg_server.sh start DIR | tools/pg_server.sh stop DIR" >&2
    exit 2
}

MARKER=.pg_server  # written by `start`; `stop` removes only a directory that has it

find_bin() {
    if [ -n "${PG_BIN:-}" ]; then
        [ -x "$PG_BIN/postgres" ] || die "PG_BIN=$PG_BIN has no postgres binary"
        echo "$PG_BIN"
        return
    fi
    local newest
    newest=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 3 -path '*/bin/postgres' -type f \
                  2>/dev/null | sort -V | tail -n 1)
    if [ -n "$newest" ]; then
        dirname "$newest"
        return
    fi
    local ctl
    if ctl=$(command -v pg_ctl) && [ -x "$(dirname "$(readlink -f "$ctl")")/postgres" ]; then
        dirname "$(readlink -f "$ctl")"
        return
    fi
    die "no PostgreSQL server binaries (install Debian's package: apt-get install postgresql)"
}

# The user the server runs as, and how to run a command as that user.
if [ "$(id -u)" = 0 ]; then
    RUN_USER=postgres
    id -u "$RUN_USER" >/dev/null 2>&1 \
        || die "running as root needs the 'postgres' system user (apt-get install postgresql)"
    as_user() { (cd / && runuser -u "$RUN_USER" -- "$@"); }
else
    RUN_USER=$(id -un)
    as_user() { (cd / && "$@"); }
fi

free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

start() {
    local dir=$1
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd -P)
    [ -z "$(ls -A "$dir")" ] || die "$dir is not empty (start needs a fresh directory)"
    # The server's socket is $dir/.s.PGSQL.PORT; unix socket paths are limited to 107 bytes.
    [ "${#dir}" -le 80 ] || die "$dir is too long a path for the server's unix socket"
    local bin
    bin=$(find_bin)
    touch "$dir/$MARKER"
    if [ "$(id -u)" = 0 ]; then
        chown -R "$RUN_USER:" "$dir"
    fi
    as_user test -w "$dir" -a -x "$dir" \
        || die "user $RUN_USER cannot write $dir (is a parent directory private?)"

    local data=$dir/data log=$dir/server.log
    if ! as_user "$bin/initdb" -D "$data" -U "$RUN_USER" --auth=trust --encoding=UTF8 \
            --locale=C --no-instructions >"$dir/initdb.log" 2>&1; then
        tail -n 20 "$dir/initdb.log" >&2
        die "initdb failed (log above, full log in $dir/initdb.log)"
    fi
    as_user tee "$data/pg_hba.conf" >/dev/null <<'EOF'
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   127.0.0.1/32  trust
EOF
    echo "include = 'pg_server.conf'" | as_user tee -a "$data/postgresql.conf" >/dev/null

    # A port that was free a moment ago may be taken before the server binds it: try again.
    local port attempt started=
    for attempt in 1 2 3; do
        port=$(free_port)
        as_user tee "$data/pg_server.conf" >/dev/null <<EOF
# tools/pg_server.sh: a throwaway server for tests on a small machine
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 300
shared_buffers = 128MB
synchronous_commit = off
fsync = on
log_min_messages = warning
EOF
        if as_user "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null 2>&1 \
                && wait_ready "$bin" "$port"; then
            started=1
            break
        fi
        as_user "$bin/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
        grep -q 'could not bind\|Address already in use' "$log" 2>/dev/null || break
        echo "pg_server: port $port was taken meanwhile (attempt $attempt), trying another" >&2
    done
    if [ -z "$started" ]; then
        echo "--- tail of $log" >&2
        tail -n 30 "$log" >&2 2>/dev/null || true
        die "the server did not start (directory kept for inspection: $dir)"
    fi
    echo "$port" >"$dir/port"
    echo "postgresql://$RUN_USER@127.0.0.1:$port/postgres"
}

# Until the server accepts connections on 127.0.0.1:PORT, for at most 30 s.
wait_ready() {
    local bin=$1 port=$2 deadline=$((SECONDS + 30))
    until "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres -U "$RUN_USER" -t 2; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

stop() {
    local dir=$1
    [ -d "$dir" ] || return 0  # already gone: nothing to do
    [ -e "$dir/$MARKER" ] || die "$dir was not made by tools/pg_server.sh start; not removing it"
    local bin
    bin=$(find_bin)
    if [ -f "$dir/data/PG_VERSION" ] && as_user "$bin/pg_ctl" -D "$dir/data" status >/dev/null; then
        as_user "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null \
            || die "pg_ctl stop failed for $dir/data (left in place)"
    fi
    rm -rf "$dir"
}

[ "$#" = 2 ] || usage
case "$1" in
    start) start "$2" ;;
    stop) stop "$2" ;;
    *) usage ;;
esac
