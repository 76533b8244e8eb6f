#!/bin/bash
# A one-node Slurm cluster on this machine, for the test that submits s2d sweep's job array (CI runs it as root on
# Debian; no systemd or cgroups needed). Usage: scripts/slurm-one-node.sh up|down|test. Every command can be rerun.
# It writes /etc/slurm/slurm.conf; short credential expiry and scheduler intervals make a requeued task restart in
# seconds rather than minutes. On a machine with a Slurm of its own (a slurm.conf this script did not write) it
# changes nothing: it uses that cluster if its controller answers, and fails otherwise. `down` stops only the
# daemons `up` started.
set -euo pipefail
SLURM_DIR=${SLURM_DIR:-/tmp/s2d-slurm}
H=$(hostname -s)
NCPU=$(nproc)
STARTED=$SLURM_DIR/started # the daemons up started, one name a line
# The configuration is this script's when it keeps its state in SLURM_DIR (as every version of it wrote).
ours() { [ ! -e /etc/slurm/slurm.conf ] || grep -qx "StateSaveLocation=$SLURM_DIR/state" /etc/slurm/slurm.conf; }

up() {
  # 1. packages (~7 s with warm apt lists; run `apt-get update` first on a fresh image)
  if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      slurmctld slurmd slurm-client munge
  fi
  if ! ours; then
    if scontrol ping 2>/dev/null | grep -q UP; then echo "slurm: this machine's own cluster answers; using it as it is"; return 0; fi
    echo "slurm: /etc/slurm/slurm.conf is not this script's and its controller does not answer; not touching it" >&2
    return 1
  fi
  # No slurm.conf but a controller that answers (a configless node of a real cluster): that cluster, as it is.
  if [ ! -e /etc/slurm/slurm.conf ] && scontrol ping 2>/dev/null | grep -q UP; then echo "slurm: this machine's own cluster answers; using it as it is"; return 0; fi
  mkdir -p "$SLURM_DIR"
  # 2. munge: key (postinst normally creates it), socket dir (/run/munge is NOT created without systemd)
  if [ ! -s /etc/munge/munge.key ]; then
    install -d -o munge -g munge -m 0700 /etc/munge
    mungekey --create --keyfile=/etc/munge/munge.key --force
  fi
  chown munge:munge /etc/munge/munge.key; chmod 0400 /etc/munge/munge.key
  install -d -o munge -g munge -m 0755 /run/munge
  if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    su -s /bin/sh munge -c munged && echo munged >> "$STARTED"
    for _ in $(seq 20); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.25; done
  fi
  # 3. slurm.conf
  mkdir -p "$SLURM_DIR"/state "$SLURM_DIR"/spool "$SLURM_DIR"/log
  cat > /etc/slurm/slurm.conf <<EOF
ClusterName=ci
SlurmctldHost=$H(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=cred_expire=10
SchedulerParameters=sched_interval=2,bf_interval=1
StateSaveLocation=$SLURM_DIR/state
SlurmdSpoolDir=$SLURM_DIR/spool
SlurmctldPidFile=$SLURM_DIR/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/slurmd.pid
SlurmctldLogFile=$SLURM_DIR/log/slurmctld.log
SlurmdLogFile=$SLURM_DIR/log/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
NodeName=$H NodeAddr=127.0.0.1 CPUs=$NCPU RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=$H Default=YES MaxTime=INFINITE State=UP
EOF
  # 4. daemons (they daemonize themselves; pgrep -x matches the exact process name)
  # -c: a clean start, without the jobs a killed earlier run left in the state folder.
  pgrep -x slurmctld >/dev/null || { slurmctld -c && echo slurmctld >> "$STARTED"; }
  pgrep -x slurmd    >/dev/null || { slurmd && echo slurmd >> "$STARTED"; }
  for _ in $(seq 60); do
    st=$(sinfo -h -n "$H" -o %T 2>/dev/null || true)
    [ "$st" = idle ] && { echo "slurm up: node $H idle"; return 0; }
    case "$st" in down*|drain*) scontrol update nodename="$H" state=resume 2>/dev/null || true;; esac
    sleep 1
  done
  echo "slurm did not come up (state='$st')" >&2
  tail -n 20 "$SLURM_DIR"/log/*.log >&2
  return 1
}

down() {
  [ -s "$STARTED" ] || return 0 # nothing of ours runs: a cluster that was up before is left alone
  if grep -qx -e slurmctld -e slurmd "$STARTED"; then
    scontrol shutdown 2>/dev/null || true          # stops slurmctld and slurmd
    for _ in $(seq 20); do pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null || break; sleep 0.5; done
    for p in "$SLURM_DIR"/slurmctld.pid "$SLURM_DIR"/slurmd.pid; do   # fallback
      [ -s "$p" ] && kill "$(cat "$p")" 2>/dev/null || true
    done
  fi
  if grep -qx munged "$STARTED"; then
    [ -S /run/munge/munge.socket.2 ] && su -s /bin/sh munge -c 'munged --stop' 2>/dev/null || true
  fi
  rm -f "$STARTED"
}

test_array() {
  out=$SLURM_DIR/out; rm -rf "$out"; mkdir -p "$out"
  cat > "$out/array.sh" <<EOF
#!/bin/bash
#SBATCH --array=0-3%2
#SBATCH --output=$out/out-%A_%a.txt
echo task \$SLURM_ARRAY_TASK_ID restart=\${SLURM_RESTART_COUNT:-0}
sleep 2
EOF
  jid=$(sbatch --parsable "$out/array.sh")
  timeout 120 bash -c "while [ -n \"\$(squeue -h -j $jid 2>/dev/null)\" ]; do sleep 0.5; done"
  n=$(ls "$out"/out-"${jid}"_*.txt 2>/dev/null | wc -l); cat "$out"/out-"${jid}"_*.txt 2>/dev/null || true
  [ "$n" -eq 4 ] && echo "array OK" || { echo "array FAILED ($n/4 outputs)" >&2; return 1; }
}

case "${1:-up}" in
  up) up ;; down) down ;; test) test_array ;;
  *) echo "usage: $0 up|down|test" >&2; exit 2 ;;
esac
