#!/bin/bash
# SPDX-License-Identifier: MIT
# qvm vm --wait[=SECONDS]: waits for the guest's address (libvirt DHCP
# lease or guest agent) and prints it with an ssh hint. Needs a libvirt
# daemon: the domain must outlive virt-install.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vmlib.sh
. "$(dirname "$0")/vmlib.sh"
# shellcheck source=libvirtd.sh
. "$(dirname "$0")/libvirtd.sh"

libvirtd_for_cases

setup() { base_image; }

t_wait() {
	need_libvirtd
	vm_file w1.yaml w1 "$LV_URI"
	run_qvm vm --wait w1.yaml
	expect_exit 0
	expect_lines_in_order out '^VM w1 created$' \
		'^Waiting up to 300 seconds for VM w1.s address\.\.\. 192\.168\.122\.[0-9]+$' \
		'^VM w1 has address 192\.168\.122\.[0-9]+; connect with: ssh USER@192\.168\.122\.[0-9]+ \(a user its user-data creates\)$'
}
test_case '--wait: the address and an ssh hint (no user name: nothing of user-data is printed)' t_wait

t_wait_timeout() {
	need_libvirtd
	vm_file w2.yaml w2 "$LV_URI"
	sed -i 's/^network: .*/network: none/' w2.yaml
	run_qvm vm --wait=1 w2.yaml
	expect_exit 1
	expect_line 'VM w2 created' out
	expect_line 'Error waiting for virtual machine: VM w2 has no IP address after 1 seconds (it stays created)' err
	lv_domain_exists w2
	zfs list -H -o name tank/images/w2 >/dev/null
}
test_case '--wait=SECONDS: no address in time is an error; the VM stays' t_wait_timeout

t_count_wait() {
	need_libvirtd
	vm_file w4.yaml w4 "$LV_URI"
	sed -i 's/^network: .*/network: none/' w4.yaml
	run_qvm vm --count 2 --wait=0 w4.yaml
	expect_exit 1
	expect_line 'Created 2 of 2 VMs: w4-1, w4-2' out
	expect_line 'Error waiting for virtual machine: 2 of 2 VMs created without a known address' err
	lv_domain_exists w4-1
	lv_domain_exists w4-2
}
test_case '--count with --wait: VMs without an address still count as created' t_count_wait

t_wait_bad() {
	vm_file w3.yaml w3
	run_qvm vm --wait=soon w3.yaml
	expect_exit 1
	expect_line "Error validating virtual machine: --wait must be a whole number from 0 to 86400, not 'soon'" err
	expect_file_absent "$QVM_STATE_DIR"
}
test_case '--wait with a bad number changes nothing' t_wait_bad

test_done
