#!/bin/bash
# SPDX-License-Identifier: MIT
# The files in examples/ and the man pages' examples work as shipped:
# provisioned against the ZFS double and the real virt-install on
# test:///default (LIBVIRT_DEFAULT_URI), whose osinfo-db is Debian 12's.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

setup() {
	zfs_pool
	zfs create tank/vms
	make_image img 4M
	"$QVM" import img tank/images/debian12 >/dev/null
	# what qvm import --osinfo (or the catalog) records: the minimal file
	# names no osinfo; linux2022 is in Debian 12's osinfo-db
	zfs set qvm:osinfo=linux2022 qvm:user=debian tank/images/debian12
	zfs_log_reset
}

test_case 'examples/minimal.yaml provisions web1' '
	run_qvm vm "$TEST_REPO/examples/minimal.yaml"
	expect_exit 0
	expect_line "VM web1 created" out
	expect_eq "volume tank/images/debian12@base ready" \
		"$(zfs list -H -o type,origin,qvm:state tank/images/web1 | tr "\t" " ")" "the clone"
	real=$(sed -n 1p "$VIRT_INSTALL_LOG")
	# the file names no URI, no install source, no osinfo: qvm passes the
	# URI it resolved and its UUID, --import, and the image'"'"'s osinfo
	expect_eq "--name web1 --memory 1024 --disk path=$QVM_ZVOL_DIR/tank/images/web1 --import --osinfo linux2022 --connect test:///default --noautoconsole" \
		"$(printf "%s\n" "$real" | sed "s/ --uuid [^ ]*//; s/ --disk path=[^ ]*seed.iso.*//")" "virt-install arguments"
	# the ssh user: user-data'"'"'s first
	expect_eq admin "$(zfs get -H -o value qvm:user tank/images/web1)" "qvm:user of the clone"
	mkdir seed
	xorriso -osirrox on -indev "$QVM_STATE_DIR/web1/seed.iso" -extract / seed >/dev/null 2>&1
	expect_first_line "^#cloud-config$" seed/user-data
	expect_contains "ReplaceMe" seed/user-data
	# no meta-data document: qvm writes instance-id and local-hostname
	expect_eq "instance-id: web1
local-hostname: web1" "$(cat seed/meta-data)" "meta-data"
	# it says its key is a placeholder
	expect_match "^# The key below is a placeholder" "$TEST_REPO/examples/minimal.yaml"
	# and is the smallest: no import, osinfo or meta-data
	expect_no_match "^(import|osinfo|os-variant):|^qvm: meta-data" "$TEST_REPO/examples/minimal.yaml"
	# qvm-file(5) starts with it, as written
	sed -n "/^\.SH DESCRIPTION/,/^\.fi/p" "$TEST_REPO/man/qvm-file.5" | sed "1,/^\.nf/d; \$d" |
		sed "s/\\\\-/-/g" >man-minimal.yaml
	expect_eq "$(sed "/^#/d" "$TEST_REPO/examples/minimal.yaml")" "$(cat man-minimal.yaml)" "qvm-file(5)'"'"'s first example"
'

test_case 'examples/full.yaml: two NICs, nested sub-options, volsize, named clone' '
	run_qvm vm "$TEST_REPO/examples/full.yaml"
	expect_exit 0
	expect_line "VM db1 created" out
	expect_eq "20G lz4 tank/images/debian12@base" \
		"$(zfs get -H -o value volsize,compression,origin tank/vms/db1-root | tr "\n" " " | sed "s/ $//")" "clone properties"
	real=$(sed -n 1p "$VIRT_INSTALL_LOG")
	expect_contains "--osinfo detect=on,require=off" <(echo "$real")
	expect_contains "--network network=default,model=virtio --network bridge=br0,model=virtio,mac=52:54:00:12:34:56" <(echo "$real")
	expect_contains "--disk path=$QVM_ZVOL_DIR/tank/vms/db1-root,bus=virtio,driver.cache=none,driver.discard=unmap" <(echo "$real")
	expect_no_match "noreboot" <(echo "$real")
	mkdir seed
	xorriso -osirrox on -indev "$QVM_STATE_DIR/db1/seed.iso" -extract / seed >/dev/null 2>&1
	expect_contains "content: |" seed/user-data
	expect_line "instance-id: db1-0001" seed/meta-data
	expect_line "local-hostname: db1" seed/meta-data
'

test_case 'qvm-file(5)'"'"'s EXAMPLE provisions as written' '
	# the example, from the man page source, groff escapes undone
	sed -n "/^\.SH EXAMPLE/,/^\.fi/p" "$TEST_REPO/man/qvm-file.5" | sed "1,2d;\$d" |
		sed "s/\\\\-/-/g" >man-example.yaml
	expect_match "^osinfo: " man-example.yaml
	run_qvm vm man-example.yaml
	expect_exit 0
	expect_line "VM web1 created" out
'

test_done
