#!/bin/bash
# SPDX-License-Identifier: MIT
# Text qvm did not write - dataset names and property values from zfs,
# domain names from libvirt, a child's stderr - reaches the terminal
# escaped (msg_text: C0, DEL, C1 in UTF-8 and as raw bytes), in tables,
# in what destroy asks about and in errors, here and with --host alike;
# JSON keeps json-c's own escaping. tests/hostile-zfs/zfs plays the zfs of
# a host that is not to be trusted: names no real zfs makes.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vmlib.sh
. "$(dirname "$0")/vmlib.sh"
# shellcheck source=libvirtd.sh
. "$(dirname "$0")/libvirtd.sh"
# shellcheck source=hosts.sh
. "$(dirname "$0")/hosts.sh"

libvirtd_for_cases
hosts_for_cases A

setup() { hosts_reset; }

HOSTILE_BIN=$TEST_REPO/tests/hostile-zfs
# the names tests/hostile-zfs/zfs shows, as qvm is to print them
ESC_SHOWN='tank/images/\x1b]0;PWNED\x07\x1b[31mweb1\x'
C1_SHOWN='tank/images/\xc2\x9b2J\xc2\x9d0;PWN\xc2\x9cweb2'
RAW_SHOWN='tank/images/\x9b2J\x9d0;PWN\x9cweb3'
ERR_SHOWN='cannot open \x1b]0;PWNED\x07\x1b[2J: \xc2\x9b31mdataset does not exist\x9b0m'

# hostile_volumes: two images whose names hold C1 controls (UTF-8, raw) and
# VM web1's disk, cloned from one, whose name holds ESC sequences.
hostile_volumes() {
	zfs_pool
	for v in c1 raw; do
		zfs create -s -V 1M -o qvm:kind=image -o qvm:state=ready tank/images/hostile-$v
		zfs snapshot tank/images/hostile-$v@base
	done
	zfs clone -o qvm:kind=vm-disk -o qvm:vm=web1 -o qvm:state=ready -o qvm:connect=test:///default \
		tank/images/hostile-c1@base tank/images/hostile-esc
}

# no_controls FILE: FILE is UTF-8 with no control character but line breaks.
no_controls() {
	python3 - "$1" <<-'PY' && return 0
	import sys
	b = open(sys.argv[1], 'rb').read()
	try:
	    t = b.decode('utf-8')
	except UnicodeDecodeError as e:
	    sys.exit('%s: not UTF-8 at byte %d: %r' % (sys.argv[1], e.start, b))
	bad = sorted({c for c in t if (ord(c) < 0x20 and c != '\n') or 0x7f <= ord(c) <= 0x9f})
	if bad:
	    sys.exit('%s: control characters %r in %r' % (sys.argv[1], bad, t))
	PY
	_fail "control characters reach the terminal"
	return 1
}

t_tables() {
	hostile_volumes
	PATH=$HOSTILE_BIN:$PATH run_qvm list
	expect_exit 0
	no_controls out
	no_controls err
	# one backslash stays one
	expect_match '^web1 +undefined ' out
	expect_contains "  $ESC_SHOWN  $C1_SHOWN@base  " out
	PATH=$HOSTILE_BIN:$PATH run_qvm images
	expect_exit 0
	no_controls out
	expect_contains "$C1_SHOWN " out
	expect_contains "$RAW_SHOWN " out
	# the columns still line up: widths are those of the escaped text
	col=$(head -n 1 out | grep -bo 'VOLSIZE' | cut -d: -f1)
	expect_eq "$col" "$(grep -F "$RAW_SHOWN" out | grep -bo '1.0 MiB' | cut -d: -f1 | head -n 1)" \
		"VOLSIZE column"
}
test_case 'list, images: names holding C0 and C1 controls are shown escaped' t_tables

t_marks() {
	base_image
	zfs set qvm:user=$'ad\xc2\x9bmin' qvm:osinfo=$'deb\xc2\x85ian12' $BASE
	run_qvm images --json
	expect_exit 0
	# qvm writes no control characters, C1 neither: such a mark is not qvm's
	json_check out 'd[0]["user"] is None and d[0]["osinfo"] is None'
}
test_case 'images: marks holding C1 controls are not taken' t_marks

t_json() {
	hostile_volumes
	PATH=$HOSTILE_BIN:$PATH run_qvm list --json
	expect_exit 0
	# json-c's escaping: \u001b, \u0007; C1 is valid in a JSON string
	expect_no_match $'[\x01-\x09\x0b-\x1f]' out
	python3 - out <<-'PY'
	import json, sys
	d = json.loads(open(sys.argv[1], 'rb').read().decode('utf-8'))
	assert d[0]['disks'] == ['tank/images/\x1b]0;PWNED\x07\x1b[31mweb1\\x'], d
	assert d[0]['base'] == 'tank/images/\x9b2J\x9d0;PWN\x9cweb2@base', d
	PY
	PATH=$HOSTILE_BIN:$PATH run_qvm images --json
	expect_exit 0
	expect_no_match $'[\x01-\x09\x0b-\x1f]' out
}
test_case 'list, images --json: json-c escapes C0 controls, C1 stays (valid JSON)' t_json

t_destroy() {
	hostile_volumes
	PATH=$HOSTILE_BIN:$PATH run_qvm destroy web1
	expect_exit 1
	no_controls out
	no_controls err
	expect_lines_in_order out '^VM web1:$'
	expect_line "  zvol $ESC_SHOWN" out
	# zfs failing: its stderr, naming the zvol, escaped too
	ZFS_DOUBLE_FAIL=destroy PATH=$HOSTILE_BIN:$PATH run_qvm destroy --yes web1
	expect_exit 1
	no_controls out
	no_controls err
	expect_contains "Error destroying VM: web1: cannot destroy zvol $ESC_SHOWN: " err
	PATH=$HOSTILE_BIN:$PATH run_qvm destroy --yes web1
	expect_exit 0
	no_controls out
	expect_line "Destroying zvol $ESC_SHOWN... done" out
	expect_eq '' "$(zfs list -H -o name tank/images/hostile-esc 2>/dev/null)" "the disk"
}
test_case 'destroy: the zvol named in the confirmation, the steps and errors escaped' t_destroy

t_child_error() {
	zfs_pool
	HOSTILE_ZFS_FAIL=get PATH=$HOSTILE_BIN:$PATH run_qvm list
	expect_exit 1
	no_controls err
	expect_line "Error listing virtual machines: cannot list zvols: $ERR_SHOWN" err
	HOSTILE_ZFS_FAIL=get PATH=$HOSTILE_BIN:$PATH run_qvm images
	expect_exit 1
	no_controls err
	expect_line "Error listing images: cannot list zvols: $ERR_SHOWN" err
}
test_case 'a child'"'"'s stderr in an error is escaped' t_child_error

t_domain_name() {
	need_libvirtd
	base_image
	vm_file d1.yaml d1 "$LV_URI"
	run_qvm vm d1.yaml
	expect_exit 0
	virsh -c "$LV_URI" destroy d1 >/dev/null
	virsh -c "$LV_URI" domrename d1 $'\xc2\x9b2J\xc2\x9d0;PWN\xc2\x9cd1' >/dev/null ||
		skip "the test driver renames no domain"
	run_qvm destroy d1
	expect_exit 1
	no_controls out
	expect_match '^  domain \\xc2\\x9b2J\\xc2\\x9d0;PWN\\xc2\\x9cd1 \(UUID [0-9a-f-]{36}\) on .* \(shut off\)$' out
	run_qvm destroy --yes d1
	expect_exit 0
	no_controls out
	expect_line 'Stopping and undefining domain \xc2\x9b2J\xc2\x9d0;PWN\xc2\x9cd1... done' out
}
test_case 'destroy: a domain renamed with C1 controls is shown escaped' t_domain_name

t_host() {
	need_hosts
	on_host A hostile_volumes
	host_env A "PATH=$HOSTILE_BIN:$HOSTS_PATH"
	run_qvm list --host A
	expect_exit 0
	no_controls out
	expect_contains "$ESC_SHOWN" out
	run_qvm images --host A
	expect_exit 0
	no_controls out
	expect_contains "$RAW_SHOWN " out
	run_qvm destroy --host A web1
	expect_exit 1
	no_controls out
	expect_line "  zvol $ESC_SHOWN" out
	host_env A "PATH=$HOSTILE_BIN:$HOSTS_PATH" HOSTILE_ZFS_FAIL=get
	run_qvm list --host A
	expect_exit 1
	no_controls err
	expect_line "Error listing virtual machines: cannot list zvols: $ERR_SHOWN" err
}
test_case '--host: a remote zfs'"'"'s names and stderr are shown escaped' t_host

t_host_dirs() {
	need_hosts
	host_env A "QVM_STATE_DIR=$HOST_A_STATE_DIR/"$'\xc2\x9b2J'
	run_qvm list --host A
	expect_exit 1
	no_controls err
	expect_match '^Error .*reports a state or zvol directory that is not an absolute path of printable characters' err
}
test_case '--host: a state directory holding a C1 control is refused' t_host_dirs

test_done
