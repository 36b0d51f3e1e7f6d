#!/usr/bin/env bash
# Stops the Slurm that scripts/slurm/start.sh started: slurmd, slurmctld and
# (if start.sh started it) munged, each by the process id start.sh's daemons
# recorded under $EBMFLOW_SLURM_DIR (default /tmp/ebmflow-slurm). It leaves
# the folder's logs in place; -clean removes the folder afterwards.
# Usage: scripts/slurm/stop.sh [-clean]
set -uo pipefail

dir=${EBMFLOW_SLURM_DIR:-/tmp/ebmflow-slurm}
say() { echo "slurm/stop.sh: $*" >&2; }

stop() { # name pidfile
  local name=$1 pidfile=$2 pid
  [ -s "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    say "stopping $name ($pid)"
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      say "$name ($pid) ignored SIGTERM for 10 s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null
    fi
  fi
  rm -f "$pidfile"
}

stop slurmd "$dir/slurmd.pid"
stop slurmctld "$dir/slurmctld.pid"
stop munged "$dir/munged.pid"
if [ "${1:-}" = "-clean" ]; then
  rm -rf "$dir"
fi
exit 0
