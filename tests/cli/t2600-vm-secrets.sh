#!/bin/bash
# SPDX-License-Identifier: MIT
# Secrets stay private: no key and no value of user-data, vendor-data or
# network-config appears in any output or error of qvm vm - YAML errors
# inside them (line and column and the document instead), --set errors
# (the --set by its number), --dry-run, a real run. Other documents'
# errors still quote their text, and a --set's error names the --set
# argument, not a line of the file.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vmlib.sh
. "$(dirname "$0")/vmlib.sh"

setup() { base_image; }

SECRET=S3CRET-d0c5

# expect_no_secret FILE...: no file holds any part of the secret.
expect_no_secret() {
	for f in "$@"; do
		expect_no_match "$SECRET|S3CRET|d0c5" "$f"
	done
}

# a_file NAME [USER-DATA-LINES]: a vm file whose user-data holds the secret.
a_file() {
	vm_file "$1.yaml" "$1"
	python3 - "$1.yaml" "$SECRET" "${2:-}" <<-'EOF'
	import sys
	path, secret, extra = sys.argv[1:4]
	text = open(path, errors='surrogateescape').read().replace('qvm: user-data\n', 'qvm: user-data\n'
	    'chpasswd: {expire: false, users: [{name: admin, password: "%s"}]}\n'
	    'write_files: [{path: /root/token, content: "%s"}]\n%s' % (secret, secret, extra))
	open(path, 'w', errors='surrogateescape').write(text)
	EOF
}

t_yaml_errors() {
	# a duplicate key inside user-data
	a_file d1 "${SECRET}_KEY: 1
${SECRET}_KEY: 2
"
	run_qvm vm d1.yaml
	expect_exit 1
	expect_match '^Error reading qvm file: d1\.yaml:[0-9]+:1: invalid YAML: duplicate key in user-data \(first at line [0-9]+, column 1\)$' err
	expect_no_secret out err
	# before the document says what it is: still not shown
	vm_file d2.yaml d2
	printf -- '---\n%s: 1\n%s: 2\nqvm: vendor-data\n' "$SECRET" "$SECRET" >>d2.yaml
	run_qvm vm d2.yaml
	expect_exit 1
	expect_match 'invalid YAML: duplicate key in vendor-data' err
	vm_file d3.yaml d3
	printf -- '---\nnested: {%s: 1, %s: 2}\nqvm: network-config\n' "$SECRET" "$SECRET" >>d3.yaml
	run_qvm vm d3.yaml
	expect_exit 1
	expect_match 'invalid YAML: duplicate key in document 4 \(first at line [0-9]+, column [0-9]+\)$' err
	expect_no_secret out err
	# an alias, a byte that is not UTF-8
	a_file d4 "password: *${SECRET}
"
	run_qvm vm d4.yaml
	expect_exit 1
	expect_match 'invalid YAML: undefined alias in user-data$' err
	a_file d5 "k: \"$(printf 'a\377')\"
"
	run_qvm vm d5.yaml
	expect_exit 1
	expect_no_match 'byte 0x' err
	expect_no_secret out err
	# a byte of user-data that libyaml decodes while it still parses the vm
	# document (it reads 16 KiB ahead): still not shown
	vm_file d7.yaml d7
	python3 - d7.yaml <<-'EOF'
	import sys
	t = open(sys.argv[1], 'rb').read().replace(b'qvm: user-data\n', b'qvm: user-data\npassword: S3\xc3CRET\n')
	t = t.replace(b'qvm: vm\n', b'qvm: vm\n# ' + b'x' * 16500 + b'\n')
	open(sys.argv[1], 'wb').write(t)
	EOF
	run_qvm vm d7.yaml
	expect_exit 1
	expect_match 'invalid YAML: invalid trailing UTF-8 octet$' err
	expect_no_match 'byte 0x' err
	# the vm document's own errors keep their text
	vm_file d6.yaml d6 test:///default 'memory: 512'
	run_qvm vm d6.yaml
	expect_exit 1
	expect_match "duplicate key 'memory' \\(first at line" err
}
test_case 'YAML errors inside user-data, vendor-data, network-config: a position and the document, no text' t_yaml_errors

t_set_errors() {
	a_file s1
	run_qvm vm --set "user-data.password=[$SECRET" s1.yaml
	expect_exit 1
	expect_first_line "^Error reading qvm file: --set #1 \\(user-data\\): the value is not valid YAML: line [0-9]+, column [0-9]+: " err
	run_qvm vm --set vm.memory=512 --set "user-data.chpasswd.expire.${SECRET}=1" --set "vendor-data.${SECRET}=1" s1.yaml
	expect_exit 1
	expect_first_line '^Error reading qvm file: --set #2 \(user-data\): key 3 of the path is inside a scalar$' err
	expect_match '^Error reading qvm file: --set #3 \(vendor-data\): the file has no such document$' err
	run_qvm vm --set "password=$SECRET" --set "user-data.a=*$SECRET" s1.yaml
	expect_exit 1
	expect_match '^Error reading qvm file: --set #1: PATH must name a document and a key, e.g\. vm\.memory$' err
	expect_match '^Error reading qvm file: --set #2 \(user-data\): the value is not valid YAML: line 1, column 1: undefined alias in the value$' err
	expect_no_secret out err
	# a mistyped option names the option, not what came with it
	run_qvm vm "--sett=user-data.password=$SECRET" s1.yaml
	expect_exit 1
	expect_first_line "^Error reading the command line: unknown option '--sett' for 'vm'$" err
	expect_no_secret out err
	# the vm document's: the argument as given, not FILE:1:1
	run_qvm vm --set 'vm.name=bad name' s1.yaml
	expect_exit 1
	expect_first_line "^Error reading qvm file: --set vm\\.name=bad name: invalid VM name 'bad name': " err
	expect_no_match 's1\.yaml:1:1' err
}
test_case '--set errors: a secret document'"'"'s --set by its number, no key or value; others by the argument' t_set_errors

t_outputs() {
	a_file o1
	run_qvm vm --dry-run --set "user-data.extra=$SECRET" o1.yaml
	expect_exit 0
	expect_no_secret out err
	run_qvm vm --set "user-data.extra=$SECRET" o1.yaml
	expect_exit 0
	expect_no_secret out err
	# it is in the seed, where it belongs
	extract_seed o1 seed
	expect_match "$SECRET" seed/user-data
	run_qvm list
	expect_no_secret out err
}
test_case '--dry-run and a real run print nothing of user-data; the seed holds it' t_outputs

test_done
