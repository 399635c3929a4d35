#!/usr/bin/env bash
# A single-node SLURM on localhost for the tests (tests/test_slurm.py) and for trying
# profiles/slurm by hand. Needs root: installs slurm-wlm and munge with apt when missing,
# writes /etc/slurm/slurm.conf and gres.conf for this machine (its real CPUs and memory,
# two fake GPUs, no accounting daemon), starts munged, slurmctld and slurmd without
# systemd, waits until the node is idle, and stops them again by their recorded PIDs.
#
#   tests/slurm/local-slurm.sh start     # idempotent; prints the node once idle
#   tests/slurm/local-slurm.sh stop      # cancels jobs, stops what `start` started
#   tests/slurm/local-slurm.sh status    # exit 0 when the daemons started here answer
#
# Everything lives in $GENOMICDL_SLURM_DIR (default /tmp/genomicdl-slurm): state, spool,
# logs, PID files and the fake GPU device nodes. The two config files must sit at their
# default path: the executor plugin strips SLURM_CONF from the environment of the srun
# it starts inside each job. A slurm.conf this script did not write is never touched.
set -euo pipefail

STATE=${GENOMICDL_SLURM_DIR:-/tmp/genomicdl-slurm}
CONF_DIR=/etc/slurm
MARK="# written by genomicdl tests/slurm/local-slurm.sh"
NODE=localhost
PARTITION=debug
FAKE_GPUS=2
# Finished jobs stay visible to squeue this long (seconds): the executor plugin then
# reads job states from squeue, with no accounting database (MinJobAge >= 3 x its
# initial status-check delay).
MIN_JOB_AGE=1800
WAIT_IDLE_S=60

log() { echo "local-slurm: $*" >&2; }
die() {
	log "error: $*"
	exit 1
}

pid_alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

ours_running() { pid_alive "$STATE/slurmctld.pid" && pid_alive "$STATE/slurmd.pid"; }

ours_conf() { [[ ! -e $CONF_DIR/slurm.conf ]] || grep -qxF "$MARK" "$CONF_DIR/slurm.conf"; }

install_packages() {
	local missing=0 cmd
	for cmd in munged slurmctld slurmd sbatch srun squeue sinfo scontrol; do
		command -v "$cmd" >/dev/null || missing=1
	done
	((missing)) || return 0
	[[ $(id -u) == 0 ]] || die "slurm-wlm/munge are missing and only root can install them"
	command -v apt-get >/dev/null || die "slurm-wlm/munge are missing and apt-get is not available"
	log "installing slurm-wlm and munge with apt-get"
	# keep the packages' maintainer scripts from starting daemons with their defaults
	local policy=/usr/sbin/policy-rc.d added_policy=0
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		added_policy=1
	fi
	local rc=0
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		slurm-wlm munge >"$STATE/log/apt.log" 2>&1; } || rc=$?
	((added_policy)) && rm -f "$policy"
	((rc == 0)) || die "apt-get install failed (see $STATE/log/apt.log)"
}

start_munge() {
	if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
		log "munged already answers: using it"
		return 0
	fi
	install -d -o munge -g munge -m 0755 /run/munge
	install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
	if [[ ! -s /etc/munge/munge.key ]]; then
		install -d -o munge -g munge -m 0700 /etc/munge
		dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
		chown munge:munge /etc/munge/munge.key
		chmod 0400 /etc/munge/munge.key
	fi
	rm -f /run/munge/munged.pid
	runuser -u munge -- munged --pid-file=/run/munge/munged.pid
	local i
	for i in $(seq 50); do
		[[ -s /run/munge/munged.pid ]] && munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
		sleep 0.1
	done
	munge -n | unmunge >/dev/null || die "munged does not answer (see /var/log/munge/munged.log)"
	cp /run/munge/munged.pid "$STATE/munged.pid"
}

write_config() {
	ours_conf || die "$CONF_DIR/slurm.conf was not written by this script: not touching it"
	# the machine as slurmd sees it, e.g. "NodeName=vm CPUs=2 Boards=1 ... RealMemory=24105"
	local hardware
	hardware=$(slurmd -C | head -n 1 | sed -E 's/^NodeName=[^ ]+ //')
	[[ $hardware == *CPUs=* && $hardware == *RealMemory=* ]] || die "unexpected 'slurmd -C' output: $hardware"
	mkdir -p "$STATE/dev"
	local i files=()
	for ((i = 0; i < FAKE_GPUS; i++)); do
		rm -f "$STATE/dev/fakegpu$i"
		mknod "$STATE/dev/fakegpu$i" c 1 3 # a /dev/null twin: SLURM only needs a device node
		files+=("$STATE/dev/fakegpu$i")
	done
	mkdir -p "$CONF_DIR"
	cat >"$CONF_DIR/slurm.conf" <<-EOF
		$MARK
		# A single node on localhost for tests; removed by \`local-slurm.sh stop\`.
		ClusterName=genomicdl
		SlurmctldHost=$NODE
		SlurmUser=root
		AuthType=auth/munge
		StateSaveLocation=$STATE/state
		SlurmdSpoolDir=$STATE/spool
		SlurmctldPidFile=$STATE/slurmctld.pid
		SlurmdPidFile=$STATE/slurmd.pid
		SlurmctldLogFile=$STATE/log/slurmctld.log
		SlurmdLogFile=$STATE/log/slurmd.log
		ProctrackType=proctrack/linuxproc
		TaskPlugin=task/none
		SelectType=select/cons_tres
		SelectTypeParameters=CR_Core_Memory
		SchedulerType=sched/backfill
		SchedulerParameters=bf_interval=1
		AccountingStorageType=accounting_storage/none
		JobAcctGatherType=jobacct_gather/none
		JobCompType=jobcomp/none
		MpiDefault=none
		ReturnToService=2
		MinJobAge=$MIN_JOB_AGE
		SlurmdTimeout=60
		GresTypes=gpu
		NodeName=$NODE $hardware Gres=gpu:fake:$FAKE_GPUS State=UNKNOWN
		PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
	EOF
	{
		echo "$MARK"
		echo "AutoDetect=off"
		for i in "${!files[@]}"; do
			echo "NodeName=$NODE Name=gpu Type=fake File=${files[$i]}"
		done
	} >"$CONF_DIR/gres.conf"
}

wait_idle() {
	local state="" i
	for ((i = 0; i < WAIT_IDLE_S * 2; i++)); do
		state=$(sinfo -h -n "$NODE" -o %T 2>/dev/null || true)
		[[ $state == idle || $state == mixed || $state == allocated ]] && return 0
		sleep 0.5
	done
	log "node $NODE is '${state:-unreachable}' after ${WAIT_IDLE_S}s; last lines of the logs:"
	tail -n 20 "$STATE/log/slurmctld.log" "$STATE/log/slurmd.log" >&2 || true
	return 1
}

start() {
	[[ $(id -u) == 0 ]] || die "starting SLURM needs root (munged, slurmctld and slurmd run as root here)"
	mkdir -p "$STATE/log"
	install_packages
	if ours_running; then
		log "already running (PIDs in $STATE)"
		wait_idle || die "running but the node is not idle"
		return 0
	fi
	start_munge
	rm -rf "${STATE:?}/state" "${STATE:?}/spool" "$STATE"/log/slurm*.log
	mkdir -p "$STATE/state" "$STATE/spool"
	write_config
	slurmctld
	slurmd -N "$NODE"
	if ! wait_idle; then
		stop
		die "SLURM did not come up"
	fi
	log "node $NODE idle: $(sinfo -h -N -o '%N %c CPUs %m MB %G %P')"
}

stop_pid() {
	local file=$1 name=$2 i
	pid_alive "$file" || {
		rm -f "$file"
		return 0
	}
	local pid
	pid=$(cat "$file")
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "$name (PID $pid) ignored SIGTERM for 10 s: SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$file"
	log "stopped $name (PID $pid)"
}

stop() {
	if pid_alive "$STATE/slurmctld.pid"; then
		# cancel what is left so that no job step outlives slurmd
		local jobs i
		jobs=$(squeue -h -t PD,R,CG,S -o %A 2>/dev/null || true)
		if [[ -n $jobs ]]; then
			log "cancelling jobs: ${jobs//$'\n'/ }"
			# shellcheck disable=SC2086
			scancel $jobs 2>/dev/null || true
			for ((i = 0; i < 60; i++)); do
				[[ -z $(squeue -h -t PD,R,CG,S -o %A 2>/dev/null) ]] && break
				sleep 0.5
			done
		fi
	fi
	stop_pid "$STATE/slurmd.pid" slurmd
	stop_pid "$STATE/slurmctld.pid" slurmctld
	stop_pid "$STATE/munged.pid" munged
	if [[ -e $CONF_DIR/slurm.conf ]] && grep -qxF "$MARK" "$CONF_DIR/slurm.conf"; then
		rm -f "$CONF_DIR/slurm.conf"
	fi
	if [[ -e $CONF_DIR/gres.conf ]] && grep -qxF "$MARK" "$CONF_DIR/gres.conf"; then
		rm -f "$CONF_DIR/gres.conf"
	fi
	rm -rf "${STATE:?}/dev"
}

status() {
	ours_running && sinfo -h -n "$NODE" -o %T >/dev/null 2>&1
}

case ${1:-} in
start) start ;;
stop) stop ;;
status) status ;;
*)
	echo "usage: $0 start|stop|status" >&2
	exit 2
	;;
esac
