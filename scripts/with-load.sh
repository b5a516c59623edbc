#!/bin/sh
# scripts/with-load.sh N COMMAND... - runs COMMAND with N busy-looping
# processes beside it (a machine busy with another build), then stops them,
# also when COMMAND fails or is interrupted. Exits with COMMAND's status.
set -u
if [ $# -lt 2 ]; then
  echo "usage: $0 N COMMAND..." >&2
  exit 2
fi
n=$1
shift
pids=
stop() { [ -z "$pids" ] || kill $pids 2>/dev/null; }
trap stop EXIT
trap 'exit 130' INT TERM
i=0
while [ "$i" -lt "$n" ]; do
  # nice 0: the hogs compete with the suite as another build would.
  sh -c 'while :; do :; done' &
  pids="$pids $!"
  i=$((i + 1))
done
echo "with-load: $n CPU hog(s) running (pids$pids)" >&2
"$@"
status=$?
echo "with-load: the command exited with status $status" >&2
exit $status
