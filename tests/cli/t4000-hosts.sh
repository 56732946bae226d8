#!/bin/bash
# SPDX-License-Identifier: MIT
# qvm on other hosts (--host, a vm document's host:, the hosts file): zfs,
# the seed, the device wait and the domain all on that host, through one
# ssh connection per run; nothing on this machine or on the other host;
# failures, signals and a lost connection leave the host as it was, or
# marked for qvm cleanup --host. Hosts A and B are sshd's on 127.0.0.1
# (hosts.sh), each with its own ZFS double state and libvirtd.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vmlib.sh
. "$(dirname "$0")/vmlib.sh"
# shellcheck source=hosts.sh
. "$(dirname "$0")/hosts.sh"

hosts_for_cases A B
setup() {
	hosts_reset
	[ "$HOSTS_OK" = 1 ] || return 0
	on_host A base_image
	on_host B zfs_pool
	zfs_pool
}

# host_vm_file FILE NAME [LINES]: a VM on the test driver, without connect:
# (the host's libvirt is the default).
INJECT=${QVM_FAULT_LIB:-$TEST_REPO/build/tests/inject.so}

host_vm_file() {
	{
		cat <<-EOF
		---
		qvm: vm
		name: $2
		memory: 256
		vcpus: 1
		import: true
		osinfo: detect=on,require=off
		graphics: none
		network: none
		disk:
		  zvol:
		    base: $BASE
		EOF
		[ -z "${3:-}" ] || printf '%s\n' "$3"
		cat <<-EOF
		---
		qvm: user-data
		users:
		  - name: admin
		EOF
	} >"$1"
}

# host_image: the base image in a pool that exists (base_image makes the pool too).
host_image() {
	zfs create -s -V 2M -o qvm:kind=image -o qvm:source=/srv/debian12.raw -o qvm:state=ready $BASE
	zfs snapshot $BASE@base
}

# host_state N FILE: all of host N qvm could change (datasets with their
# properties, devices, its state directory, its domains).
host_state() {
	on_host "$1" zfs_snapshot_state "$2"
	{
		echo '# state dir'
		local d
		d=$(_hosts_var "$1" STATE_DIR)
		[ -d "$d" ] && (cd "$d" && find . -mindepth 1 -printf '%y %p %m\n' | sort)
		echo '# domains'
		virsh -c "$(_hosts_var "$1" LV_URI)" list --all --name | sed '/^$/d' | sort
	} >>"$2"
}

# accepted N: how many ssh connections host N has accepted so far.
accepted() {
	grep -c 'Accepted publickey' "$(_hosts_var "$1" DIR)/sshd.log"
}

t_vm_on_host() {
	need_hosts
	host_vm_file w.yaml web1
	zfs_snapshot_state local.before
	host_state B b.before
	run_qvm vm --host A w.yaml
	expect_exit 0
	expect_line "Creating cloud-init seed $HOST_A_STATE_DIR/web1/seed.iso... done" out
	expect_match "^Defining and starting VM web1 \(UUID [0-9a-f-]{36}\) on test\+ssh://root@127\.0\.0\.1:$HOST_A_PORT/default\?" out
	# the clone, its marks, its device: on A
	on_host A zfs get -H -o value qvm:vm,qvm:state,qvm:connect tank/images/web1 >marks
	expect_eq "web1
ready
$HOST_A_URI" "$(cat marks)" "A's marks of the clone"
	expect_file_exists "$HOST_A_ZVOL_DIR/tank/images/web1"
	expect_eq "711 600" "$(stat -c %a "$HOST_A_STATE_DIR/web1") $(stat -c %a "$HOST_A_STATE_DIR/web1/seed.iso")" \
		"modes of the seed directory and ISO"
	expect_file_absent "$HOST_A_STATE_DIR/web1/.qvm-creating"
	# the ISO there whole: its files, the user-data in it
	python3 "$TEST_LIB_DIR/iso-names.py" "$HOST_A_STATE_DIR/web1/seed.iso" >names
	expect_line 'rockridge: meta-data user-data' names
	grep -qa '^- name: admin$' "$HOST_A_STATE_DIR/web1/seed.iso" || { _fail "A's seed lacks the user-data"; return 1; }
	virsh -c "$HOST_A_LV_URI" dominfo web1 >/dev/null || { _fail "no domain web1 on A"; return 1; }
	virsh -c "$HOST_A_LV_URI" dumpxml web1 | grep -q "<source file=.$HOST_A_STATE_DIR/web1/seed.iso./>" ||
		{ _fail "A's domain lacks the seed"; return 1; }
	expect_eq 'default-pool' "$(virsh -c "$HOST_A_LV_URI" pool-list --all --name | sed 's/ *$//; /^$/d')" \
		"storage pools on A (the test driver's own)"
	# nothing here, nothing on B
	expect_state_unchanged local.before
	expect_file_absent "$QVM_STATE_DIR/web1"
	host_state B b.after
	expect_same b.before b.after
	# the seed holds the file's user-data, as a local one would
	xorriso -osirrox on -indev "stdio:$HOST_A_STATE_DIR/web1/seed.iso" -extract / seed >/dev/null 2>&1
	expect_line '- name: admin' seed/user-data
	# list and destroy find it there
	run_qvm list --host A
	expect_exit 0
	expect_match '^web1 +running ' out
	run_qvm list --host B
	expect_exit 0
	expect_no_match '^web1 ' out
	# the commands qvm suggests name the host
	run_qvm vm --host A w.yaml
	expect_exit 1
	expect_contains ": qvm destroy --host A web1, or pick another --name" err
	run_qvm destroy --yes --host A web1
	expect_exit 0
	expect_eq '' "$(on_host A zfs list -H -o name tank/images/web1 2>/dev/null)" "A's clone"
	expect_file_absent "$HOST_A_STATE_DIR/web1"
	! virsh -c "$HOST_A_LV_URI" dominfo web1 >/dev/null 2>&1 || { _fail "domain web1 left on A"; return 1; }
}
test_case 'vm --host A: clone, seed, device and domain on A; list and destroy --host find it; nothing here or on B' t_vm_on_host

t_one_connection() {
	need_hosts
	host_vm_file w.yaml web1
	: >"$HOST_A_ZFS_LOG"
	local before after calls
	# the host by the user, address and port of its libvirt URI: libvirt's
	# ssh (qvm's connection and virt-install's) goes through qvm's own
	printf 'A:\n  ssh: root@127.0.0.1:%s\n  connect: %s\n' "$HOST_A_PORT" "$HOST_A_URI" >hosts
	before=$(accepted A)
	mkdir tmp
	# every ssh client started on the way is logged: one, the master;
	# every command after it goes through it without a client of its own
	mkdir logbin
	printf '#!/bin/sh\necho ssh >>%s/ssh.calls\necho "$*" >>%s/ssh.args\nexec %s "$@"\n' \
		"$PWD" "$PWD" "$(command -v ssh)" >logbin/ssh
	chmod +x logbin/ssh
	PATH=$PWD/logbin:$PATH TMPDIR=$TEST_DIR/tmp QVM_HOSTS=$PWD/hosts run_qvm vm --host A w.yaml
	expect_exit 0
	expect_eq 1 "$(wc -l <ssh.calls)" "ssh clients started (the master alone)"
	expect_match 'ControlMaster=yes' ssh.args
	after=$(accepted A)
	calls=$(wc -l <"$HOST_A_ZFS_LOG")
	[ "$calls" -ge 3 ] || { _fail "only $calls zfs calls on A"; return 1; }
	expect_eq 1 "$((after - before))" "ssh connections to A for $calls zfs calls, libvirt and virt-install"
	# the URI recorded and shown is the host's, not the one this run used
	expect_eq "$HOST_A_URI" "$(on_host A zfs get -H -o value qvm:connect tank/images/web1)" "qvm:connect"
	expect_no_match 'command=' out
	# and no master connection or control directory is left (qvm's own
	# TMPDIR: other tests may run qvm at the same time)
	! pgrep -f "ssh .*$TEST_DIR/tmp/qvm-ssh-" >/dev/null || { _fail "an ssh master is left"; return 1; }
	expect_eq '' "$(ls "$TEST_DIR/tmp")" "what is left in qvm's TMPDIR"
	# a host named otherwise than its libvirt URI (an ssh_config alias):
	# libvirt's ssh is its own, qvm's zfs calls still share one
	before=$(accepted A)
	run_qvm vm --host A --name web2 w.yaml
	expect_exit 0
	after=$(accepted A)
	expect_eq 3 "$((after - before))" "ssh connections: qvm's, libvirt's for qvm, virt-install's"
}
test_case 'vm --host: one ssh connection for every zfs call, file and libvirt call of the run, closed at the end' t_one_connection

t_doc_host() {
	need_hosts
	host_vm_file w.yaml web1 'host: A'
	run_qvm vm w.yaml
	expect_exit 0
	on_host A zfs list -H -o name tank/images/web1 >/dev/null || { _fail "no clone on A"; return 1; }
	# --host wins over host:
	on_host B host_image
	host_vm_file w2.yaml web2 'host: A'
	run_qvm vm --host B w2.yaml
	expect_exit 0
	on_host B zfs list -H -o name tank/images/web2 >/dev/null || { _fail "no clone on B"; return 1; }
	expect_eq '' "$(on_host A zfs list -H -o name tank/images/web2 2>/dev/null)" "web2 on A"
	host_vm_file bad.yaml web3 'host: "-oProxyCommand=touch /tmp/qvm-pwned"'
	run_qvm vm bad.yaml
	expect_exit 1
	expect_match "^Error reading qvm file: bad.yaml:[0-9]+:[0-9]+: invalid host '-oProxyCommand=touch /tmp/qvm-pwned'" err
	expect_file_absent /tmp/qvm-pwned
}
test_case "vm: the document's host: is where the VM is made; --host wins; a host: ssh could read as an option is refused" t_doc_host

t_rollback_on_host() {
	need_hosts
	host_vm_file w.yaml web1
	host_state A a.before
	VIRT_INSTALL_FAIL=dry-run run_qvm vm --host A w.yaml
	expect_exit 1
	expect_line "Rolling back: removing seed directory $HOST_A_STATE_DIR/web1... done" out
	host_state A a.after
	expect_same a.before a.after
	# a zfs call failing on A: each in turn
	local n i
	: >"$HOST_A_ZFS_LOG"
	run_qvm vm --host A w.yaml
	expect_exit 0
	run_qvm destroy --yes --host A web1
	expect_exit 0
	n=$(grep -c . "$HOST_A_ZFS_LOG")
	host_state A a.before
	for ((i = 1; i <= n; i++)); do
		rm -f "$HOST_A_ZFS_STATE/calls"
		host_env A "ZFS_DOUBLE_FAIL_CALL=$i"
		run_qvm vm --host A w.yaml
		host_env A
		[ "$status" = 0 ] && run_qvm destroy --yes --host A web1
		host_state A a.after
		expect_same a.before a.after || { _fail "zfs call $i failing on A changed A"; return 1; }
	done
}
test_case 'vm --host: a failure rolls back on the host (virt-install refusing; each zfs call failing there)' t_rollback_on_host

t_seed_rules() {
	need_hosts
	host_vm_file w.yaml web1
	mkdir -p "$HOST_A_STATE_DIR" "$TEST_DIR/elsewhere"
	ln -s "$TEST_DIR/elsewhere" "$HOST_A_STATE_DIR/web1"
	host_state A a.before
	run_qvm vm --host A w.yaml
	expect_exit 1
	expect_contains "seed directory $HOST_A_STATE_DIR/web1 already exists" err
	host_state A a.after
	expect_same a.before a.after
	expect_eq '' "$(ls -A "$TEST_DIR/elsewhere")" "files written through the link"
}
test_case "vm --host: the host's seed directory is never reached through a symbolic link" t_seed_rules

# The device's wait rides with the clone's zfs call, the marker's removal
# with the last zfs set: each failing there is told as itself.
t_steps_after_zfs() {
	need_hosts
	host_vm_file w.yaml web1
	host_state A a.before
	host_env A ZFS_DOUBLE_DEVICE=never
	QVM_DEVICE_TIMEOUT=1 run_qvm vm --host A w.yaml
	host_env A
	expect_exit 1
	expect_first_line "^Error provisioning virtual machine: device $HOST_A_ZVOL_DIR/tank/images/web1 did not appear within 1 seconds?$" err
	host_state A a.after
	expect_same a.before a.after
	# the marker gone before its removal (while virt-install runs here)
	export PATH=$TEST_REPO/tests/faults/bin:$PATH FAULT_NEXT_VIRT_INSTALL=$TEST_REPO/tests/bin/virt-install
	export FAULT_DELAY=dry-run:2 FAULT_MARK=$TEST_DIR/mark
	"$QVM" vm --host A w.yaml >out 2>err &
	local pid=$! i
	for ((i = 0; i < 200; i++)); do [ -e "$TEST_DIR/mark" ] && break; sleep 0.05; done
	rm "$HOST_A_STATE_DIR/web1/.qvm-creating"
	status=0
	wait "$pid" || status=$?
	unset FAULT_DELAY FAULT_MARK
	expect_exit 1
	expect_line "Error provisioning virtual machine: cannot remove $HOST_A_STATE_DIR/web1/.qvm-creating: No such file or directory" err
	host_state A a.after
	expect_same a.before a.after
}
test_case 'vm --host: the device never appearing, the marker gone before its removal: said as such, A as before' t_steps_after_zfs

# libvirt's connection lost inside virDomainCreate (on the run's master):
# its ssh alone ends, and the rollback opens libvirt again; the master ends
# (nothing answers any more), and the domain stays with the clone and the
# seed that lead qvm cleanup to it.
t_libvirt_lost() {
	need_hosts
	[ -e "$INJECT" ] || skip "no fault shim at $INJECT (QVM_FAULT_LIB)"
	# libvirt starts qvm's ssh shim with LD_PRELOAD but not ASAN_OPTIONS
	! ldd "$QVM" | grep -q libasan || skip "AddressSanitizer's qvm: its ssh shim cannot start with the fault shim"
	host_vm_file w.yaml web1
	printf 'A:\n  ssh: root@127.0.0.1:%s\n  connect: %s\n' "$HOST_A_PORT" "$HOST_A_URI" >hosts
	host_state A a.before
	mkdir tmp
	local what pid i victim
	for what in libvirt master; do
		rm -f "$TEST_DIR/mark"
		QVM_HOSTS=$PWD/hosts TMPDIR=$TEST_DIR/tmp QVM_FAULT_LIBVIRT=virDomainCreate:3000 \
			QVM_FAULT_MARK=$TEST_DIR/mark LD_PRELOAD=$INJECT ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 \
			"$QVM" vm --host A w.yaml >out 2>err &
		pid=$!
		for ((i = 0; i < 200; i++)); do [ -e "$TEST_DIR/mark" ] && break; sleep 0.05; done
		case $what in
		libvirt) victim=$(pgrep -f "^$TEST_DIR/tmp/qvm-ssh-[^/]*/ssh " || :) ;;
		master) victim=$(pgrep -f "^ssh: $TEST_DIR/tmp/qvm-ssh-[^/]*/master \[mux\]" || :) ;;
		esac
		[ -n "$victim" ] || { ps -eo pid,args | grep -a qvm-ssh | cut -c1-300 >&2; _fail "no $what process to end"; return 1; }
		kill $victim
		status=0
		wait "$pid" || status=$?
		expect_exit 1
		if [ $what = libvirt ]; then
			expect_line "Rolling back: removing libvirt domain web1... done" out
		else
			expect_contains "left behind: zvol tank/images/web1, kept: qvm cleanup finds libvirt domain web1 through it; remove them with: qvm cleanup --host A --yes" err
			virsh -c "$HOST_A_LV_URI" dominfo web1 >/dev/null || { _fail "the domain went, its clone stayed?"; return 1; }
			QVM_HOSTS=$PWD/hosts run_qvm cleanup --host A --yes
			expect_exit 0
		fi
		host_state A a.after
		expect_same a.before a.after || { _fail "$what lost: A changed"; return 1; }
	done
}
test_case "vm --host: libvirt's connection lost: opened again for the rollback; with the master gone, cleanup --host finds the domain" t_libvirt_lost

# Control directories of killed runs go at the next run: only those over
# a minute old, with no master listening, holding nothing but qvm's own.
t_sweep() {
	need_hosts
	mkdir tmp
	local t=$TEST_DIR/tmp
	mkdir -m 0700 "$t/qvm-ssh-Stale1" "$t/qvm-ssh-Live22" "$t/qvm-ssh-Other3" "$t/qvm-ssh-Young4"
	ln -s "$QVM" "$t/qvm-ssh-Stale1/ssh"
	ln -s /etc/hostname "$t/qvm-ssh-Stale1/config"
	nc -lkU "$t/qvm-ssh-Live22/master" &
	local nc=$!
	at_exit "kill $nc"
	for ((i = 0; i < 100; i++)); do [ -S "$t/qvm-ssh-Live22/master" ] && break; sleep 0.05; done
	echo mine >"$t/qvm-ssh-Other3/notes"
	touch -d '2 minutes ago' "$t/qvm-ssh-Stale1" "$t/qvm-ssh-Live22" "$t/qvm-ssh-Other3"
	TMPDIR=$t run_qvm list --host A
	expect_exit 0
	expect_eq 'qvm-ssh-Live22 qvm-ssh-Other3 qvm-ssh-Young4' "$(cd "$t" && echo qvm-ssh-*)" "control directories left"
	expect_file_exists /etc/hostname
	expect_file_exists "$t/qvm-ssh-Other3/notes"
}
test_case "a killed run's control directory goes at a later run; a live master's, a young one and one with other files stay" t_sweep

# qvm's private directory for the connection (libvirt runs the shim in
# it): not in a TMPDIR another user could rename it in; a TMPDIR with '&'
# or ';' cannot cut libvirt's command= short.
t_tmpdir() {
	need_hosts
	host_vm_file w.yaml web1
	printf 'A:\n  ssh: root@127.0.0.1:%s\n  connect: %s\n' "$HOST_A_PORT" "$HOST_A_URI" >hosts
	mkdir logbin
	printf '#!/bin/sh\necho "$*" >>%s/ssh.args\nexec %s "$@"\n' "$PWD" "$(command -v ssh)" >logbin/ssh
	chmod +x logbin/ssh
	local t
	mkdir -m 0777 open
	mkdir -m 0755 theirs
	chown nobody theirs
	for t in open theirs; do
		: >ssh.args
		PATH=$PWD/logbin:$PATH TMPDIR=$TEST_DIR/$t QVM_HOSTS=$PWD/hosts run_qvm list --host A
		expect_exit 0
		expect_match ' -S /tmp/qvm-ssh-[A-Za-z0-9]{6}/master ' ssh.args
	done
	# a '&' (then ';') in TMPDIR: libvirt is given the shim's whole path
	printf '#!/bin/sh\ntouch %s/ran\n' "$TEST_DIR" >a
	chmod +x a
	mkdir -m 0700 'a&b' 'a;b'
	local before after
	for t in 'a&b' 'a;b'; do
		before=$(accepted A)
		TMPDIR=$TEST_DIR/$t QVM_HOSTS=$PWD/hosts run_qvm vm --host A w.yaml
		expect_exit 0
		after=$(accepted A)
		expect_eq 1 "$((after - before))" "ssh connections to A (libvirt's through qvm's master)"
		expect_file_absent "$TEST_DIR/ran"
		run_qvm destroy --yes --host A web1
		expect_exit 0
	done
}
test_case "the connection's directory: not in a TMPDIR others could rename it in; '&' or ';' in TMPDIR reach libvirt's command= escaped" t_tmpdir

t_drop() {
	need_hosts
	host_vm_file w.yaml web1
	host_state A a.before
	# virt-install (here) takes its time: A goes away meanwhile, after the
	# seed and the clone were made there
	export PATH=$TEST_REPO/tests/faults/bin:$PATH FAULT_NEXT_VIRT_INSTALL=$TEST_REPO/tests/bin/virt-install
	export FAULT_DELAY=dry-run:3 FAULT_MARK=$TEST_DIR/mark
	"$QVM" vm --host A w.yaml >out 2>err &
	local pid=$! i
	for ((i = 0; i < 200; i++)); do [ -e "$TEST_DIR/mark" ] && break; sleep 0.05; done
	host_drop A
	status=0
	wait "$pid" || status=$?
	unset FAULT_DELAY FAULT_MARK
	expect_exit 1
	expect_match "^Error rolling back: left behind: .*; remove it with: qvm cleanup --host A --yes once A answers" err
	expect_match "cannot reach A" err
	# back: cleanup --host removes what the run left
	host_up A
	run_qvm cleanup --host A --yes
	expect_exit 0
	host_state A a.after
	expect_same a.before a.after
}
test_case 'vm --host: the connection lost mid-run leaves the host marked; cleanup --host A restores it once it answers' t_drop

t_signal() {
	need_hosts
	host_vm_file w.yaml web1
	host_state A a.before
	export PATH=$TEST_REPO/tests/faults/bin:$PATH FAULT_NEXT_VIRT_INSTALL=$TEST_REPO/tests/bin/virt-install
	export FAULT_DELAY=dry-run:5 FAULT_MARK=$TEST_DIR/mark
	"$QVM" vm --host A w.yaml >out 2>err &
	local pid=$! i
	for ((i = 0; i < 200; i++)); do [ -e "$TEST_DIR/mark" ] && break; sleep 0.05; done
	kill -INT "$pid"
	status=0
	wait "$pid" || status=$?
	unset FAULT_DELAY FAULT_MARK
	expect_exit 130
	expect_contains 'interrupted by signal SIGINT' err
	host_state A a.after
	expect_same a.before a.after
}
test_case 'vm --host: SIGINT while it runs rolls back on the host' t_signal

# in_step HOW STEP: run qvm vm --host A, and while STEP runs (on A: the zfs
# clone, the wait for the clone's device; here: virt-install --print-xml),
# HOW: a signal to qvm, or "drop" (A's sshd and every session of it end).
in_step() {
	local how=$1 step=$2 pid i
	rm -f "$TEST_DIR/mark"
	case $step in
	clone) host_env A "PATH=$TEST_REPO/tests/faults/bin:$HOSTS_PATH" \
		"FAULT_NEXT_ZFS=$TEST_REPO/tests/zfs-double/zfs" FAULT_DELAY=clone:4 "FAULT_MARK=$TEST_DIR/mark" ;;
	device) host_env A ZFS_DOUBLE_DEVICE=never ;;
	print-xml) export FAULT_DELAY=dry-run:4 FAULT_MARK=$TEST_DIR/mark ;;
	esac
	PATH=$TEST_REPO/tests/faults/bin:$PATH FAULT_NEXT_VIRT_INSTALL=$TEST_REPO/tests/bin/virt-install \
		QVM_DEVICE_TIMEOUT=8 "$QVM" vm --host A w.yaml >out 2>err &
	pid=$!
	if [ "$step" = device ]; then
		# the wait begins once the seed and the clone are there
		for ((i = 0; i < 200; i++)); do
			on_host A zfs list -H tank/images/web1 >/dev/null 2>&1 && break
			sleep 0.05
		done
		sleep 0.5
	else
		for ((i = 0; i < 200; i++)); do [ -e "$TEST_DIR/mark" ] && break; sleep 0.05; done
	fi
	if [ "$how" = drop ]; then host_drop A; else kill -s "$how" "$pid"; fi
	status=0
	wait "$pid" || status=$?
	unset FAULT_DELAY FAULT_MARK
	host_up A
	host_env A
}

t_matrix() {
	need_hosts
	host_vm_file w.yaml web1
	host_state A a.before
	local step how want
	for step in clone device print-xml; do
		for how in INT TERM HUP drop; do
			in_step "$how" "$step"
			case $how in
			drop) want=1 ;;
			*) want=$((128 + $(kill -l "$how"))) ;;
			esac
			[ "$status" = "$want" ] ||
				{ _fail "$how during $step: exit $status, expected $want: $(cat err)"; return 1; }
			if [ "$how" = drop ]; then
				run_qvm cleanup --host A --yes
				expect_exit 0
			fi
			host_state A a.after
			expect_same a.before a.after || { _fail "$how during $step changed A"; return 1; }
			# nothing of the run here either
			expect_file_absent "$QVM_STATE_DIR/web1"
		done
	done
}
test_case 'vm --host: SIGINT, SIGTERM, SIGHUP or the connection lost during each step on A: A as before (after cleanup --host when lost)' t_matrix

t_unreachable() {
	need_hosts
	host_vm_file w.yaml web1
	zfs_snapshot_state local.before
	host_drop A
	run_qvm vm --host A w.yaml
	expect_exit 1
	expect_match "^Error connecting to host: cannot reach A: .*(refused|closed)" err
	run_qvm list --host A
	expect_exit 1
	expect_match "^Error connecting to host: cannot reach A" err
	expect_state_unchanged local.before
	# names qvm refuses before ssh sees them
	local h
	for h in '-oProxyCommand=id' 'a;b' 'root@' 'A:0' 'A:99999' '[::1' 'x y'; do
		run_qvm list --host "$h"
		expect_exit 1
		expect_match "^Error connecting to host: invalid host" err
	done
	run_qvm list --host auto
	expect_exit 1
	expect_contains '--host auto chooses a host for qvm vm only' err
}
test_case 'a host that does not answer, and host names ssh could misread: errors, nothing changed' t_unreachable

t_shell_probe() {
	need_hosts
	host_vm_file w.yaml web1
	# a start-up file that talks: what qvm reads back is not what it sent
	echo 'echo welcome to A' >"$HOST_A_HOME/.bashrc"
	run_qvm list --host A
	expect_exit 1
	expect_contains 'the login shell on A does not read a quoted word back as sent' err
	rm -f "$HOST_A_HOME/.bashrc"
	run_qvm list --host A
	expect_exit 0
}
test_case "a remote shell that does not give qvm's words back exactly is refused before any change" t_shell_probe

t_quoting() {
	need_hosts
	# the recorded connect URI holds '?', '&', '=' and '/': it reaches A's
	# zfs as one word, byte for byte
	host_vm_file w.yaml web1 "connect: $HOST_A_URI"
	run_qvm vm --host A w.yaml
	expect_exit 0
	expect_eq "$HOST_A_URI" "$(on_host A zfs get -H -o value qvm:connect tank/images/web1)" "qvm:connect on A"
	grep -q "^clone .*'qvm:connect=$HOST_A_URI'" "$HOST_A_ZFS_LOG" ||
		{ _fail "A's zfs log: $(grep '^clone' "$HOST_A_ZFS_LOG")"; return 1; }
	# a libvirt URI other than A's for a VM made on A is refused: this
	# machine's, or B's (whose libvirt would open B's devices of A's paths)
	host_vm_file l.yaml web2 "connect: test:///default"
	run_qvm vm --host A l.yaml
	expect_exit 1
	expect_contains "connect URI test:///default is not the libvirt of A, where the VM is made ($HOST_A_URI)" err
	host_vm_file b.yaml web2 "connect: $HOST_B_URI"
	run_qvm vm --host A b.yaml
	expect_exit 1
	expect_contains "connect URI $HOST_B_URI is not the libvirt of A" err
	expect_eq '' "$(on_host A zfs list -H -o name tank/images/web2 2>/dev/null)" "web2 on A"
}
test_case "vm --host: values with shell characters reach the host's zfs as sent; a local connect URI is refused" t_quoting

t_foreign_run() {
	need_hosts
	# a run of another machine (boot) is never taken for over
	on_host A zfs clone -o qvm:kind=vm-disk -o qvm:vm=other -o qvm:state=creating \
		-o qvm:run=1-00@000000000000 $BASE@base tank/images/other
	on_host A zfs clone -o qvm:kind=vm-disk -o qvm:vm=dead -o qvm:state=creating \
		-o qvm:run=1-00 $BASE@base tank/images/dead
	run_qvm cleanup --host A --yes
	expect_exit 0
	on_host A zfs list -H -o name tank/images/other >/dev/null || { _fail "another machine's run removed"; return 1; }
	expect_eq '' "$(on_host A zfs list -H -o name tank/images/dead 2>/dev/null)" "the dead run's clone"
}
test_case "cleanup --host: a run of another machine stays, a dead one of this machine goes" t_foreign_run

t_host_marks() {
	need_hosts
	# a VM on B, the stand-in for "this machine's libvirt"
	export LIBVIRT_DEFAULT_URI=$HOST_B_LV_URI
	on_host B host_image
	host_vm_file w.yaml web
	run_qvm vm --host B w.yaml
	expect_exit 0
	local uuid
	uuid=$(virsh -c "$HOST_B_LV_URI" domuuid web)
	# A's marks name B's domain, by its UUID, with B's URI or none at all
	on_host A zfs create -V 1M -o qvm:kind=vm-disk -o qvm:vm=web -o qvm:state=creating \
		-o qvm:run=999999-0000000000000000 -o "qvm:uuid=$uuid" tank/images/web
	on_host A zfs create -V 1M -o qvm:kind=vm-disk -o qvm:vm=vm1 -o qvm:state=ready \
		-o "qvm:connect=$HOST_B_LV_URI" -o "qvm:uuid=$uuid" tank/images/vm1
	run_qvm cleanup --host A --yes
	run_qvm destroy --host A --yes vm1
	# whatever A says, only A's libvirt is asked: B's domain stays
	virsh -c "$HOST_B_LV_URI" dominfo web >/dev/null || { _fail "B's domain was removed through A's marks"; return 1; }
	# and a VM made on A by a qvm run there (its marks name qemu:///system,
	# A's own) is found on A's libvirt from here
	host_vm_file a.yaml a1
	run_qvm vm --host A a.yaml
	expect_exit 0
	on_host A zfs set qvm:connect=qemu:///system tank/images/a1
	run_qvm list --host A
	expect_match '^a1 +running ' out
	run_qvm destroy --host A --yes a1
	expect_exit 0
	! virsh -c "$HOST_A_LV_URI" dominfo a1 >/dev/null 2>&1 || { _fail "a1 left on A"; return 1; }
}
test_case "destroy, cleanup and list --host use the host's libvirt only, whatever its marks name" t_host_marks

t_private_state() {
	need_hosts
	# A's state directory where this machine cannot see it (sshd's own
	# /run), its parents made too: 0755, so qemu reaches the ISO
	host_env A QVM_STATE_DIR=/run/qvm-new/state
	host_vm_file w.yaml web1
	run_qvm vm --host A w.yaml
	expect_exit 0
	expect_file_absent /run/qvm-new
	expect_eq '755 755 711' "$(host_ssh A stat -c %a /run/qvm-new /run/qvm-new/state /run/qvm-new/state/web1 | xargs)" \
		"modes of the state directory's new parent, itself and the seed directory"
	run_qvm destroy --host A --yes web1
	expect_exit 0
	host_ssh A rm -r /run/qvm-new
	host_env A QVM_STATE_DIR=/run/qvm-state
	run_qvm vm --host A w.yaml
	expect_exit 0
	expect_file_absent /run/qvm-state
	host_ssh A test -f /run/qvm-state/web1/seed.iso
	run_qvm destroy --host A --yes web1
	expect_exit 0
	expect_contains "Removing seed directory /run/qvm-state/web1... done" out
	! host_ssh A test -e /run/qvm-state/web1 || { _fail "the seed directory is left on A"; return 1; }
	# --count instances with a host: each their own are refused, not moved
	host_vm_file c.yaml 'c{n}' 'host: A'
	run_qvm vm --count 2 --set 'vm.host={name}' --name 'B' c.yaml
	expect_exit 1
}
test_case "vm and destroy --host with a state directory only the host sees" t_private_state

t_hosts_file() {
	need_hosts
	printf 'A:\n  sshh: x\n' >bad-hosts
	QVM_HOSTS=$PWD/bad-hosts run_qvm list --host A
	expect_exit 1
	expect_line "Error connecting to host: $PWD/bad-hosts:2:3: unknown key 'sshh' (a host has 'ssh' and 'connect')" err
	QVM_HOSTS=$PWD/missing run_qvm list --host A
	expect_exit 1
	expect_contains "cannot read hosts file $PWD/missing: No such file or directory" err
	# the dry run names the host's paths and changes nothing there
	host_vm_file w.yaml web1
	host_state A a.before
	run_qvm vm --dry-run --host A w.yaml
	expect_exit 0
	expect_contains "$HOST_A_STATE_DIR/web1" out
	host_state A a.after
	expect_same a.before a.after
}
test_case 'the hosts file: errors at FILE:LINE:COL; --dry-run --host shows the host, changes nothing' t_hosts_file

test_done
