#!/usr/bin/env bash
# Starts a single-node Slurm on loopback for ebmflow's sweep tests and CI.
#
# Usage: eval "$(scripts/slurm/start.sh)"      then    scripts/slurm/stop.sh
#
# Installs Debian's slurm-wlm and munge when they are missing (root; apt-get
# update first), writes a one-host slurm.conf (NodeName=localhost with the
# CPUs nproc reports, SlurmctldHost=localhost, no cgroups, no accounting)
# and every state, spool, log and pid file under $EBMFLOW_SLURM_DIR (default
# /tmp/ebmflow-slurm), starts munged (unless a munged already answers),
# slurmctld and slurmd, and waits until sinfo shows the node idle. Nothing
# is written outside that folder except /run/munge, munged's socket folder.
#
# stdout carries only the line to eval: export SLURM_CONF=DIR/slurm.conf.
# Progress and errors go to stderr. Running it again while the daemons are
# up prints the same line and changes nothing. stop.sh stops the daemons
# this script started, by the process ids it recorded.
set -euo pipefail

dir=${EBMFLOW_SLURM_DIR:-/tmp/ebmflow-slurm}
conf="$dir/slurm.conf"
say() { echo "slurm/start.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

if alive "$dir/slurmctld.pid" && alive "$dir/slurmd.pid" && SLURM_CONF="$conf" sinfo -h >/dev/null 2>&1; then
  say "already running (state in $dir)"
  echo "export SLURM_CONF=$conf"
  exit 0
fi

[ "$(id -u)" = 0 ] || die "needs root (to install packages and run slurmd)"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  say "installing slurm-wlm and munge"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >&2
fi

mkdir -p "$dir"/{state,spool,log}
chmod 755 "$dir"

# munge: reuse a munged that answers, else start our own with the
# installed key (creating one if the package did not).
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  say "using the munged already running"
  rm -f "$dir/munged.pid"
else
  if [ ! -s /etc/munge/munge.key ]; then
    say "creating /etc/munge/munge.key"
    mkdir -p /etc/munge
    if command -v mungekey >/dev/null; then
      mungekey --create --keyfile=/etc/munge/munge.key
    else
      dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    fi
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
  fi
  mkdir -p /run/munge "$dir/munge"
  chown munge:munge /run/munge "$dir/munge"
  chmod 755 /run/munge
  runuser -u munge -- munged --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" \
    --seed-file="$dir/munge/munged.seed" || die "munged did not start: $(tail -n 5 "$dir/munge/munged.log" 2>/dev/null)"
  for _ in $(seq 50); do
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
    sleep 0.1
  done
  munge -n | unmunge >/dev/null || die "munged does not answer: $(tail -n 5 "$dir/munge/munged.log")"
  cp "$dir/munge/munged.pid" "$dir/munged.pid"
fi

cpus=$(nproc)
cat >"$conf" <<EOF
# Written by ebmflow's scripts/slurm/start.sh: one node on loopback.
ClusterName=ebmflow
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
MinJobAge=30
KillWait=5
SlurmdTimeout=30
SlurmctldTimeout=30
InactiveLimit=0
Waittime=0
MaxArraySize=10001
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=2048 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$conf"

say "starting slurmctld"
slurmctld -c -f "$conf" || die "slurmctld did not start: $(tail -n 10 "$dir/log/slurmctld.log" 2>/dev/null)"
say "starting slurmd"
slurmd -N localhost -f "$conf" || die "slurmd did not start: $(tail -n 10 "$dir/log/slurmd.log" 2>/dev/null)"

state=
for _ in $(seq 120); do
  state=$(sinfo -h -n localhost -o %t 2>/dev/null || true)
  case "$state" in
    idle) break ;;
    down*|drain*) scontrol update nodename=localhost state=resume >/dev/null 2>&1 || true ;;
  esac
  sleep 0.5
done
if [ "$state" != idle ]; then
  say "node state is '${state:-unknown}' after 60 s"
  tail -n 10 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
  die "Slurm did not come up"
fi
say "node localhost idle with $cpus CPUs (state in $dir)"
echo "export SLURM_CONF=$conf"
