#!/bin/sh
# restart-wrapper.sh CMD [ARGS...]: run CMD, restart it on SIGHUP. POSIX sh, no other tools
# (dash, BusyBox ash, bash).
#
# tilt-lsp adds this file to the images it builds when a docker_build's live_update restarts
# (restart_container(), or the restart_process extension), at /.tilt-lsp/restart-wrapper, in
# front of the image's own ENTRYPOINT and CMD, and labels the image
# dev.tilt-lsp.restart-signal=SIGHUP: a save then restarts the app inside the same container
# (tens of milliseconds) instead of restarting the container. By hand it goes like this:
#
#   COPY restart-wrapper.sh /usr/local/bin/restart-wrapper
#   LABEL dev.tilt-lsp.restart-signal=SIGHUP
#   ENTRYPOINT ["/usr/local/bin/restart-wrapper", "python3", "app.py"]
#
# SIGHUP: stop the app (SIGTERM, SIGKILL after RESTART_WRAPPER_GRACE seconds, default 5) and
# start it again. SIGTERM/SIGINT: stop the app and exit. As PID 1 it handles SIGTERM itself, so
# `docker stop` is quick even when the app alone (as PID 1) would ignore it. When the app exits
# by itself (a crash after a bad save) the wrapper stays up, says so in one line
# ("restart-wrapper: APP exited with code N; ..."), and waits for the next SIGHUP: the
# container keeps its synced files and the next live update can fix and restart the app, with
# no rebuild (Tilt looped rebuilding on crashes, #5633). Orphans the app leaves are reaped by
# the shell's own waits.
set -u

if [ "$#" -eq 0 ]; then
    echo "restart-wrapper: no command to run (the image has no ENTRYPOINT or CMD)" >&2
    exit 2
fi

grace="${RESTART_WRAPPER_GRACE:-5}"
child=""
restart=0
# A background job's stdin is /dev/null in a non-interactive shell: keep the real one on fd 3
# for the app (`docker run -i`, compose's stdin_open).
exec 3<&0

start() {
    "$@" 0<&3 3<&- &
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
