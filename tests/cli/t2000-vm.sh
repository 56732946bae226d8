#!/bin/bash
# SPDX-License-Identifier: MIT
# qvm vm FILE (SPEC §3): the zfs clone, the virt-install command lines built
# from the vm document (§3.1, §3.2), the cloud-init seed (§3.3), and the
# order of work (§3.4). The real virt-install runs against test:///default.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

BASE=tank/images/debian12

# A base image: a volume with some content and its @base snapshot.
setup() {
	zfs_pool
	zfs create -s -V 2M $BASE
	printf 'base image content' | dd of="$QVM_ZVOL_DIR/$BASE" conv=notrunc status=none
	zfs snapshot $BASE@base
	zfs_log_reset
}

dev() { echo "$QVM_ZVOL_DIR/$1"; }

# vm_file FILE NAME [VM-LINES]: a minimal valid qvm file for VM NAME cloning
# $BASE; VM-LINES (YAML, two-space indented under the vm document) replace
# the default disk.
vm_file() {
	local file=$1 name=$2 disk=${3:-}
	[ -n "$disk" ] || disk="disk:
  bus: virtio
  zvol:
    base: $BASE"
	cat >"$file" <<-EOF
	---
	qvm: vm
	name: $name
	connect: test:///default
	memory: 256
	vcpus: 1
	import: true
	osinfo: detect=on,require=off
	graphics: none
	network: none
	$(printf '%s\n' "$disk" | sed '2,$s/^/	/')
	...
	---
	qvm: user-data
	users:
	  - name: admin
	...
	---
	qvm: meta-data
	EOF
	sed -i 's/^\t//' "$file"
}

# extract_seed NAME DIR: the files of VM NAME's seed image into DIR.
extract_seed() {
	mkdir -p "$2"
	xorriso -osirrox on -indev "$QVM_STATE_DIR/$1/seed.iso" -extract / "$2" >/dev/null 2>&1
}

# expect_only_warnings FILE: every line of FILE is a virt-install WARNING.
expect_only_warnings() {
	expect_no_match '^([^W]|W[^A]|$)' "$1"
}

t_minimal() {
	vm_file web1.yaml web1
	run_qvm vm web1.yaml
	expect_exit 0
	expect_only_warnings err
	expect_eq 'VM web1 created' "$(tail -n 1 out)" "last line"
	expect_lines_in_order out 'web1' 'seed' "Cloning $BASE@base to tank/images/web1" \
		'--print-xml' 'Defining and starting VM web1 \(UUID [0-9a-f-]{36}\) on test:///default'
	# zfs: one clone, then at most qvm:* marks
	zfs_mutations calls
	expect_first_line "^clone( -o '?qvm:[a-z_.-]+=[^ ]*)* $BASE@base tank/images/web1\$" calls
	expect_no_match '^(create|destroy|snapshot|clone)' <(tail -n +2 calls)
	expect_eq $'tank/images/web1\tvolume\t2097152\t'"$BASE@base" \
		"$(zfs list -H -p -o name,type,volsize,origin tank/images/web1)" "the clone"
	expect_eq 'base image content' "$(head -c 18 "$(dev tank/images/web1)")" "clone content"
	# virt-install: once, for the XML; qvm defines and starts the domain
	expect_eq 1 "$(wc -l <"$VIRT_INSTALL_LOG")" "virt-install calls"
	real=$(sed -n 1p "$VIRT_INSTALL_LOG")
	expect_match ' --print-xml --dry-run --debug$' <(printf '%s\n' "$real")
	uuid=$(zfs get -H -o value qvm:uuid tank/images/web1)
	expect_match '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' <(echo "$uuid")
	expect_match " --uuid $uuid " <(printf '%s\n' "$real")
	expect_match "UUID $uuid" out
	expect_eq 'test:///default' "$(zfs get -H -o value qvm:connect tank/images/web1)" "recorded URI"
	expect_eq "--name web1 --connect test:///default --memory 256 --vcpus 1 --import --osinfo detect=on,require=off --graphics none --network none --disk path=$(dev tank/images/web1),bus=virtio" \
		"$(printf '%s\n' "$real" | sed 's/ --uuid [^ ]*//; s/ --noautoconsole.*//')" \
		"arguments from the file, in file order"
	expect_match "( |^)--noautoconsole( |$)" <(printf '%s\n' "$real")
	expect_match "( |^)--disk path=$QVM_STATE_DIR/web1/seed\.iso,device=cdrom( |$)" \
		<(printf '%s\n' "$real")
}
test_case 'minimal VM: clone, one virt-install --print-xml by qvm'\''s UUID, file order kept' t_minimal

t_seed() {
	vm_file web1.yaml web1
	run_qvm vm web1.yaml
	expect_exit 0
	expect_eq 711 "$(stat -c %a "$QVM_STATE_DIR/web1")" "seed directory mode"
	expect_eq 600 "$(stat -c %a "$QVM_STATE_DIR/web1/seed.iso")" "seed image mode"
	expect_eq '' "$(find "$QVM_STATE_DIR/web1" -mindepth 1 ! -name seed.iso)" "only the seed"
	expect_match 'Volume Id +: cidata$' <(xorriso -indev "$QVM_STATE_DIR/web1/seed.iso" -pvd_info 2>&1)
	expect_match 'Joliet' <(xorriso -indev "$QVM_STATE_DIR/web1/seed.iso" -toc 2>&1 || true)
	extract_seed web1 seed
	expect_eq '#cloud-config' "$(head -n 1 seed/user-data)" "first line of user-data"
	expect_eq $'users:\n- name: admin' "$(tail -n +2 seed/user-data)" "user-data"
	# absent instance-id and local-hostname default to the VM name
	python3 - seed/meta-data <<-'EOF'
	import sys, yaml
	md = yaml.safe_load(open(sys.argv[1]))
	assert md == {'instance-id': 'web1', 'local-hostname': 'web1'}, md
	EOF
}
test_case 'seed: cidata ISO 0600 in a 0711 directory, #cloud-config, meta-data defaults' t_seed

t_rules() {
	truncate -s 1M extra.raw
	cat >web2.yaml <<-EOF
	---
	qvm: vm
	name: web2
	connect: test:///default
	memory: 256
	vcpus: "1"
	import: YES
	noreboot: On
	autostart: false
	quiet:
	osinfo:
	  detect: on
	  require: off
	graphics: none
	network:
	  - network: default
	    model: virtio
	  - network: default
	    model: e1000
	disk:
	  - path: $TEST_DIR/extra.raw
	    format: raw
	  - bus: virtio
	    driver:
	      cache: none
	      io: native
	    zvol:
	      base: $BASE
	      name: tank/images/web2-root
	      volsize: 4M
	      compression: lz4
	...
	---
	qvm: userdata
	users:
	  - name: admin
	...
	---
	qvm: metadata
	local-hostname: host2
	EOF
	run_qvm vm web2.yaml
	expect_exit 0
	expect_eq "--name web2 --connect test:///default --memory 256 --vcpus 1 --import --noreboot --quiet --osinfo detect=on,require=off --graphics none --network network=default,model=virtio --network network=default,model=e1000 --disk path=$TEST_DIR/extra.raw,format=raw --disk path=$(dev tank/images/web2-root),bus=virtio,driver.cache=none,driver.io=native" \
		"$(sed -n 1p "$VIRT_INSTALL_LOG" | sed 's/ --uuid [^ ]*//; s/ --noautoconsole.*//')" \
		"true/false/empty values, quoted scalars, mappings, nested mappings, sequences"
	zfs_mutations calls
	expect_first_line "^clone -o volsize=4M -o compression=lz4( -o '?qvm:[a-z_.-]+=[^ ]*)* $BASE@base tank/images/web2-root\$" calls
	expect_eq 4194304 "$(stat -c %s "$(dev tank/images/web2-root)")" "volsize of the clone"
	expect_eq $'lz4\tlocal' "$(zfs get -H -o value,source compression tank/images/web2-root)" "compression"
	extract_seed web2 seed
	python3 - seed/meta-data <<-'EOF'
	import sys, yaml
	md = yaml.safe_load(open(sys.argv[1]))
	assert md == {'local-hostname': 'host2', 'instance-id': 'web2'}, md
	EOF
}
test_case 'vm document to virt-install arguments (§3.1), zvol name and properties (§3.2)' t_rules

t_user_data() {
	vm_file web3.yaml web3
	cat >>web3.yaml <<-'EOF'
	instance-id: iid-web3
	local-hostname: web3.example
	...
	EOF
	# a richer user-data document in place of the default one
	python3 - web3.yaml <<-'EOF'
	import sys
	text = open(sys.argv[1]).read()
	ud = '''qvm: user-data
	# a comment, not kept
	users:
	  - name: admin
	    sudo: "ALL=(ALL) NOPASSWD:ALL"
	    groups: [adm, sudo]
	    lock_passwd: true
	write_files:
	  - path: /etc/motd
	    permissions: "0644"
	    content: |
	      line one
	      line two: with a colon
	runcmd:
	  - [sh, -c, "echo provisioned > /root/qvm-ok"]
	  - 'echo "quoted"'
	bootcmd: []
	ssh_pwauth: false
	number: 0644
	empty:
	'''
	text = text.replace('qvm: user-data\nusers:\n  - name: admin\n', ud.replace('\t', ''))
	open(sys.argv[1], 'w').write(text)
	EOF
	run_qvm vm web3.yaml
	expect_exit 0
	extract_seed web3 seed
	expect_eq '#cloud-config' "$(head -n 1 seed/user-data)" "first line"
	expect_match '^  content: \|' seed/user-data
	expect_no_match 'comment' seed/user-data
	python3 - web3.yaml seed/user-data seed/meta-data <<-'EOF'
	import sys, yaml
	docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
	want = next(d for d in docs if d.get('qvm') == 'user-data')
	del want['qvm']
	got = yaml.safe_load(open(sys.argv[2]))
	assert got == want, (got, want)
	assert list(got) == list(want), 'key order changed: %s' % list(got)
	md = yaml.safe_load(open(sys.argv[3]))
	assert md == {'instance-id': 'iid-web3', 'local-hostname': 'web3.example'}, md
	EOF
}
test_case 'user-data: same data, same key order, block scalars; meta-data kept' t_user_data

t_snapshot_base() {
	zfs snapshot $BASE@v2
	vm_file web4.yaml web4 "disk:
  zvol:
    base: $BASE@v2"
	run_qvm vm web4.yaml
	expect_exit 0
	expect_eq "$BASE@v2" "$(zfs get -H -o value origin tank/images/web4)" "origin"
}
test_case 'base: POOL/PATH/IMAGE@snap clones that snapshot' t_snapshot_base

t_state_dir() {
	export QVM_STATE_DIR=$TEST_DIR/deep/er/state
	vm_file web5.yaml web5
	run_qvm vm web5.yaml
	expect_exit 0
	expect_file_exists "$QVM_STATE_DIR/web5/seed.iso"
}
test_case 'QVM_STATE_DIR is created when missing' t_state_dir

t_two_vms() {
	vm_file a.yaml vm-a
	vm_file b.yaml vm-b
	run_qvm vm a.yaml
	expect_exit 0
	run_qvm vm b.yaml
	expect_exit 0
	expect_eq $'tank/images/vm-a\ntank/images/vm-b' \
		"$(zfs list -H -o name -t volume | grep vm-)" "two clones of one base"
	expect_eq "tank/images/vm-a,tank/images/vm-b" "$(zfs get -H -o value clones $BASE@base)" "clones"
}
test_case 'two VMs from one base image' t_two_vms

t_stdin() {
	vm_file s.yaml s
	# read once: --count makes both VMs from the one reading
	status=0
	"$QVM" vm --count 2 - <s.yaml >out 2>err || status=$?
	expect_exit 0
	expect_match '^Reading <stdin>\.\.\. ' out
	zfs list tank/images/s-1 tank/images/s-2 >/dev/null
	# its errors name it <stdin>, with line and column
	sed -i 's/^vcpus: 1$/vcpus: 1\nvcpus: 2/' s.yaml
	status=0
	"$QVM" vm - <s.yaml >out 2>err || status=$?
	expect_exit 1
	expect_match '^Error reading qvm file: <stdin>:7:1: ' err
	status=0
	"$QVM" vm - </dev/null >out 2>err || status=$?
	expect_exit 1
	expect_match '^Error reading qvm file: ' err
	# a non-blocking pipe whose writer is late: waited for, not EAGAIN
	sed -i '/^vcpus: 2$/d' s.yaml
	status=0
	/usr/bin/python3 - "$QVM" s.yaml >out 2>err <<-'PY' || status=$?
	import os, subprocess, sys, time
	r, w = os.pipe()
	os.set_blocking(r, False)
	p = subprocess.Popen([sys.argv[1], "vm", "--dry-run", "-"], stdin=r)
	os.close(r)
	time.sleep(0.5)
	os.write(w, open(sys.argv[2], "rb").read())
	os.close(w)
	sys.exit(p.wait())
	PY
	expect_exit 0
	expect_match '^Reading <stdin>\.\.\. ' out
	# ^C while qvm waits for the file on stdin ends it then, not at EOF
	mkfifo ff
	(sleep 20 >ff) &
	writer=$!
	"$QVM" vm --dry-run - <ff >out 2>err &
	pid=$!
	sleep 1
	kill -INT $pid
	for _ in $(seq 30); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
	if kill -0 $pid 2>/dev/null; then
		kill $pid $writer
		echo "qvm still reading 3 s after SIGINT" >&2
		return 1
	fi
	status=0
	wait $pid || status=$?
	kill $writer 2>/dev/null
	expect_exit 130
	expect_no_match 'missing vm document' err
}
test_case 'qvm vm -: the file from standard input, read once' t_stdin

test_done
