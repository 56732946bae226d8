#!/bin/bash
# SPDX-License-Identifier: MIT
# What the image knows: qvm:osinfo and qvm:user on the base are the VM's
# defaults (--osinfo, the ssh user recorded on the boot clone); --import
# when the file names no install source; meta-data optional; quoted flags
# refused. The image's properties are untrusted: refused when they could be
# read as options.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vmlib.sh
. "$(dirname "$0")/vmlib.sh"

setup() { base_image; }

# small_file FILE NAME [VM-LINES] [USER-DATA-LINES]: the smallest file.
small_file() {
	{
		printf -- '---\nqvm: vm\nname: %s\nmemory: 256\n' "$2"
		[ -z "${3:-}" ] || printf '%s\n' "$3"
		printf 'disk:\n  zvol:\n    base: %s\n---\nqvm: user-data\n' "$BASE"
		[ -z "${4:-}" ] || printf '%s\n' "$4"
	} >"$1"
}

# the virt-install arguments of a dry run, without the paths and the UUID
planned_vi() { sed -n 's/^  run: virt-install //p' out | sed 's/ --disk [^ ]*//g; s/ --uuid [^ ]*//'; }
planned_clone() { sed -n 's/^  run: zfs clone //p' out; }

t_osinfo_from_image() {
	zfs set qvm:osinfo=linux2022 $BASE
	small_file s.yaml s1
	run_qvm vm --dry-run s.yaml
	expect_exit 0
	expect_eq "--name s1 --memory 256 --import --osinfo linux2022 --connect test:///default --noautoconsole --serial pty,log.file=$QVM_STATE_DIR/s1/console.log --print-xml --dry-run --debug" \
		"$(planned_vi)" "virt-install: --import and the image's osinfo"
	run_qvm vm s.yaml
	expect_exit 0
	expect_line 'VM s1 created' out
	expect_contains '--import --osinfo linux2022 ' "$VIRT_INSTALL_LOG"
	# the file's own osinfo (or os-variant) wins; the image's is not added
	small_file o.yaml o1 'osinfo: detect=on,require=off'
	run_qvm vm --dry-run o.yaml
	expect_exit 0
	expect_eq "--name o1 --memory 256 --osinfo detect=on,require=off --import --connect test:///default --noautoconsole --serial pty,log.file=$QVM_STATE_DIR/o1/console.log --print-xml --dry-run --debug" \
		"$(planned_vi)" "the file's osinfo"
	small_file v.yaml v1 'os-variant: linux2022'
	run_qvm vm --dry-run v.yaml
	expect_exit 0
	expect_no_match -- '--osinfo' <(planned_vi)
	# set on the snapshot itself: that one
	zfs set qvm:osinfo=linux2020 $BASE@base
	run_qvm vm --dry-run --name s2 s.yaml
	expect_exit 0
	expect_contains '--osinfo linux2020 ' <(planned_vi)
}
test_case 'the image'"'"'s qvm:osinfo is the default osinfo; --import when no install source is named' t_osinfo_from_image

t_no_osinfo() {
	small_file s.yaml s1
	zfs_snapshot_state before
	run_qvm vm s.yaml
	expect_exit 1
	expect_line "Error validating virtual machine: the vm document names no osinfo and image $BASE@base records none: add 'osinfo: NAME' (virt-install --osinfo list) or re-import with qvm import --osinfo" err
	expect_state_unchanged before
	expect_file_absent "$QVM_STATE_DIR/s1"
	# an install source of the file's: no --import added
	small_file c.yaml c1 'osinfo: linux2022
location: http://deb.example/debian/'
	run_qvm vm --dry-run c.yaml
	expect_no_match -- '--import' <(sed -n 's/^  run: virt-install //p' out)
}
test_case 'no osinfo in the file nor on the image: a qvm error before any change' t_no_osinfo

t_osinfo_untrusted() {
	small_file s.yaml s1
	for bad in --foo 'x,y=z' 'detect=on' 'Debian 12' '-x'; do
		zfs set "qvm:osinfo=$bad" $BASE
		zfs_snapshot_state before
		run_qvm vm s.yaml
		expect_exit 1
		expect_line "Error validating virtual machine: image $BASE@base records qvm:osinfo '$bad', which is not an osinfo short-id: add 'osinfo: NAME' to the vm document (virt-install --osinfo list)" err
		expect_state_unchanged before
		[ ! -s "$VIRT_INSTALL_LOG" ] || { echo "virt-install ran" >&2; return 1; }
	done
	# a control character is escaped in the message
	zfs set "qvm:osinfo=a$(printf '\033')[31mb" $BASE
	run_qvm vm s.yaml
	expect_exit 1
	expect_contains "records qvm:osinfo 'a\\x1b[31mb'" err
	# the file's own osinfo: the image's is not used, nor checked
	small_file o.yaml o1 'osinfo: linux2022'
	zfs set qvm:osinfo=--foo $BASE
	run_qvm vm --dry-run o.yaml
	expect_exit 0
}
test_case 'an image'"'"'s qvm:osinfo that is no short-id (an option, sub-options) is refused' t_osinfo_untrusted

t_ssh_user() {
	zfs set qvm:osinfo=linux2022 qvm:user=debian $BASE
	# user-data's first user (a mapping's name, or a string)
	small_file a.yaml a1 '' 'users:
  - name: ops
    sudo: ALL
  - name: admin'
	run_qvm vm a.yaml
	expect_exit 0
	expect_eq ops "$(zfs get -H -o value qvm:user tank/images/a1)" "the first user"
	small_file b.yaml b1 '' 'users: [admin, ops]'
	run_qvm vm b.yaml
	expect_exit 0
	expect_eq admin "$(zfs get -H -o value qvm:user tank/images/b1)" "a string entry"
	# "default" is the image's user; so is no users at all
	small_file c.yaml c1 '' 'users: [default, admin]'
	run_qvm vm c.yaml
	expect_exit 0
	expect_eq debian "$(zfs get -H -o value qvm:user tank/images/c1)" "default: the image's"
	small_file d.yaml d1
	run_qvm vm --dry-run d.yaml
	expect_exit 0
	expect_contains ' -o qvm:user=debian tank/images/debian12@base tank/images/d1' <(planned_clone)
	# neither: no qvm:user
	zfs inherit qvm:user $BASE
	run_qvm vm d.yaml
	expect_exit 0
	expect_eq - "$(zfs get -H -o value qvm:user tank/images/d1)" "no user anywhere"
	expect_no_match 'qvm:user' <(grep '^clone' "$ZFS_DOUBLE_LOG" | grep 'tank/images/d1')
}
test_case 'the ssh user: user-data'"'"'s first, else the image'"'"'s qvm:user, recorded on the boot clone' t_ssh_user

t_ssh_user_untrusted() {
	zfs set qvm:osinfo=linux2022 $BASE
	# user-data's: refused where it is, never printed (user-data is secret)
	small_file a.yaml a1 '' 'users:
  - name: -oProxyCommand=touch${IFS}pwned'
	zfs_snapshot_state before
	run_qvm vm a.yaml
	expect_exit 1
	expect_line "Error reading qvm file: a.yaml:11:11: the first user in user-data's 'users' is not a login name qvm ssh can use (letters, digits, '.', '_', '-', not starting with '-' or '.'; at most 32)" err
	expect_no_match 'ProxyCommand|pwned' err
	expect_no_match 'ProxyCommand|pwned' out
	expect_state_unchanged before
	# the image's: refused when it would be used, escaped
	zfs set 'qvm:user=-oProxyCommand=x' $BASE
	small_file b.yaml b1 '' 'users: [default]'
	zfs_snapshot_state before
	run_qvm vm b.yaml
	expect_exit 1
	expect_line "Error validating virtual machine: image $BASE@base records qvm:user '-oProxyCommand=x', which is not a login name" err
	expect_state_unchanged before
	# not used when user-data names its own
	small_file c.yaml c1 '' 'users: [admin]'
	run_qvm vm c.yaml
	expect_exit 0
	expect_eq admin "$(zfs get -H -o value qvm:user tank/images/c1)" "user-data's user"
}
test_case 'a user name that is no login name (an ssh option) is refused, user-data'"'"'s never printed' t_ssh_user_untrusted

t_small_documents() {
	zfs set qvm:osinfo=linux2022 $BASE
	# an empty user-data document, no meta-data
	small_file s.yaml s1
	run_qvm vm s.yaml
	expect_exit 0
	extract_seed s1 seed
	expect_eq '#cloud-config
{}' "$(cat seed/user-data)" "user-data"
	expect_eq 'instance-id: s1
local-hostname: s1' "$(cat seed/meta-data)" "meta-data"
	# --set of meta-data works without the document
	run_qvm vm --name s2 --set 'meta-data.local-hostname={name}.example.com' s.yaml
	expect_exit 0
	extract_seed s2 seed2
	expect_line 'local-hostname: s2.example.com' seed2/meta-data
	expect_line 'instance-id: s2' seed2/meta-data
	# no user-data: says an empty one is enough
	printf -- '---\nqvm: vm\nname: x\nmemory: 256\ndisk:\n  zvol:\n    base: %s\n' $BASE >n.yaml
	run_qvm vm n.yaml
	expect_exit 1
	expect_line "Error reading qvm file: n.yaml:1:1: missing user-data document (an empty one is enough: a document holding only 'qvm: user-data')" err
}
test_case 'meta-data is optional and user-data may be empty' t_small_documents

t_quoted_flags() {
	zfs set qvm:osinfo=linux2022 $BASE
	small_file q.yaml q1 'import: "true"
noreboot: '"'yes'"
	run_qvm vm q.yaml
	expect_exit 1
	expect_line "Error reading qvm file: q.yaml:5:9: 'import' is a flag: write true or false without quotes" err
	expect_line "Error reading qvm file: q.yaml:6:11: 'noreboot' is a flag: write true or false without quotes" err
	expect_no_match 'unrecognized arguments' err
	[ ! -s "$VIRT_INSTALL_LOG" ] || { echo "virt-install ran" >&2; return 1; }
	# by --set too
	small_file s.yaml s1
	run_qvm vm --set 'vm.autostart="on"' s.yaml
	expect_exit 1
	expect_line "Error reading qvm file: --set vm.autostart=\"on\": 'autostart' is a flag: write true or false without quotes" err
	run_qvm vm --dry-run --set vm.import=true s.yaml
	expect_exit 0
}
test_case 'a quoted boolean for one of virt-install'"'"'s flags is a qvm error at its line' t_quoted_flags

test_done
