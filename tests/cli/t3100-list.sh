#!/bin/bash
# SPDX-License-Identifier: MIT
# qvm list and qvm images: what qvm made, found by its qvm:* marks, with
# libvirt's facts about each domain (through the libvirt C API, on the URI
# in qvm:connect), as aligned tables and as JSON.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vmlib.sh
. "$(dirname "$0")/vmlib.sh"
# shellcheck source=libvirtd.sh
. "$(dirname "$0")/libvirtd.sh"

libvirtd_for_cases

setup() { base_image; }

t_empty() {
	zpool destroy tank
	zpool create tank
	run_qvm list
	expect_exit 0
	expect_eq 'NAME  STATE  VCPUS  MEMORY  DISK  BASE  USED  IP' "$(cat out)" "header only"
	run_qvm list --json
	expect_exit 0
	json_check out 'd == []'
	run_qvm images --json
	expect_exit 0
	json_check out 'd == []'
}
test_case 'nothing made yet: a header, an empty JSON array' t_empty

t_undefined() {
	vm_file l1.yaml l1
	run_qvm vm l1.yaml
	expect_exit 0
	# unmarked volumes and clones are not qvm's VMs
	zfs clone $BASE@base tank/images/other
	run_qvm list
	expect_exit 0
	expect_empty err
	expect_first_line '^NAME +STATE +VCPUS +MEMORY +DISK +BASE +USED +IP$' out
	expect_match '^l1 +undefined +- +- +tank/images/l1 +tank/images/debian12@base +[0-9.]+ [KMG]?i?B +-$' out
	expect_eq 2 "$(wc -l <out)" "lines"
	run_qvm list --json
	expect_exit 0
	json_check out 'len(d) == 1 and d[0]["name"] == "l1" and d[0]["state"] == "undefined"'
	json_check out '"disk" not in d[0] and d[0]["disks"] == ["tank/images/l1"]'
	json_check out 'd[0]["base"] == "tank/images/debian12@base" and d[0]["vcpus"] is None'
	json_check out 'd[0]["ip"] is None and d[0]["connect"] == "test:///default"'
	json_check out 'isinstance(d[0]["used"], int)'
}
test_case 'list: a VM whose domain is gone (test:///default) shows as undefined' t_undefined

t_running() {
	need_libvirtd
	vm_file l2.yaml l2 "$LV_URI"
	vm_file l3.yaml l3 "$LV_URI"
	sed -i 's/^memory: 256/memory: 512/; s/^vcpus: 2/vcpus: 1/' l3.yaml
	run_qvm vm l2.yaml
	expect_exit 0
	run_qvm vm l3.yaml
	expect_exit 0
	virsh -c "$LV_URI" suspend l3 >/dev/null
	run_qvm list
	expect_exit 0
	expect_empty err
	expect_match '^l2 +running +2 +256\.0 MiB +tank/images/l2 +tank/images/debian12@base +.* 192\.168\.122\.[0-9]+$' out
	expect_match '^l3 +paused +1 +512\.0 MiB +tank/images/l3 ' out
	# columns line up: every row's STATE starts where the header's does
	col=$(head -n 1 out | grep -bo 'STATE' | cut -d: -f1)
	expect_eq "$col" "$(sed -n 2p out | grep -bo 'running' | cut -d: -f1)" "STATE column"
	run_qvm list --json
	expect_exit 0
	json_check out '[v["name"] for v in d] == ["l2", "l3"]'
	json_check out 'd[0]["state"] == "running" and d[0]["vcpus"] == 2 and d[0]["memory"] == 256 * 1024 * 1024'
	json_check out 'd[0]["ip"].startswith("192.168.122.")'
	json_check out 'd[1]["state"] == "paused" and d[1]["memory"] == 512 * 1024 * 1024'
	virsh -c "$LV_URI" destroy l3 >/dev/null
	run_qvm list
	expect_match '^l3 +shut off ' out
}
test_case 'list: state, vCPUs, memory and IP from libvirt on the URI in qvm:connect' t_running

t_unreachable() {
	vm_file l4.yaml l4
	run_qvm vm l4.yaml
	expect_exit 0
	zfs set "qvm:connect=test+unix:///default?socket=$TEST_DIR/nope" tank/images/l4
	run_qvm list
	expect_exit 0
	expect_match '^l4 +unknown ' out
	expect_match '^Warning: VM l4: cannot connect to test\+unix' err
	run_qvm list --json
	json_check out 'd[0]["state"] == "unknown" and "cannot connect" in d[0]["error"]'
	# two VMs on that URI: one warning naming both
	vm_file l5.yaml l5
	run_qvm vm l5.yaml
	expect_exit 0
	zfs set "qvm:connect=test+unix:///default?socket=$TEST_DIR/nope" tank/images/l5
	run_qvm list
	expect_exit 0
	expect_eq 1 "$(grep -c '^Warning' err)" "warnings"
	expect_match '^Warning: VMs l4, l5: cannot connect to test\+unix' err
}
test_case 'list: an unreachable libvirt is a per-VM warning, not a failure' t_unreachable

t_creating() {
	zfs clone -o qvm:kind=vm-disk -o qvm:vm=l5 -o qvm:state=creating -o qvm:run=1-0 $BASE@base tank/images/l5
	run_qvm list
	expect_exit 0
	expect_match '^l5 +creating ' out
}
test_case 'list: a disk of an unfinished run shows as creating' t_creating

t_images() {
	zfs set qvm:sha256=0123abcd $BASE
	vm_file l6.yaml l6
	run_qvm vm l6.yaml
	expect_exit 0
	zfs clone $BASE@base tank/images/handmade
	zfs create -V 1M tank/images/unmarked
	run_qvm images
	expect_exit 0
	expect_empty err
	expect_first_line '^DATASET +VOLSIZE +USED +CLONES +OSINFO +USER +SOURCE +CHECKSUM$' out
	expect_match '^tank/images/debian12 +2\.0 MiB +[0-9.]+ [KMG]?i?B +2 +- +- +/srv/debian12\.raw +sha256:0123abcd$' out
	expect_eq 2 "$(wc -l <out)" "lines"
	run_qvm images --json
	expect_exit 0
	json_check out 'len(d) == 1 and d[0]["dataset"] == "tank/images/debian12"'
	json_check out 'd[0]["volsize"] == 2097152 and d[0]["clones"] == 2 and d[0]["sha256"] == "0123abcd"'
	json_check out 'd[0]["sha512"] is None'
	json_check out 'd[0]["source"] == "/srv/debian12.raw" and isinstance(d[0]["used"], int)'
}
test_case 'images: size, used, clones, source and checksum of the images qvm imported' t_images

t_json_escaping() {
	zfs set 'qvm:source=/srv/a "quoted"\path/é' $BASE
	run_qvm images --json
	expect_exit 0
	json_check out 'd[0]["source"] == "/srv/a \"quoted\"\\path/\u00e9"'
	run_qvm images
	expect_match 'quoted' out
}
test_case 'images --json escapes quotes and backslashes, keeps UTF-8' t_json_escaping

t_zfs_fails() {
	ZFS_DOUBLE_FAIL=get run_qvm list
	expect_exit 1
	expect_match '^Error listing virtual machines: cannot list zvols: ' err
	ZFS_DOUBLE_FAIL=get run_qvm images
	expect_exit 1
	expect_match '^Error listing images: cannot list zvols: ' err
}
test_case 'zfs get of the volumes failing is an error' t_zfs_fails

t_full_stdout() {
	[ -w /dev/full ] || skip "no /dev/full"
	"$QVM" images >/dev/full 2>err && status=0 || status=$?
	expect_exit 1
	expect_match '^Error writing output' err
}
test_case 'output that cannot be written is an error' t_full_stdout

t_usage() {
	run_qvm list extra
	expect_exit 1
	expect_match "^Error reading the command line: 'list' takes 0 arguments" err
	run_qvm images --frob
	expect_exit 1
	expect_match "^Error reading the command line: unknown option '--frob' for 'images'" err
}
test_case 'list/images: usage mistakes' t_usage

test_done
