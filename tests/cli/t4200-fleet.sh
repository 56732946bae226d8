#!/bin/bash
# SPDX-License-Identifier: MIT
# The fleet (issue 15, item 4): qvm list/images --all-hosts ask this host
# and every host of the hosts file side by side and show them in one table
# (HOST first) or one JSON array ("host" in each object); a host that does
# not answer (or not within QVM_HOST_TIMEOUT: then its qvm is ended, with
# its ssh master) is a warning, not the end. qvm vm --host auto places a VM on
# the host that has its base image (of several, the one with the most free
# memory: the test driver reports the same on every host, so the memory
# comparison itself is unit-tested in test-placement) and says why.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vmlib.sh
. "$(dirname "$0")/vmlib.sh"
# shellcheck source=libvirtd.sh
. "$(dirname "$0")/libvirtd.sh"
# shellcheck source=hosts.sh
. "$(dirname "$0")/hosts.sh"

hosts_for_cases A B

setup() { hosts_reset; }

# remote_file FILE NAME [BASE]: a qvm file for VM NAME cloning BASE (default
# $BASE) on the libvirt of the host it goes to (no connect: of its own).
remote_file() {
	cat >"$1" <<-EOF
	---
	qvm: vm
	name: $2
	memory: 256
	vcpus: 2
	import: true
	osinfo: detect=on,require=off
	graphics: none
	network: network=default
	disk:
	  bus: virtio
	  zvol:
	    base: ${3:-$BASE}
	---
	qvm: user-data
	users:
	  - name: admin
	EOF
}

# A VM here (test:///default: its domain is gone once qvm ends), one on A
# (running on A's libvirtd) and the images they come from.
three_vms() {
	base_image
	vm_file l1.yaml l1
	run_qvm vm -q l1.yaml
	expect_exit 0
	on_host A base_image
	on_host B base_image
	remote_file a1.yaml a1
	run_qvm vm -q --host A a1.yaml
	expect_exit 0
	remote_file b1.yaml b1
	run_qvm vm -q --host B b1.yaml
	expect_exit 0
}

t_list_table() {
	need_hosts
	three_vms
	run_qvm list --all-hosts
	expect_exit 0
	expect_empty err
	expect_first_line '^HOST +NAME +STATE +VCPUS +MEMORY +DISK +BASE +USED +IP$' out
	expect_match '^localhost +l1 +undefined +- +- +tank/images/l1 +tank/images/debian12@base ' out
	expect_match '^A +a1 +running +2 +256.0 MiB +tank/images/a1 +tank/images/debian12@base ' out
	expect_match '^B +b1 +running +2 +256.0 MiB +tank/images/b1 +tank/images/debian12@base ' out
	expect_eq 4 "$(wc -l <out)" "lines"
	# this host first, then the hosts file's order
	expect_lines_in_order out '^localhost ' '^A ' '^B '
}
test_case 'list --all-hosts: every host'"'"'s VMs in one table, HOST first' t_list_table

t_list_json() {
	need_hosts
	three_vms
	run_qvm list --all-hosts --json
	expect_exit 0
	expect_empty err
	mv out all.json
	json_check all.json '[v["host"] for v in d] == ["localhost", "A", "B"]'
	json_check all.json '[v["name"] for v in d] == ["l1", "a1", "b1"]'
	json_check all.json 'list(d[1])[0] == "host" and d[1]["state"] == "running"'
	# otherwise each object is what qvm list --json says on its host
	run_qvm list --host A --json
	expect_exit 0
	mv out a.json
	python3 - all.json a.json <<-'PY'
	import json, sys
	every = json.load(open(sys.argv[1]))
	a = json.load(open(sys.argv[2]))
	mine = [{k: v for k, v in o.items() if k != "host"} for o in every if o["host"] == "A"]
	assert mine == a, (mine, a)
	PY
}
test_case 'list --all-hosts --json: qvm list'"'"'s objects with "host" first' t_list_json

t_images() {
	need_hosts
	base_image
	on_host A base_image
	on_host A zfs create -V 1M -o qvm:kind=image -o qvm:state=ready -o qvm:osinfo=alpine3.19 tank/images/alpine
	run_qvm images --all-hosts
	expect_exit 0
	expect_empty err
	expect_first_line '^HOST +DATASET +VOLSIZE +USED +CLONES +OSINFO +USER +SOURCE +CHECKSUM$' out
	expect_match '^localhost +tank/images/debian12 +2.0 MiB ' out
	expect_match '^A +tank/images/debian12 +2.0 MiB ' out
	expect_match '^A +tank/images/alpine +1.0 MiB +[0-9.]+ [KMG]?i?B +0 +alpine3.19 ' out
	expect_no_match '^B ' out
	run_qvm images --all-hosts --json
	expect_exit 0
	json_check out '[(v["host"], v["dataset"]) for v in d] == [("localhost", "tank/images/debian12"), ("A", "tank/images/alpine"), ("A", "tank/images/debian12")] or [(v["host"], v["dataset"]) for v in d] == [("localhost", "tank/images/debian12"), ("A", "tank/images/debian12"), ("A", "tank/images/alpine")]'
	json_check out 'all(list(v)[0] == "host" and "volsize" in v and "clones" in v for v in d)'
}
test_case 'images --all-hosts: every host'"'"'s images, as a table and as JSON' t_images

t_escaped() {
	need_hosts
	# a host's marks are anyone's to set: control characters reach no terminal
	on_host A zfs_pool
	on_host A zfs create -V 1M -o qvm:kind=image -o qvm:state=ready \
		-o "qvm:source=$(printf '/srv/\033[31mred\rx')" -o "qvm:user=$(printf 'a\033]0;t\007')" tank/images/odd
	run_qvm images --all-hosts
	expect_exit 0
	# qvm writes no control characters: a mark holding one is not taken
	expect_match '^A +tank/images/odd +1\.0 MiB .* - +- +- +-$' out
	if LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" out; then
		_fail "a control character in the table"
		return 1
	fi
	run_qvm images --all-hosts --json
	expect_exit 0
	json_check out 'd[0]["source"] is None and d[0]["user"] is None'
}
test_case 'images --all-hosts: a host'"'"'s marks holding control characters are not taken (none reaches the terminal)' t_escaped

t_host_warnings() {
	need_hosts
	# a VM on A whose libvirt cannot be reached (the hosts file names a
	# socket A does not have): A answers, with a warning
	on_host A base_image
	on_host A zfs clone -o qvm:kind=vm-disk -o qvm:vm=lost -o qvm:state=ready $BASE@base tank/images/lost
	sed "s#socket=$HOST_A_SOCK#socket=/nonexistent/sock#" "$QVM_HOSTS" >hosts
	QVM_HOSTS=$PWD/hosts run_qvm list --all-hosts
	expect_exit 0
	expect_match '^A +lost +unknown ' out
	expect_match '^Warning: host A: VM lost: cannot connect to test\+ssh://root@127\.0\.0\.1:[0-9]+/default\?socket=/nonexistent/sock&keyfile=' err
	expect_eq 1 "$(wc -l <err)" "warnings"
}
test_case 'a host'"'"'s own warnings are passed on, named by the host' t_host_warnings

t_dropped() {
	need_hosts
	three_vms
	host_drop B
	run_qvm list --all-hosts
	expect_exit 0
	expect_match '^Warning: host B did not answer: cannot reach B: ' err
	expect_eq 1 "$(wc -l <err)" "warnings"
	expect_match '^localhost +l1 ' out
	expect_match '^A +a1 +running ' out
	expect_no_match '^B ' out
	run_qvm images --all-hosts --json
	expect_exit 0
	expect_match '^Warning: host B did not answer: ' err
	json_check out 'sorted(set(v["host"] for v in d)) == ["A", "localhost"]'
}
test_case 'a host that does not answer is a warning; the others are shown' t_dropped

t_none_answer() {
	need_hosts
	host_drop A
	host_drop B
	# this host's zfs fails too (the double without its state: "The ZFS
	# modules are not loaded")
	unset ZFS_DOUBLE_STATE
	run_qvm list --all-hosts
	expect_exit 1
	expect_empty out
	expect_match '^Warning: host localhost did not answer: cannot list zvols: ' err
	expect_match '^Warning: host A did not answer: cannot reach A: ' err
	expect_match '^Warning: host B did not answer: cannot reach B: ' err
	expect_match '^Error listing virtual machines: no host answered \(3 asked\)$' err
}
test_case 'no host answers: an error (exit 1)' t_none_answer

t_signal() {
	need_hosts
	on_host A zfs_pool
	# A's zfs list takes 30 s
	host_env A "PATH=$TEST_REPO/tests/faults/bin:$HOSTS_PATH" "FAULT_NEXT_ZFS=$TEST_REPO/tests/zfs-double/zfs" \
		"FAULT_DELAY=list:30" "FAULT_MARK=$TEST_DIR/a-started"
	"$QVM" list --all-hosts >out 2>err &
	local pid=$! i start
	for i in $(seq 100); do
		[ -e "$TEST_DIR/a-started" ] && break
		sleep 0.1
	done
	expect_file_exists "$TEST_DIR/a-started"
	start=$(date +%s)
	kill -INT "$pid"
	status=0
	wait "$pid" || status=$?
	expect_exit 130
	expect_line 'Error listing virtual machines: interrupted by signal SIGINT' err
	[ $(($(date +%s) - start)) -lt 10 ] || { _fail "qvm took $(($(date +%s) - start)) s to end"; return 1; }
}
test_case 'a signal reaches every host'"'"'s qvm; qvm ends of it' t_signal

# nothing_left: no qvm of the run (the parent or a host's child), no ssh
# master or client of it and nothing in its TMPDIR ($TEST_DIR/tmp) is left.
nothing_left() {
	local qvm i
	qvm=$(realpath "${QVM_REAL:-$QVM}")
	for i in $(seq 40); do
		pgrep -f "$TEST_DIR/tmp/qvm-ssh-" >/dev/null || pgrep -f "^$qvm " >/dev/null || break
		sleep 0.05
	done
	! pgrep -af "$TEST_DIR/tmp/qvm-ssh-" || { _fail "an ssh master or client is left"; return 1; }
	! pgrep -af "^$qvm " || { _fail "a qvm is left"; return 1; }
	expect_eq '' "$(ls -A "$TEST_DIR/tmp")" "what is left in qvm's TMPDIR"
}

t_hung() {
	need_hosts
	three_vms
	# B's zfs never ends (a hung pool): its session stays open, which no
	# ssh option (ConnectTimeout, ServerAlive) bounds
	mkdir hang tmp
	printf '#!/bin/sh\nexec sleep 100000\n' >hang/zfs
	chmod +x hang/zfs
	host_env B "PATH=$TEST_DIR/hang:$HOSTS_PATH"
	export TMPDIR=$TEST_DIR/tmp QVM_HOST_TIMEOUT=3
	local start
	start=$(date +%s)
	run_qvm list --all-hosts
	expect_exit 0
	expect_line 'Warning: host B did not answer within 3 s (QVM_HOST_TIMEOUT)' err
	expect_eq 1 "$(wc -l <err)" "warnings"
	expect_match '^localhost +l1 ' out
	expect_match '^A +a1 +running ' out
	expect_no_match '^B ' out
	[ $(($(date +%s) - start)) -lt 15 ] || { _fail "qvm took $(($(date +%s) - start)) s"; return 1; }
	nothing_left
	run_qvm images --all-hosts --json
	expect_exit 0
	expect_line 'Warning: host B did not answer within 3 s (QVM_HOST_TIMEOUT)' err
	json_check out 'sorted(set(v["host"] for v in d)) == ["A", "localhost"]'
	nothing_left
	# vm --host auto: both have the image; B, silent, is passed over
	remote_file w.yaml web8
	run_qvm vm --host auto --dry-run w.yaml
	expect_exit 0
	expect_line 'Warning: host B did not answer within 3 s (QVM_HOST_TIMEOUT)' err
	expect_line 'Placing VM web8 on A: the only host that has tank/images/debian12@base (3.0 MiB free)' out
	nothing_left
	# this host's zfs hangs: the same, and that zfs is ended with its qvm
	host_env B
	printf '#!/bin/sh\nexec sleep 100001\n' >hang/zfs
	PATH=$TEST_DIR/hang:$PATH run_qvm images --all-hosts
	expect_exit 0
	expect_line 'Warning: host localhost did not answer within 3 s (QVM_HOST_TIMEOUT)' err
	expect_match '^A +tank/images/debian12 ' out
	expect_match '^B +tank/images/debian12 ' out
	expect_no_match '^localhost ' out
	nothing_left
	! pgrep -af '^sleep 100001$' || { _fail "this host's zfs is left"; return 1; }
}
test_case 'a host whose commands hang: reported after QVM_HOST_TIMEOUT, the others shown; nothing of it left' t_hung

t_no_zfs_here() {
	need_hosts
	on_host A base_image
	# a machine without zfs (an admin's): only the hosts of the file
	if [ -e /usr/bin/zfs ] || [ -e /bin/zfs ]; then
		skip "this machine has a zfs of its own"
	fi
	PATH=$TEST_REPO/tests/bin:/usr/bin:/bin run_qvm images --all-hosts
	expect_exit 0
	expect_empty err
	expect_match '^A +tank/images/debian12 ' out
	expect_no_match '^localhost ' out
}
test_case 'a machine without zfs is not asked (no warning): only the hosts of the file' t_no_zfs_here

t_usage() {
	need_hosts
	run_qvm list --all-hosts --host A
	expect_exit 1
	expect_first_line '^Error reading the command line: --host and --all-hosts exclude each other$' err
	run_qvm images --all-hosts --available
	expect_exit 1
	expect_match '^Error listing images: --available lists this host'"'"'s image catalog' err
	run_qvm list --host auto
	expect_exit 1
	expect_match '^Error connecting to host: --host auto chooses a host for qvm vm only$' err
	QVM_HOST_TIMEOUT=0 run_qvm list --all-hosts
	expect_exit 1
	expect_line 'Error listing virtual machines: QVM_HOST_TIMEOUT must be a whole number of seconds (1-86400)' err
	remote_file w.yaml web9
	QVM_HOST_TIMEOUT=2s run_qvm vm --host auto w.yaml
	expect_exit 1
	expect_line 'Error choosing a host: QVM_HOST_TIMEOUT must be a whole number of seconds (1-86400)' err
	# probe-host is qvm's own: not in the usage
	run_qvm --help
	expect_no_match 'probe-host' out
}
test_case '--all-hosts with --host or --available is refused; --host auto is for qvm vm' t_usage

t_auto_image() {
	need_hosts
	# the image only on B, and here (this host is no candidate)
	base_image
	on_host A zfs_pool
	on_host B base_image
	remote_file w.yaml web1
	on_host A zfs_snapshot_state "$TEST_DIR/a.before"
	run_qvm vm --host auto w.yaml
	expect_exit 0
	expect_line 'Placing VM web1 on B: the only host that has tank/images/debian12@base (3.0 MiB free)' out
	on_host B zfs list -H -o name tank/images/web1 >/dev/null
	on_host A zfs_snapshot_state "$TEST_DIR/a.after"
	expect_same "$TEST_DIR/a.before" "$TEST_DIR/a.after"
	zfs list -H -o name tank/images/web1 >/dev/null 2>&1 && { _fail "made here"; return 1; }
	run_qvm list --host B --json
	json_check out '[v["name"] for v in d] == ["web1"] and d[0]["state"] == "running"'
}
test_case 'vm --host auto: the host that has the base image' t_auto_image

t_auto_tie() {
	need_hosts
	on_host A base_image
	on_host B base_image
	remote_file w.yaml web2
	run_qvm vm --host auto w.yaml
	expect_exit 0
	expect_line 'Placing VM web2 on A: it has tank/images/debian12@base and the most free memory (3.0 MiB, as much as B: the first in the hosts file)' out
	on_host A zfs list -H -o name tank/images/web2 >/dev/null
	# host: auto in the file does the same
	remote_file h.yaml web3
	sed -i 's/^name: web3$/name: web3\nhost: auto/' h.yaml
	run_qvm vm h.yaml
	expect_exit 0
	expect_line 'Placing VM web3 on A: it has tank/images/debian12@base and the most free memory (3.0 MiB, as much as B: the first in the hosts file)' out
}
test_case 'vm --host auto: of hosts with as much free memory, the first in the hosts file' t_auto_tie

t_auto_count() {
	need_hosts
	on_host B base_image
	on_host A zfs_pool
	remote_file w.yaml web
	run_qvm vm --count 2 --host auto w.yaml
	expect_exit 0
	expect_eq 1 "$(grep -c '^Placing' out)" "placements"
	expect_line 'Placing 2 VMs (the first web-1) on B: the only host that has tank/images/debian12@base (3.0 MiB free)' out
	on_host B zfs list -H -o name tank/images/web-1 tank/images/web-2 >/dev/null
}
test_case 'vm --count --host auto: one choice, every VM there' t_auto_count

t_auto_extra_disk() {
	need_hosts
	# a second disk cloned from another base: only B has both; A none
	on_host A zfs_pool
	on_host B base_image
	on_host B zfs create -V 1M tank/data
	on_host B zfs snapshot tank/data@v1
	cat >w.yaml <<-EOF
	---
	qvm: vm
	name: web4
	memory: 256
	import: true
	osinfo: detect=on,require=off
	graphics: none
	network: network=default
	disk:
	  - bus: virtio
	    zvol:
	      base: $BASE
	  - zvol:
	      base: tank/data@v1
	      name: tank/images/web4-data
	---
	qvm: user-data
	EOF
	# before B has the second: neither has both; B lacks the fewer
	on_host B zfs destroy tank/data@v1
	run_qvm vm --host auto w.yaml
	expect_exit 1
	expect_line 'Error choosing a host: no host has tank/images/debian12@base, tank/data@v1: A, B answered without them; copy the images to one of them first: zfs send tank/data@v1 to B (no image'"'"'s @base: qvm images copy does not send it)' err
	# A lacks both: both are named
	on_host B zfs destroy -r tank/images/debian12
	run_qvm vm --host auto w.yaml
	expect_exit 1
	expect_match 'first: qvm images copy tank/images/debian12 A, then zfs send tank/data@v1 to A \(' err
	on_host B zfs create -s -V 2M -o qvm:kind=image -o qvm:state=ready $BASE
	on_host B zfs snapshot $BASE@base
	on_host B zfs snapshot tank/data@v1
	run_qvm vm --host auto w.yaml
	expect_exit 0
	on_host B zfs list -H -o name tank/images/web4-data >/dev/null
	expect_line 'Placing VM web4 on B: the only host that has tank/images/debian12@base, tank/data@v1 (3.0 MiB free)' out
}
test_case 'vm --host auto: the host must have the base of every disk' t_auto_extra_disk

t_auto_none() {
	need_hosts
	base_image
	on_host A zfs_pool
	on_host B zfs_pool
	remote_file w.yaml web5
	on_host A zfs_snapshot_state "$TEST_DIR/a.before"
	on_host B zfs_snapshot_state "$TEST_DIR/b.before"
	run_qvm vm --host auto w.yaml
	expect_exit 1
	expect_line 'Error choosing a host: no host has tank/images/debian12@base: A, B answered without it; copy the image to one of them first: qvm images copy tank/images/debian12 A' err
	on_host A zfs_snapshot_state "$TEST_DIR/a.after"
	on_host B zfs_snapshot_state "$TEST_DIR/b.after"
	expect_same "$TEST_DIR/a.before" "$TEST_DIR/a.after"
	expect_same "$TEST_DIR/b.before" "$TEST_DIR/b.after"
	# one does not answer: said, and the other one is not enough
	host_drop B
	run_qvm vm --host auto w.yaml
	expect_exit 1
	expect_match '^Warning: host B did not answer: cannot reach B: ' err
	expect_line 'Error choosing a host: no host has tank/images/debian12@base: A answered without it, B did not answer; copy the image to one of them first: qvm images copy tank/images/debian12 A' err
}
test_case 'vm --host auto: no host has the image: the hosts asked, and how to copy it; nothing made' t_auto_none

t_auto_dropped() {
	need_hosts
	on_host A base_image
	on_host B base_image
	host_drop A
	remote_file w.yaml web6
	run_qvm vm --host auto w.yaml
	expect_exit 0
	expect_match '^Warning: host A did not answer: cannot reach A: ' err
	expect_line 'Placing VM web6 on B: the only host that has tank/images/debian12@base (3.0 MiB free)' out
	on_host B zfs list -H -o name tank/images/web6 >/dev/null
}
test_case 'vm --host auto: a host that does not answer is passed over' t_auto_dropped

t_auto_no_hosts() {
	need_hosts
	base_image
	remote_file w.yaml web7
	printf '# no hosts\n' >hosts.yaml
	QVM_HOSTS=$TEST_DIR/hosts.yaml run_qvm vm --host auto w.yaml
	expect_exit 1
	expect_line "Error choosing a host: --host auto chooses among the hosts of the hosts file, and $TEST_DIR/hosts.yaml names none" err
	# this host alone answers --all-hosts when the file names none
	QVM_HOSTS=$TEST_DIR/hosts.yaml run_qvm images --all-hosts --json
	expect_exit 0
	json_check out '[v["host"] for v in d] == ["localhost"]'
}
test_case 'vm --host auto with a hosts file that names no host' t_auto_no_hosts

test_done
