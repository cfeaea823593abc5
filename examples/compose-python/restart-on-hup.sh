#!/bin/sh
# PID 1 of the dev container: runs the app as a child and restarts it on SIGHUP, so a live
# update restarts the process in tens of milliseconds instead of restarting the container
# (the image's label dev.tilt-lsp.restart-signal=SIGHUP tells tilt-lsp it may). When the app
# exits by itself, this exits with its code: a crash is still a crash.
pid=
hup=0
trap 'hup=1; [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null' HUP
trap '[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; wait "$pid"; exit 143' TERM INT
while :; do
    "$@" &
    pid=$!
    code=0
    wait "$pid" || code=$?
    # A trapped signal interrupts `wait`: wait again until the child is really gone.
    while kill -0 "$pid" 2>/dev/null; do wait "$pid" || code=$?; done
    if [ "$hup" = 1 ]; then
        hup=0
        continue
    fi
    exit "$code"
done
