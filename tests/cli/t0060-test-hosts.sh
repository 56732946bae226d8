#!/bin/bash
# SPDX-License-Identifier: MIT
# The test hosts themselves (hosts.sh): two sshd's on 127.0.0.1 acting as
# hosts A and B, each with its own ZFS double state, directories and
# libvirtd, reached with real ssh and through libvirt's ssh transport. If
# they leaked into each other or into the local host, the remote-host tests
# built on them would prove nothing.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=hosts.sh
. "$(dirname "$0")/hosts.sh"

# the wrapper case below runs this file again with HOSTS_T0060_INNER set:
# then only the hosts start, and their pids are written for it to check
if [ -n "${HOSTS_T0060_INNER:-}" ]; then
	hosts_start A B || { echo "$HOSTS_WHY" >&2; exit 1; }
	{
		host_sshd_pid A
		host_sshd_pid B
		echo "$HOST_A_LIBVIRTD_PID"
		echo "$HOST_B_LIBVIRTD_PID"
		echo "$HOSTS_SHM"
	} >"$HOSTS_T0060_INNER"
	host_ssh A true
	exit 0
fi

hosts_for_cases A B
setup() { hosts_reset; }

h_ssh() { run "$_hosts_ssh" -F "$QVM_SSH_CONFIG" "$@"; }

# a domain of the test driver, defined from XML (no virt-install)
domain_xml() {
	cat <<-EOF
	<domain type='test'>
	  <name>$1</name>
	  <memory unit='MiB'>64</memory>
	  <os><type>hvm</type></os>
	</domain>
	EOF
}

t_files() {
	need_hosts
	expect_eq "A B" "${HOSTS_NAMES[*]}" "hosts"
	expect_line "A:" "$QVM_HOSTS"
	expect_line "  ssh: A" "$QVM_HOSTS"
	expect_line "  connect: $HOST_A_URI" "$QVM_HOSTS"
	expect_line "  connect: $HOST_B_URI" "$QVM_HOSTS"
	expect_line "Host A" "$QVM_SSH_CONFIG"
	expect_line "    Port $HOST_A_PORT" "$QVM_SSH_CONFIG"
	expect_line "    Port $HOST_B_PORT" "$QVM_SSH_CONFIG"
	[ "$HOST_A_PORT" != "$HOST_B_PORT" ] || { _fail "one port for both"; return 1; }
	expect_line "    StrictHostKeyChecking yes" "$QVM_SSH_CONFIG"
	case $HOST_A_URI in
	"test+ssh://root@127.0.0.1:$HOST_A_PORT/default?socket=$HOST_A_SOCK&keyfile=$HOST_A_KEY") ;;
	*) _fail "A's URI: $HOST_A_URI"; return 1 ;;
	esac
	# the known host key is A's own
	expect_eq "$(cut -d' ' -f1,2 "$HOST_A_DIR/host_key.pub")" \
		"$(cut -d' ' -f2,3 "$HOST_A_DIR/known_hosts")" "A's known host key"
	case $HOST_A_ZVOL_DIR$HOST_A_STATE_DIR in
	/dev/shm/*/A/*/dev/shm/*/A/*) ;;
	*) _fail "A's directories are not under /dev/shm: $HOST_A_ZVOL_DIR $HOST_A_STATE_DIR"; return 1 ;;
	esac
}
test_case 'the hosts file and the ssh config name both hosts, each with its port, key and libvirt URI' t_files

t_zfs() {
	need_hosts
	h_ssh A zpool create tank
	expect_exit 0
	h_ssh A zfs create -V 1M tank/vol
	expect_exit 0
	h_ssh A zfs list -H -o name,volsize -t volume
	expect_exit 0
	expect_line "tank/vol	1M" out
	expect_file_exists "$HOST_A_ZVOL_DIR/tank/vol"
	expect_eq 1048576 "$(stat -c %s "$HOST_A_ZVOL_DIR/tank/vol")" "device size"
	# A's state, seen locally
	on_host A zfs list -H -o name >out
	expect_line tank/vol out
	expect_contains "create -V 1M tank/vol" "$HOST_A_ZFS_LOG"
	# not on B, not here
	h_ssh B zfs list -H -o name tank/vol
	expect_exit 1
	expect_line "cannot open 'tank/vol': dataset does not exist" err
	expect_file_absent "$HOST_B_ZVOL_DIR/tank"
	run zfs list -H -o name
	expect_exit 0
	expect_empty out
	expect_file_absent "$QVM_ZVOL_DIR/tank"
	# and what on_host makes, ssh sees
	on_host B zfs_pool pool2
	h_ssh B zfs list -H -o name
	expect_line pool2/images out
}
test_case 'ssh A zfs runs the double with A state: a volume made on A is not on B nor here' t_zfs

t_env() {
	need_hosts
	local show='printf "%s\n" "$PATH" "$ZFS_DOUBLE_STATE" "$ZFS_DOUBLE_LOG" "$QVM_ZVOL_DIR" "$QVM_STATE_DIR" "$HOME" "$(command -v zfs)" "${ZFS_DOUBLE_FAIL-unset}"'
	h_ssh A "$show"
	expect_exit 0
	cat >expected <<-EOF
	$TEST_REPO/tests/zfs-double:$TEST_REPO/tests/bin:/usr/sbin:/usr/bin:/sbin:/bin
	$HOST_A_ZFS_STATE
	$HOST_A_ZFS_LOG
	$HOST_A_ZVOL_DIR
	$HOST_A_STATE_DIR
	$HOST_A_HOME
	$TEST_REPO/tests/zfs-double/zfs
	unset
	EOF
	expect_same expected out
	# on_host gives a command the same, even with a fault set here
	ZFS_DOUBLE_FAIL=list on_host A sh -c "$show" >out
	expect_same expected out
	h_ssh B 'echo "$ZFS_DOUBLE_STATE"'
	expect_eq "$HOST_B_ZFS_STATE" "$(cat out)" "B's state"
}
test_case 'the SetEnv variables reach the host sessions; on_host sets the same' t_env

t_quoting() {
	need_hosts
	local -a args=(printf '[%s]\n' 'a b' "it's" '$HOME' '"q"' '' 'x;y' '*')
	host_ssh A "$(shell_quote "${args[@]}")" >out
	printf '[%s]\n' 'a b' "it's" '$HOME' '"q"' '' 'x;y' '*' >expected
	expect_same expected out
	# unquoted, ssh joins the words and the remote shell splits them again
	host_ssh A echo 'a   b' >out
	expect_eq "a b" "$(cat out)" "unquoted"
}
test_case 'arguments with spaces and quotes survive when quoted for the remote shell' t_quoting

t_strict() {
	need_hosts
	# A's port with B's known hosts: the key is unknown, ssh refuses
	h_ssh -o "UserKnownHostsFile=$HOST_B_DIR/known_hosts" A true
	expect_exit 255
	expect_match "Host key verification failed" err
	# A's key for B: refused by B
	run ssh -F /dev/null -o "UserKnownHostsFile=$HOST_B_DIR/known_hosts" -o BatchMode=yes \
		-o IdentitiesOnly=yes -i "$HOST_A_KEY" -p "$HOST_B_PORT" root@127.0.0.1 true
	expect_exit 255
	expect_match "Permission denied" err
	# by address and port, through the Host 127.0.0.1 entry
	h_ssh -p "$HOST_B_PORT" root@127.0.0.1 'echo "$ZFS_DOUBLE_STATE"'
	expect_exit 0
	expect_eq "$HOST_B_ZFS_STATE" "$(cat out)" "by address"
}
test_case 'host keys are checked strictly, each client key opens only its host' t_strict

t_env_faults() {
	need_hosts
	on_host A zfs_pool
	on_host B zfs_pool
	host_env A ZFS_DOUBLE_PERM_DENIED=1
	h_ssh A zfs create -V 1M tank/images/x
	expect_exit 1
	expect_line "cannot create 'tank/images/x': permission denied" err
	h_ssh B zfs create -V 1M tank/images/x
	expect_exit 0
	# on_host inspects without the fault
	on_host A zfs list -H -o name >out
	expect_line tank/images out
	# the fault shims first on A's PATH: a delayed list marks its start
	host_env A "PATH=$TEST_REPO/tests/faults/bin:$HOSTS_PATH" \
		"FAULT_NEXT_ZFS=$TEST_REPO/tests/zfs-double/zfs" FAULT_DELAY=list:0 \
		"FAULT_MARK=$HOST_A_DIR/started"
	h_ssh A zfs list -H -o name
	expect_exit 0
	expect_line tank/images out
	expect_file_exists "$HOST_A_DIR/started"
	h_ssh A 'echo "$ZFS_DOUBLE_STATE ${ZFS_DOUBLE_PERM_DENIED-unset}"'
	expect_eq "$HOST_A_ZFS_STATE unset" "$(cat out)" "A's environment after the second host_env"
	expect_fails host_env A 'X=a"b' 2>/dev/null
}
test_case 'host_env A: a fault injected on A only, the fault shims on its PATH' t_env_faults

t_env_reset() {
	need_hosts
	h_ssh A 'echo "$PATH ${FAULT_DELAY-unset}"'
	expect_eq "$HOSTS_PATH unset" "$(cat out)" "A's environment in the next case"
}
test_case '... the next case has the standard environment again' t_env_reset

t_virsh() {
	need_hosts
	run virsh -c "$HOST_A_URI" list --all --name
	expect_exit 0
	expect_line test out
	domain_xml onlya >onlya.xml
	run virsh -c "$HOST_A_URI" define onlya.xml
	expect_exit 0
	run virsh -c "$HOST_A_URI" list --all --name
	expect_line onlya out
	# the same daemon without ssh
	run virsh -c "$HOST_A_LV_URI" dominfo onlya
	expect_exit 0
	run virsh -c "$HOST_B_URI" list --all --name
	expect_exit 0
	expect_no_match '^onlya$' out
	run virsh -c "$HOST_B_URI" dominfo onlya
	expect_exit 1
	# libvirt's ssh used the harness's config: nothing in root's known_hosts
	local home
	home=$(getent passwd root | cut -d: -f6)
	if [ -e "$home/.ssh/known_hosts" ] &&
		ssh-keygen -F "[127.0.0.1]:$HOST_A_PORT" -f "$home/.ssh/known_hosts" >/dev/null; then
		_fail "A's host key was written to $home/.ssh/known_hosts"
		return 1
	fi
}
test_case 'virsh -c A URI works over ssh, and a domain defined on A is not on B' t_virsh

t_reset_1() {
	need_hosts
	on_host A zfs_pool
	domain_xml left >left.xml
	virsh -c "$HOST_A_LV_URI" define left.xml >/dev/null
	mkdir -p "$HOST_A_STATE_DIR"
	echo x >"$HOST_A_HOME/file"
}
t_reset_2() {
	need_hosts
	on_host A zfs list -H -o name >out
	expect_empty out
	expect_file_absent "$HOST_A_STATE_DIR"
	expect_file_absent "$HOST_A_HOME/file"
	run virsh -c "$HOST_A_LV_URI" dominfo left
	expect_exit 1
}
test_case 'a case leaves pools, files and domains on A ...' t_reset_1
test_case '... the next one starts without them (hosts_reset)' t_reset_2

t_drop() {
	need_hosts
	local pid
	pid=$(host_sshd_pid A)
	[ -n "$pid" ] || { _fail "A's sshd does not run"; return 1; }
	# an open connection ends with the host
	host_ssh A 'echo up; exec sleep 60' >held 2>&1 &
	local held=$!
	for _ in $(seq 100); do grep -q up held && break; sleep 0.05; done
	host_drop A
	expect_eq "" "$(host_sshd_pid A)" "A's sshd after host_drop"
	expect_fails pid_alive "$pid"
	local rc=0
	timeout 10 tail --pid="$held" -f /dev/null || rc=$?
	expect_eq 0 "$rc" "the held connection ended"
	wait "$held" || rc=$?
	[ "$rc" != 0 ] || { _fail "the held ssh succeeded"; return 1; }
	h_ssh A true
	expect_exit 255
	expect_match "Connection refused" err
	run virsh -c "$HOST_A_URI" list
	expect_exit 1
	# B still answers; A's libvirtd too, without ssh
	h_ssh B true
	expect_exit 0
	run virsh -c "$HOST_A_LV_URI" list
	expect_exit 0
	host_up A
	h_ssh A 'echo back'
	expect_exit 0
	expect_line back out
	host_drop A
}
test_case 'host_drop A: A does not answer (open connections cut), B does; host_up brings A back' t_drop

t_after_drop() {
	need_hosts
	h_ssh A true
	expect_exit 0
}
test_case 'a host dropped in one case answers in the next' t_after_drop

t_stop() {
	need_hosts
	local pids shm p
	HOSTS_T0060_INNER=$TEST_DIR/pids run bash "$TEST_LIB_DIR/t0060-test-hosts.sh"
	expect_exit 0
	mapfile -t pids <pids
	[ "${#pids[@]}" = 5 ] || { _fail "pids: ${pids[*]}"; return 1; }
	shm=${pids[4]}
	for p in "${pids[@]:0:4}"; do
		[ -n "$p" ] || { _fail "a pid is missing: ${pids[*]}"; return 1; }
		if pid_alive "$p"; then
			_fail "process $p ($(tr '\0' ' ' </proc/"$p"/cmdline)) still runs"
			return 1
		fi
	done
	expect_file_absent "$shm"
}
test_case 'a test file that started hosts leaves no sshd, libvirtd or /dev/shm directory behind' t_stop

t_no_sshd() {
	# a test file of one case that needs hosts, on a machine without sshd
	cat >inner.sh <<-EOF
	. "$TEST_LIB_DIR/lib.sh"
	. "$TEST_LIB_DIR/hosts.sh"
	hosts_for_cases A
	test_case 'needs hosts' 'need_hosts; echo not skipped >&2; exit 1'
	test_done
	EOF
	HOSTS_SSHD=$TEST_DIR/nosuch/sshd run bash inner.sh
	expect_exit 0
	expect_line "ok - needs hosts # SKIP no test hosts: no $TEST_DIR/nosuch/sshd (Debian's openssh-server)" out
}
test_case 'without sshd, the cases that need hosts are skipped, saying why' t_no_sshd

t_failed_start() {
	# an "sshd" that exists but does not start: host A's libvirtd has
	# started by then; the file's end stops it and removes the directories
	printf '#!/bin/sh\necho "no, not today" >&2\nexit 1\n' >badsshd
	chmod +x badsshd
	cat >inner.sh <<-EOF
	. "$TEST_LIB_DIR/lib.sh"
	. "$TEST_LIB_DIR/hosts.sh"
	if hosts_start A; then echo started; exit 1; fi
	echo "\$HOSTS_WHY"
	echo "\$HOST_A_LIBVIRTD_PID \$HOSTS_SHM" >pids
	EOF
	HOSTS_SSHD=$TEST_DIR/badsshd run bash inner.sh
	expect_exit 0
	expect_match "^the sshd of host A did not start: .*no, not today" out
	local pid shm
	read -r pid shm <pids
	[ -n "$pid" ] && [ -n "$shm" ] || { _fail "pids: $(cat pids)"; return 1; }
	expect_fails pid_alive "$pid"
	expect_file_absent "$shm"
}
test_case 'a host that does not start: the reason, and nothing left behind' t_failed_start

test_done
