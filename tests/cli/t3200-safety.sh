#!/bin/bash
# SPDX-License-Identifier: MIT
# Safety under concurrency and hostile input: two runs for the same name,
# shell metacharacters and option tricks in every field, sub-option
# smuggling, pre-planted symlinks, secrets kept out of qvm's output.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

setup() {
	fault_shims
	zfs_pool
	make_image "$TEST_DIR/img" 4M
}

with_image() {
	"$QVM" import "$TEST_DIR/img" tank/images/deb >/dev/null
	zfs_log_reset
}

# vm_yaml FILE NAME [EXTRA-VM-LINE] [USER-DATA-LINE]
vm_yaml() {
	cat >"$1" <<EOT
---
qvm: vm
name: $2
memory: 256
vcpus: 1
import: true
osinfo: linux2022
graphics: none
network: none
${3:-}
disk: {bus: virtio, zvol: {base: tank/images/deb}}
---
qvm: user-data
${4:-runcmd: [[sh, -c, "echo ok"]]}
---
qvm: meta-data
EOT
}

test_case 'two vm runs for one name at once: one wins, the loser touches nothing of it' '
	with_image
	vm_yaml a.yaml web1
	# both pass validation before either changes anything
	FAULT_DELAY=list:1 "$QVM" vm a.yaml >a.out 2>a.err & p1=$!
	FAULT_DELAY=list:1 "$QVM" vm a.yaml >b.out 2>b.err & p2=$!
	s1=0; wait $p1 || s1=$?
	s2=0; wait $p2 || s2=$?
	cat a.out a.err b.out b.err
	expect_eq "0 1" "$(printf "%s\n" $s1 $s2 | sort | tr "\n" " " | sed "s/ $//")" "exit statuses"
	expect_eq ready "$(zfs get -H -o value qvm:state tank/images/web1)"
	expect_file_exists "$QVM_STATE_DIR/web1/seed.iso"
	expect_file_absent "$QVM_STATE_DIR/web1/.qvm-creating"
	grep -h "^Error" a.err b.err | grep -Eq "seed directory|already exists"
'

test_case 'two imports into one zvol at once: one wins, the loser touches nothing of it' '
	FAULT_DELAY=list:1 "$QVM" import "$TEST_DIR/img" tank/images/deb >a.out 2>a.err & p1=$!
	FAULT_DELAY=list:1 "$QVM" import "$TEST_DIR/img" tank/images/deb >b.out 2>b.err & p2=$!
	s1=0; wait $p1 || s1=$?
	s2=0; wait $p2 || s2=$?
	cat a.out a.err b.out b.err
	expect_eq "0 1" "$(printf "%s\n" $s1 $s2 | sort | tr "\n" " " | sed "s/ $//")" "exit statuses"
	# the loser fails at zfs create, or (slowed down enough, as under
	# valgrind, that the winner was done first) at the check before it
	grep -h "^Error" a.err b.err | grep -Eq "cannot create zvol tank/images/deb: .*dataset already exists|zvol tank/images/deb already exists"
	expect_eq ready "$(zfs get -H -o value qvm:state tank/images/deb)"
	zfs list tank/images/deb@base >/dev/null
	cmp -n 4194304 "$TEST_DIR/img" "$QVM_ZVOL_DIR/tank/images/deb"
'

t_hostile_names() {
	with_image
	mkdir -p "$QVM_STATE_DIR"
	zfs_snapshot_state before
	local name
	for name in "a;touch pwned" "\$(touch pwned)" "\`touch pwned\`" "a b" "-rf" "--help" ".." "../../x" "a/b" "a|b" "a&b" "a>pwned"; do
		vm_yaml bad.yaml "\"$name\""
		run_qvm vm bad.yaml
		expect_exit 1
		expect_match "invalid VM name" err
		expect_empty "$VIRT_INSTALL_LOG"
	done
	for base in "tank/images/deb;touch pwned" "tank/\$(touch pwned)" "-tank/x" "tank/../x" "tank//x" "tank/x y"; do
		sed "s|base: tank/images/deb|base: \"$base\"|" bad.yaml >bad2.yaml
		sed -i "s/^name: .*/name: ok1/" bad2.yaml
		run_qvm vm bad2.yaml
		expect_exit 1
		expect_match "invalid base dataset" err
	done
	for zvol in "tank/images/\$(touch pwned)" "tank/images/a;b" "tank/images/-x" "tank/images/.." "tank//x" "tank/x y"; do
		run_qvm import "$TEST_DIR/img" "$zvol"
		expect_exit 1
	done
	expect_state_unchanged before
	expect_file_absent pwned
	expect_eq "" "$(ls "$QVM_STATE_DIR")" "seed directories"
}
test_case 'names with shell metacharacters, spaces, leading -, .. or / are refused before any change' t_hostile_names

t_no_execution() {
	with_image
	local bad="\$(touch $TEST_DIR/pwned) \`touch $TEST_DIR/pwned2\` ; touch $TEST_DIR/pwned3"
	vm_yaml v.yaml web1 "metadata: {title: \"$bad\", description: \"$bad\"}" "runcmd: [[sh, -c, \"$bad\"]]
write_files: [{path: /tmp/x, content: \"$bad\"}]"
	printf 'local-hostname: "%s"\n' "$bad" >>v.yaml
	sed -i "s|zvol: {base: tank/images/deb}|zvol: {base: tank/images/deb, \"org.example:note\": \"$bad\"}|" v.yaml
	run_qvm vm v.yaml
	cat out err
	expect_exit 0
	expect_file_absent pwned
	expect_file_absent pwned2
	expect_file_absent pwned3
	# the value reached zfs and virt-install verbatim, as one argument each
	expect_eq "$bad" "$(zfs get -H -o value org.example:note tank/images/web1)"
	grep -F -- "--metadata" "$VIRT_INSTALL_LOG" >/dev/null
}
test_case '$(...), backticks and ; in any field never execute' t_no_execution

test_case 'a comma or = in a sub-option value cannot smuggle a sub-option' '
	with_image
	vm_yaml v.yaml web1 "metadata: {title: \"x,description=smuggled\", description: \"a=b\"}"
	run_qvm vm v.yaml
	expect_exit 0
	grep -F -- "--metadata '\''title=\"x,description=smuggled\",description=a=b'\''" "$VIRT_INSTALL_LOG" ||
		{ cat "$VIRT_INSTALL_LOG"; false; }
'

test_case 'a pre-planted symlink at the seed directory is refused, its target untouched' '
	with_image
	mkdir -p "$QVM_STATE_DIR" elsewhere
	ln -s "$TEST_DIR/elsewhere" "$QVM_STATE_DIR/web1"
	vm_yaml v.yaml web1
	zfs_snapshot_state before
	run_qvm vm v.yaml
	expect_exit 1
	expect_match "seed directory .*/web1 already exists" err
	expect_eq "" "$(ls -A elsewhere)" "symlink target"
	expect_state_unchanged before
	[ -L "$QVM_STATE_DIR/web1" ]
'

test_case 'user-data content never appears in output or error messages' '
	with_image
	vm_yaml v.yaml web1 "" "chpasswd: {list: \"root:S3cr3t-Passw0rd\"}
bad_value: \"S3cr3t-Passw0rd\""
	run_qvm vm v.yaml
	expect_exit 0
	expect_no_match S3cr3t out
	expect_no_match S3cr3t err
	VIRT_INSTALL_FAIL=dry-run run_qvm vm v.yaml
	expect_no_match S3cr3t out
	expect_no_match S3cr3t err
	# a broken user-data document: the error gives a position, not content
	vm_yaml w.yaml web2 "" "password: \"S3cr3t-Passw0rd\" : [oops"
	run_qvm vm w.yaml
	expect_exit 1
	expect_no_match S3cr3t err
'

t_connect_programs() {
	with_image
	printf '#!/bin/sh\ntouch "%s/RAN"\n' "$TEST_DIR" >prog.sh
	chmod +x prog.sh
	zfs_snapshot_state before
	# libvirt's ext transport, and ssh's command parameter, run a program:
	# a qvm file must not choose one - refused before any change, dry run too
	for uri in "qemu+ext:///system?command=$TEST_DIR/prog.sh" \
		"qemu+EXT:///system?command=$TEST_DIR/prog.sh" \
		"qemu+ssh://localhost/system?command=$TEST_DIR/prog.sh" \
		"qemu+ssh://localhost/system?x=1;command=$TEST_DIR/prog.sh" \
		"qemu+ssh://localhost/system?comm%61nd=$TEST_DIR/prog.sh" \
		"qemu+ssh://localhost/system?Command=$TEST_DIR/prog.sh" \
		"qemu+ssh://localhost/system?netcat=$TEST_DIR/prog.sh" \
		"__virtinst_test__qemu+ssh://localhost/system?comm__virtinst_test__and=$TEST_DIR/prog.sh" \
		"__virtinst_test__test:///etc/passwd" \
		"qemu+libssh://localhost/system?known_hosts=$TEST_DIR/kh&known_hosts_verify=auto" \
		"test:///etc/passwd" "qemu:///embed?root=$TEST_DIR/root" "QEMU:///Embed/?root=/" \
		"lxc:///embed" "qemu:/embed?root=$TEST_DIR/root" "qemu:///%65mbed?root=$TEST_DIR/root" \
		"test:/etc/passwd" "test:///%2Fetc/passwd"; do
		vm_yaml c.yaml web1 "connect: $uri"
		for dry in "" --dry-run; do
			# shellcheck disable=SC2086
			run_qvm vm $dry c.yaml
			expect_exit 1
			expect_match "connect URI '.*' is refused: " err
		done
	done
	# several URIs, a mapping, an option virt-install would expand to
	# --connect (or --dry-run: qvm would call a dry run a VM made)
	for line in "connect: [test:///default, 'qemu+ext:///system?command=$TEST_DIR/prog.sh']" \
		"connect: {'qemu+ext:///system?command': $TEST_DIR/prog.sh}" \
		"conn: qemu+ext:///system?command=$TEST_DIR/prog.sh" \
		"dry-ru: true"; do
		vm_yaml c.yaml web1 "$line"
		run_qvm vm --dry-run c.yaml
		expect_exit 1
		expect_match "must be one URI|virt-install would read it as --(connect|dry-run); spell it in full" err
	done
	expect_state_unchanged before
	expect_file_absent RAN
	expect_file_absent kh
	# nor a qvm:connect mark on a volume: list, destroy and cleanup do not
	# connect through it
	zfs clone -o qvm:kind=vm-disk -o qvm:vm=m1 -o qvm:state=ready \
		-o "qvm:connect=qemu+ext:///system?command=$TEST_DIR/prog.sh" tank/images/deb@base tank/images/m1
	run_qvm list
	expect_match "refusing to connect to 'qemu\+ext:///system\?command=" err
	run_qvm destroy --yes m1
	expect_exit 1
	expect_match "refusing to connect to " err
	zfs set qvm:state=creating qvm:run=1-00 tank/images/m1
	run_qvm cleanup --yes
	expect_match "refusing to connect to .*its transport runs a program" err
	expect_file_absent RAN
}
test_case 'a connect URI that runs a program (ext, command=, netcat=): refused, in files and in marks' t_connect_programs

t_no_vm_made() {
	with_image
	zfs_snapshot_state before
	# options that make virt-install print and stop - qvm would call that a
	# VM made - or wait for the guest to shut down, or rename the VM
	for line in "help: true" "version: true" "print-step: all" "wait: 5" "autoconsole: text" \
		"test-stub-command: true" "os-variant: list" "controller: help" "sound: '?'" "controller: [usb, help]" "os-variant: [list]" \
		"nam: other" "na: other"; do
		vm_yaml n.yaml web1 "$line"
		run_qvm vm n.yaml
		expect_exit 1
		expect_match "is not allowed in the vm document|create nothing|virt-install would read it as (--name|one of .*--name)" err
	done
	expect_state_unchanged before
	expect_file_absent "$QVM_STATE_DIR/web1"
	# a name that reads as a boolean is still the name
	sed 's/^name: web1$/name: off/' n.yaml | sed '/^na: other$/d' >off.yaml
	run_qvm vm --dry-run off.yaml
	expect_exit 0
	expect_match 'virt-install --name off ' out
}
test_case 'options that make virt-install create nothing, wait, or rename the VM: refused; name: off is a name' t_no_vm_made

test_done
