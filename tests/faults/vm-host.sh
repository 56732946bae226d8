# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034,SC2154 # run's variables: set here, read there, and back
#
# The fault matrix's "vm --host" section, sourced by tests/faults/run after
# its vm section (its functions and the local libvirtd): `qvm vm --host A`
# onto test host A of tests/cli/hosts.sh (an sshd on 127.0.0.1 with its own
# ZFS double state and its own libvirtd serving the test driver). A fault
# is injected at each step of the run - on A through its ssh sessions'
# environment (host_env), here in virt-install and the libvirt client - and
# SIGINT, SIGTERM and SIGHUP are delivered while each step runs; the
# connection is also dropped during two of them. After each: the exit
# status, an error naming the step, this machine exactly as before (its
# ZFS double, state directory and libvirt domains; nothing left in qvm's
# TMPDIR - the ssh control directory - and no ssh process of the run), and
# A exactly as before: its datasets with all their properties, its device
# files, its state directory and its domains. A lost connection leaves A
# marked: `qvm cleanup --host A --yes` must restore it.

# shellcheck source=../cli/vmlib.sh
. "$here/../cli/vmlib.sh"
# shellcheck source=../cli/hosts.sh
. "$here/../cli/hosts.sh"

# host_fault_env VAR=VALUE...: the shims of tests/faults/bin first on A's
# PATH (the zfs one passing each call on), and these variables.
host_fault_env() {
	host_env A "PATH=$here/bin:$HOSTS_PATH" "FAULT_NEXT_ZFS=$TEST_REPO/tests/zfs-double/zfs" \
		"FAULT_MARK=$FAULT_MARK" "FAULT_END=$FAULT_MARK.end" "$@"
}

# remote_call_over SECONDS: a delayed zfs call on A, once begun, goes on
# when qvm stops waiting for it: A is judged once it is over.
remote_call_over() {
	local i
	[ -e "$FAULT_MARK" ] || return 0
	for ((i = 0; i < $1 * 20; i++)); do
		[ -e "$FAULT_MARK.end" ] && return 0
		sleep 0.05
	done
	echo "# the delayed zfs call on A did not end within $1 s" >&2
}

# A as qvm could change it (what t4000's host_state compares).
remote_state() {
	on_host A zfs_snapshot_state "$1"
	{
		echo '# state dir of A'
		[ -d "$HOST_A_STATE_DIR" ] && (cd "$HOST_A_STATE_DIR" && find . -mindepth 1 -printf '%y %p %m\n' | sort)
		echo '# domains of A'
		virsh -c "$HOST_A_LV_URI" list --all --uuid --name | sed '/^$/d' | sort
	} >>"$1"
}

# new_remote: a fresh row (new_dir), host A as it started.
new_remote() {
	new_dir
	cleanup_failed=
	hosts_reset A || echo "# hosts_reset A failed" >&2
}

# prepare_remote [VM-LINES]: the base image on A; the VM file (VM-LINES
# replace "import: true"); the command, with a TMPDIR of its own (for the
# ssh control directory).
prepare_remote() {
	local how=${1:-import: true}
	on_host A base_image
	mkdir -p "$TEST_DIR/tmp"
	cat >"$TEST_DIR/web.yaml" <<EOT
---
qvm: vm
name: web1
memory: 256
vcpus: 1
$how
osinfo: linux2022
graphics: none
network: {network: default, model: virtio}
disk:
  bus: virtio
  zvol:
    base: $BASE
    volsize: 16M
---
qvm: user-data
password: do-not-show-me
runcmd: [[sh, -c, "echo ok"]]
---
qvm: meta-data
EOT
	host_state "$TEST_DIR/before"
	remote_state "$TEST_DIR/a.before"
	# the calls of the run alone are counted and logged on A
	rm -f "$HOST_A_ZFS_STATE/calls"
	: >"$HOST_A_ZFS_LOG"
	CMD=(env "TMPDIR=$TEST_DIR/tmp" "$QVM" vm --host A "$TEST_DIR/web.yaml")
	row_cmd=vm@A
	row_check=remote_left
}

# remote_left: why the run is not undone on A or here, or nothing (check's
# extra judgement for these rows).
remote_left() {
	local i pids left
	if [ -n "$cleanup_failed" ]; then
		echo "$cleanup_failed"
		return
	fi
	# the ssh master ends just after qvm asks it to
	for ((i = 0; i < 40; i++)); do
		pids=$(pgrep -f -- "$TEST_DIR/tmp/qvm-ssh-") || break
		sleep 0.05
	done
	if [ -n "$pids" ]; then
		echo "ssh processes of the run left: $(ps -o pid=,args= -p "${pids//$'\n'/,}" | tr '\n' ' ')"
		return
	fi
	left=$(ls -A "$TEST_DIR/tmp")
	if [ -n "$left" ]; then
		echo "left in qvm's TMPDIR: $left"
		return
	fi
	remote_state "$TEST_DIR/a.after"
	if ! cmp -s "$TEST_DIR/a.before" "$TEST_DIR/a.after"; then
		echo "A changed: $(diff "$TEST_DIR/a.before" "$TEST_DIR/a.after" | grep '^[<>]' | head -3 | tr '\n' ' ')"
	fi
}

# cleanup_remote: after a lost connection, qvm cleanup --host A removes
# what the run left there (its own output apart from the run's).
cleanup_remote() {
	local rc=0
	env "TMPDIR=$TEST_DIR/tmp" "$QVM" cleanup --host A --yes >"$TEST_DIR/cleanup.out" 2>"$TEST_DIR/cleanup.err" </dev/null ||
		rc=$?
	[ "$rc" = 0 ] || cleanup_failed="qvm cleanup --host A --yes: exit $rc: $(head -c 300 "$TEST_DIR/cleanup.err")"
}

# drop_a: A stops answering (its sshd and every session of it end).
drop_a() { host_drop A; }

# a_has_clone: the clone is on A (the device wait on A follows it).
a_has_clone() {
	on_host A zfs list -H tank/images/web1 >/dev/null 2>&1
}

if ! hosts_start A; then
	hosts_stop
	skip_row vm@A "every vm --host row" "no test host: $HOSTS_WHY"
	return 0
fi
echo "# vm --host A: test host A is an sshd on 127.0.0.1 port $HOST_A_PORT (tests/cli/hosts.sh)"

# How many zfs calls a successful vm --host makes on A: each fails in turn.
new_remote; prepare_remote
run "${CMD[@]}"
mapfile -t remote_calls <"$HOST_A_ZFS_LOG"
n_remote=${#remote_calls[@]}
[ "$status" = 0 ] || echo "# a plain vm --host A failed: $(cat "$TEST_DIR/err")"

for ((i = 1; i <= n_remote; i++)); do
	new_remote; prepare_remote
	host_env A "ZFS_DOUBLE_FAIL_CALL=$i"
	run "${CMD[@]}"
	check "zfs call $i on A fails: zfs ${remote_calls[$((i - 1))]}" 1 \
		'^Error (validating|provisioning) virtual machine: (cannot|base|clone|parent)'
done

new_remote; prepare_remote
host_env A ZFS_DOUBLE_DEVICE=never
QVM_DEVICE_TIMEOUT=1 run "${CMD[@]}"
check "A's clone device never appears" 1 "device $HOST_A_ZVOL_DIR/tank/images/web1 did not appear within 1 seconds"

new_remote; prepare_remote
VIRT_INSTALL_FAIL=dry-run run "${CMD[@]}"
check "virt-install --print-xml (here) fails" 1 'virt-install --print-xml failed: ERROR +injected failure'

new_remote; prepare_remote $'import: true\nxml: ./memory=abc'
run "${CMD[@]}"
check "A's libvirt refuses the definition" 1 'cannot define the domain'

new_remote; prepare_remote
QVM_FAULT_LIBVIRT=virDomainCreate:fail LD_PRELOAD=$QVM_FAULT_LIB ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 \
	run "${CMD[@]}"
check "the domain is defined on A, its start fails" 1 'cannot start the domain'

# A's state directory on a small tmpfs: its sshd starts again to see it (it
# has a mount namespace of its own), and again once it is unmounted
for tmpfs in "1M ro|seed directory cannot be created on A (read-only)|cannot create seed directory $HOST_A_STATE_DIR/web1" \
	"40k|seed ISO cannot be written on A (no space)|cannot write seed image $HOST_A_STATE_DIR/web1/seed.iso"; do
	IFS='|' read -r opts name step <<<"$tmpfs"
	new_remote; host_drop A
	# shellcheck disable=SC2086 # size and options
	if ! small_tmpfs "$HOST_A_STATE_DIR" $opts; then
		skip_row vm@A "$name" "cannot mount tmpfs (not root?)"
	elif ! host_up A; then
		skip_row vm@A "$name" "A's sshd did not start again"
	else
		prepare_remote
		run "${CMD[@]}"
		check "$name" 1 "$step"
	fi
	host_drop A
	undo_tmpfs "$HOST_A_STATE_DIR"
	host_up A
done

for sig in INT TERM HUP; do
	new_remote; prepare_remote
	host_fault_env FAULT_DELAY=clone:3
	run_signal "$sig"
	remote_call_over 10
	check "SIG$sig while zfs clone runs on A" $((128 + $(signo "$sig"))) 'interrupted by signal'
	new_remote; prepare_remote
	FAULT_DELAY=dry-run:20 run_signal "$sig"
	check "SIG$sig while virt-install --print-xml runs (here)" $((128 + $(signo "$sig"))) 'interrupted by signal'
	for call in virDomainDefineXMLFlags virDomainCreate; do
		new_remote; prepare_remote
		QVM_FAULT_LIBVIRT=$call:1500 QVM_FAULT_MARK=$FAULT_MARK LD_PRELOAD=$QVM_FAULT_LIB \
			ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 run_signal "$sig"
		check "SIG$sig inside libvirt's $call (A's libvirt)" $((128 + $(signo "$sig"))) 'interrupted by signal'
	done
	new_remote; prepare_remote
	host_env A ZFS_DOUBLE_DEVICE=never
	QVM_DEVICE_TIMEOUT=8 run_signal "$sig" a_has_clone
	check "SIG$sig while A waits for the clone's device node" $((128 + $(signo "$sig"))) 'interrupted by signal'
done

# the connection lost: A's sshd and every session of it end; what the run
# made there before is left marked, for qvm cleanup --host A once A is back
lost="left behind: .*; remove it with: qvm cleanup --host A --yes once A answers"
new_remote; prepare_remote
host_fault_env FAULT_DELAY=clone:20
row_lost=$lost
run_signal drop_a
host_up A
cleanup_remote
check "A lost during its zfs clone; cleanup --host A" 1 'cannot clone .*: cannot reach A'

new_remote; prepare_remote
row_lost=$lost
FAULT_DELAY=dry-run:3 run_signal drop_a
host_up A
cleanup_remote
check "A lost during virt-install --print-xml; cleanup" 1 'virt-install --print-xml failed'
