#!/bin/bash
# SPDX-License-Identifier: MIT
# Optional qvm: network-config and qvm: vendor-data documents go into the
# NoCloud seed as files network-config and vendor-data.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vmlib.sh
. "$(dirname "$0")/vmlib.sh"

setup() { base_image; }

t_docs() {
	vm_file e1.yaml e1
	cat >>e1.yaml <<-'EOF'
	---
	qvm: network-config
	version: 2
	ethernets:
	  eth0:
	    dhcp4: true
	---
	qvm: vendor-data
	packages: [qemu-guest-agent]
	EOF
	run_qvm vm e1.yaml
	expect_exit 0
	extract_seed e1 seed
	expect_eq 'meta-data network-config user-data vendor-data' "$(ls seed | tr '\n' ' ' | sed 's/ $//')" "seed files"
	expect_eq $'version: 2\nethernets:\n  eth0:\n    dhcp4: true' "$(cat seed/network-config)" network-config
	expect_eq $'#cloud-config\npackages:\n- qemu-guest-agent' "$(cat seed/vendor-data)" vendor-data
}
test_case 'network-config and vendor-data documents become seed files' t_docs

t_names() {
	vm_file e4.yaml e4
	printf -- '---\nqvm: network-config\nversion: 2\n---\nqvm: vendor-data\na: 1\n' >>e4.yaml
	run_qvm vm e4.yaml
	expect_exit 0
	python3 "$TEST_LIB_DIR/iso-names.py" "$QVM_STATE_DIR/e4/seed.iso" >names
	# as cloud-localds (genisoimage -joliet -rock) names them: no trailing
	# dot, no ";1", in the Joliet tree as in the Rock Ridge one
	expect_line 'rockridge: meta-data network-config user-data vendor-data' names
	expect_line 'joliet: meta-data network-config user-data vendor-data' names
}
test_case 'the seed names its files as cloud-localds does, in the Joliet and Rock Ridge trees' t_names

t_without() {
	vm_file e2.yaml e2
	run_qvm vm e2.yaml
	expect_exit 0
	extract_seed e2 seed
	expect_eq 'meta-data user-data' "$(ls seed | tr '\n' ' ' | sed 's/ $//')" "seed files"
}
test_case 'without them the seed holds user-data and meta-data only' t_without

t_v1_under_network() {
	vm_file e3.yaml e3
	cat >>e3.yaml <<-'EOF'
	---
	qvm: network-config
	network:
	  version: 1
	  config:
	    - type: physical
	      name: eth0
	      subnets: [{type: dhcp}]
	EOF
	run_qvm vm e3.yaml
	expect_exit 0
	extract_seed e3 seed
	expect_match '^  version: 1$' seed/network-config
}
test_case "network config version 1 under 'network:' is accepted" t_v1_under_network

t_bad() {
	vm_file e4.yaml e4
	cat >>e4.yaml <<-'EOF'
	---
	qvm: network-config
	version: 3
	---
	qvm: network-config
	version: 2
	EOF
	run_qvm vm e4.yaml
	expect_exit 1
	expect_match "^Error reading qvm file: e4\.yaml:[0-9]+:[0-9]+: duplicate network-config document" err
	vm_file e5.yaml e5
	printf -- '---\nqvm: network-config\nversion: 3\n' >>e5.yaml
	run_qvm vm e5.yaml
	expect_exit 1
	expect_match "^Error reading qvm file: e5\.yaml:[0-9]+:[0-9]+: network-config 'version' must be 1 or 2$" err
	vm_file e6.yaml e6
	printf -- '---\nqvm: network-config\nethernets: {}\n' >>e6.yaml
	run_qvm vm e6.yaml
	expect_exit 1
	expect_match "network-config has no 'version'" err
	expect_file_absent "$QVM_STATE_DIR"
}
test_case 'network-config: duplicate documents and versions other than 1 and 2 are refused' t_bad

test_done
