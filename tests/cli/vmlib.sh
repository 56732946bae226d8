# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Helpers for the tests of qvm's VM commands (vm options, destroy, list,
# images). Source after lib.sh.

BASE=tank/images/debian12

# base_image: a pool, tank/images, and $BASE marked as an image qvm
# imported, with some content and its @base snapshot.
base_image() {
	zfs_pool
	zfs create -s -V 2M -o qvm:kind=image -o qvm:source=/srv/debian12.raw -o qvm:state=ready $BASE
	printf 'base image content' | dd of="$QVM_ZVOL_DIR/$BASE" conv=notrunc status=none
	zfs snapshot $BASE@base
	zfs_log_reset
}

# vm_file FILE NAME [CONNECT] [EXTRA-VM-LINES]: a qvm file for VM NAME
# cloning $BASE, on CONNECT (default test:///default).
vm_file() {
	local file=$1 name=$2 connect=${3:-test:///default} extra=${4:-}
	{
		cat <<-EOF
		---
		qvm: vm
		name: $name
		connect: $connect
		memory: 256
		vcpus: 2
		import: true
		osinfo: detect=on,require=off
		graphics: none
		network: network=default
		disk:
		  bus: virtio
		  zvol:
		    base: $BASE
		EOF
		[ -z "$extra" ] || printf '%s\n' "$extra"
		cat <<-EOF
		---
		qvm: user-data
		users:
		  - name: admin
		---
		qvm: meta-data
		EOF
	} >"$file"
}

# extract_seed NAME DIR: the files of VM NAME's seed image into DIR.
extract_seed() {
	mkdir -p "$2"
	xorriso -osirrox on -indev "$QVM_STATE_DIR/$1/seed.iso" -extract / "$2" >/dev/null 2>&1
}

# json_check FILE PYTHON-EXPR: FILE parses as JSON (as `d`) and the
# expression holds.
json_check() {
	python3 - "$1" "$2" <<-'PY'
	import json, sys
	d = json.load(open(sys.argv[1]))
	ok = eval(sys.argv[2])
	if not ok:
	    print("json_check failed:", sys.argv[2], "on", json.dumps(d, indent=1))
	    sys.exit(1)
	PY
}
