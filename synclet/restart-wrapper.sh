#!/bin/sh
# restart-wrapper.sh CMD [ARGS...]: run CMD, restart it on SIGHUP. POSIX sh, no other tools.
#
# What makes the synclet's `restart: process` reliable. Put it in the image and in front of the
# app, and label the container so the synclet knows it may signal instead of restarting:
#
#   COPY restart-wrapper.sh /usr/local/bin/restart-wrapper
#   LABEL dev.tilt-lsp.restart-signal=SIGHUP
#   ENTRYPOINT ["/usr/local/bin/restart-wrapper", "python3", "app.py"]
#
# SIGHUP: stop the app (SIGTERM, SIGKILL after RESTART_WRAPPER_GRACE seconds, default 5) and
# start it again. SIGTERM/SIGINT: stop the app and exit. When the app exits by itself (a crash
# after a bad save) the wrapper stays up and waits for the next SIGHUP: the container keeps its
# synced files and the next live update can fix and restart the app, with no rebuild (Tilt
# looped rebuilding on crashes, #5633). Run the container with `--init` (or `init: true`) so
# that orphans are reaped; the init forwards SIGHUP to the wrapper.
set -u

if [ "$#" -eq 0 ]; then
    echo "usage: restart-wrapper CMD [ARGS...]" >&2
    exit 2
fi

grace="${RESTART_WRAPPER_GRACE:-5}"
child=""
restart=0

start() {
    "$@" &
    child=$!
}

stop_child() {
    [ -n "$child" ] || return 0
    if kill -TERM "$child" 2>/dev/null; then
        # A watchdog kills an app that ignores SIGTERM. It is not waited for: it may still be
        # in its sleep (a subshell defers signals it inherited a trap for) and is harmless.
        (trap - HUP INT TERM; sleep "$grace"; kill -KILL "$child" 2>/dev/null) &
        killer=$!
        # wait returns early when another signal arrives: keep waiting until the app is gone,
        # so two apps never run at once (127: no longer our child, it was reaped).
        while :; do
            wait "$child" 2>/dev/null
            [ "$?" -eq 127 ] && break
            kill -0 "$child" 2>/dev/null || break
        done
        kill "$killer" 2>/dev/null
    fi
    child=""
}

trap 'restart=1' HUP
trap 'stop_child; exit 143' TERM
trap 'stop_child; exit 130' INT

start "$@"
while :; do
    if [ -n "$child" ]; then
        wait "$child"
        code=$?
    else
        sleep 1 &
        wait $!
    fi
    if [ "$restart" = 1 ]; then
        restart=0
        stop_child
        echo "restart-wrapper: restarting $1" >&2
        start "$@"
    elif [ -n "$child" ] && ! kill -0 "$child" 2>/dev/null; then
        echo "restart-wrapper: $1 exited with code $code; waiting for SIGHUP to start it again" >&2
        child=""
    fi
done
