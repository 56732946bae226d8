#!/bin/bash
# SPDX-License-Identifier: MIT
# qvm import NAME ZVOL: images by name from the catalog (data/images.yaml,
# /etc/qvm/images.d, or QVM_IMAGES), against a local HTTP server that
# publishes checksum files as the distributions do (Debian's GNU
# SHA512SUMS, Fedora's and Rocky's BSD CHECKSUM, clear-signed); the osinfo
# name and login user recorded on the image (qvm:osinfo, qvm:user), from
# the catalog or --osinfo/--user; qvm images --available; and the catalog
# qvm ships, read as qvm reads it.
. "$(dirname "$0")/lib.sh"
# shellcheck source=importlib.sh
. "$(dirname "$0")/importlib.sh"
# shellcheck source=vmlib.sh
. "$(dirname "$0")/vmlib.sh"

setup() {
	zfs_pool
	export TMPDIR=$TEST_DIR/tmp
	mkdir -p "$TMPDIR"
	# the osinfo names "virt-install --osinfo list" gives: a fixed list,
	# without debian12 (as Debian 12's own osinfo-db)
	osinfo_names debian11 debianbullseye linux2022 fedora44 rocky9
}

# osinfo_names NAME...: a virt-install first on PATH that lists these.
osinfo_names() {
	mkdir -p "$TEST_DIR/bin"
	{
		echo '#!/bin/sh'
		echo 'if [ "$1 $2" = "--osinfo list" ]; then'
		for n in "$@"; do echo "echo '$n'"; done
		echo "echo; echo '  Note: not all OS are listed'; exit 0; fi"
		echo 'echo "unexpected virt-install call: $*" >&2; exit 1'
	} >"$TEST_DIR/bin/virt-install"
	chmod +x "$TEST_DIR/bin/virt-install"
	case :$PATH: in *":$TEST_DIR/bin:"*) ;; *) PATH=$TEST_DIR/bin:$PATH ;; esac
}

# publish: the web root: a raw Debian-style image with SHA512SUMS (GNU
# lines, other files too), a qcow2 Fedora-style image with a clear-signed
# BSD CHECKSUM (SHA256), and a catalog naming them at $URL.
publish() {
	mkdir -p www
	make_image www/debian-12-genericcloud-amd64.raw 3M 1
	make_image disk.raw 2M 2
	qemu-img convert -f raw -O qcow2 disk.raw www/Fedora-Cloud-Base-Generic-44-1.7.x86_64.qcow2
	(
		cd www
		printf '%s  debian-12-genericcloud-amd64.json\n' "$(printf '{}' | sha512sum | cut -d' ' -f1)"
		sha512sum debian-12-genericcloud-amd64.raw
		printf '%s  debian-12-genericcloud-amd64.tar.xz\n' "$(printf 'x' | sha512sum | cut -d' ' -f1)"
	) >www/SHA512SUMS
	{
		printf -- '-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n'
		printf '# Fedora-Cloud-Base-Generic-44-1.7.x86_64.qcow2: %s bytes\n' \
			"$(stat -c %s www/Fedora-Cloud-Base-Generic-44-1.7.x86_64.qcow2)"
		printf 'SHA256 (Fedora-Cloud-Base-Generic-44-1.7.x86_64.qcow2) = %s\n' \
			"$(sha256sum www/Fedora-Cloud-Base-Generic-44-1.7.x86_64.qcow2 | cut -d' ' -f1)"
		printf -- '-----BEGIN PGP SIGNATURE-----\n\niQIzBAEBCAAdFiEE\n=abcd\n-----END PGP SIGNATURE-----\n'
	} >www/Fedora-Cloud-44-1.7-x86_64-CHECKSUM
	serve "$TEST_DIR/www"
	cat >catalog.yaml <<-EOF
	# a test catalog: the images at the local server
	images:
	  debian-12:
	    url: $URL/debian-12-genericcloud-amd64.raw
	    checksum: $URL/SHA512SUMS
	    osinfo: [debian12, debian11, linux2022]
	    user: debian
	    arch: $(uname -m)
	  fedora-44:
	    url: $URL/Fedora-Cloud-Base-Generic-44-1.7.x86_64.qcow2
	    checksum: $URL/Fedora-Cloud-44-1.7-x86_64-CHECKSUM
	    osinfo: fedora44
	    user: fedora
	    arch: $(uname -m)
	EOF
	export QVM_IMAGES=$TEST_DIR/catalog.yaml
}

# expect_marks ZVOL OSINFO USER: the image's qvm:osinfo and qvm:user, set
# locally (with the other marks at create, so undo takes them along).
expect_marks() {
	expect_eq "$2"$'\tlocal' "$(zfs get -H -o value,source qvm:osinfo "$1")" "qvm:osinfo"
	expect_eq "$3"$'\tlocal' "$(zfs get -H -o value,source qvm:user "$1")" "qvm:user"
	expect_match "^create .* -o qvm:osinfo=$2 -o qvm:user=$3 .*$1\$" "$ZFS_DOUBLE_LOG"
}

t_debian() {
	publish
	run_qvm import debian-12 $ZV
	expect_exit 0
	expect_holds www/debian-12-genericcloud-amd64.raw $ZV
	expect_eq "$URL/debian-12-genericcloud-amd64.raw" "$(zfs get -H -o value qvm:source $ZV)" "qvm:source"
	expect_eq "$(sha512sum www/debian-12-genericcloud-amd64.raw | cut -d' ' -f1)" \
		"$(zfs get -H -o value qvm:sha512 $ZV)" "qvm:sha512"
	# debian12 is not known here: the next candidate, said so
	expect_marks $ZV debian11 debian
	expect_first_line "^Warning: this host's virt-install does not know osinfo 'debian12' \(image debian-12\): recording 'debian11'$" err
	expect_contains "Image debian-12 from the catalog ($TEST_DIR/catalog.yaml:3:3): osinfo debian11, user debian" out
	expect_contains "Checking image debian-12 ($URL/debian-12-genericcloud-amd64.raw)" out
	expect_match "^Imported debian-12 \($URL/debian-12-genericcloud-amd64.raw\) as $ZV@base \(sha512 [0-9a-f]{128} verified\)" out
}
test_case 'a name from the catalog: Debian-style SHA512SUMS, osinfo falls back, user recorded' t_debian

t_fedora() {
	publish
	run_qvm import fedora-44 $ZV
	expect_exit 0
	expect_empty err
	expect_holds disk.raw $ZV
	expect_eq "$(sha256sum www/Fedora-Cloud-Base-Generic-44-1.7.x86_64.qcow2 | cut -d' ' -f1)" \
		"$(zfs get -H -o value qvm:sha256 $ZV)" "qvm:sha256"
	expect_marks $ZV fedora44 fedora
}
test_case 'Fedora-style clear-signed BSD CHECKSUM of a qcow2' t_fedora

# Alpine publishes NAME.sha512 holding the digest alone; Arch's "latest"
# NAME.SHA256 names the build's own file. Either is NAME's one digest.
t_per_file() {
	publish
	make_image www/nocloud_alpine-3.23.4-x86_64-bios-cloudinit-r0.raw 2M 4
	sha512sum www/nocloud_alpine-3.23.4-x86_64-bios-cloudinit-r0.raw | cut -d' ' -f1 \
		>www/nocloud_alpine-3.23.4-x86_64-bios-cloudinit-r0.raw.sha512
	make_image www/Arch-Linux-x86_64-cloudimg.raw 2M 5
	printf '%s  Arch-Linux-x86_64-cloudimg-20261201.470000.raw\n' \
		"$(sha256sum www/Arch-Linux-x86_64-cloudimg.raw | cut -d' ' -f1)" >www/Arch-Linux-x86_64-cloudimg.raw.SHA256
	cat >>catalog.yaml <<-EOF
	  alpine-3.23:
	    url: $URL/nocloud_alpine-3.23.4-x86_64-bios-cloudinit-r0.raw
	    checksum: $URL/nocloud_alpine-3.23.4-x86_64-bios-cloudinit-r0.raw.sha512
	    osinfo: [alpinelinux3.23, linux2022]
	    user: alpine
	    arch: $(uname -m)
	  arch:
	    url: $URL/Arch-Linux-x86_64-cloudimg.raw
	    checksum: $URL/Arch-Linux-x86_64-cloudimg.raw.SHA256
	    osinfo: [archlinux, linux2022]
	    user: arch
	    arch: $(uname -m)
	EOF
	run_qvm import alpine-3.23 tank/images/alpine
	expect_exit 0
	expect_holds www/nocloud_alpine-3.23.4-x86_64-bios-cloudinit-r0.raw tank/images/alpine
	expect_eq "$(cat www/nocloud_alpine-3.23.4-x86_64-bios-cloudinit-r0.raw.sha512)" \
		"$(zfs get -H -o value qvm:sha512 tank/images/alpine)" "qvm:sha512"
	expect_marks tank/images/alpine linux2022 alpine
	run_qvm import arch tank/images/arch
	expect_exit 0
	expect_holds www/Arch-Linux-x86_64-cloudimg.raw tank/images/arch
	expect_marks tank/images/arch linux2022 arch
	# a per-file checksum file with more than one digest names no file here
	printf '%s  a.raw\n%s  b.raw\n' "$(printf '%064d' 1)" "$(printf '%064d' 2)" >www/Arch-Linux-x86_64-cloudimg.raw.SHA256
	run_qvm import arch tank/images/arch2
	expect_exit 1
	expect_line "${ERR}checksum file '$URL/Arch-Linux-x86_64-cloudimg.raw.SHA256' has no entry for 'Arch-Linux-x86_64-cloudimg.raw'" err
}
test_case "per-file checksum files: Alpine's bare .sha512, Arch's .SHA256 naming the build" t_per_file

t_wrong_digest() {
	publish
	# the published file changed after its checksum file was made
	make_image www/debian-12-genericcloud-amd64.raw 3M 9
	zfs_snapshot_state before
	run_qvm import debian-12 $ZV
	expect_exit 1
	expect_match "^${ERR}.*SHA-512.*debian-12 \($URL/debian-12-genericcloud-amd64.raw\)|^${ERR}.*checksum" err
	expect_rolled_back before
	expect_fails zfs get -H -o value type $ZV
}
test_case 'a digest that does not match: refused, nothing left' t_wrong_digest

t_no_entry() {
	publish
	grep -v 'genericcloud-amd64.raw' www/SHA512SUMS >sums && mv sums www/SHA512SUMS
	zfs_snapshot_state before
	run_qvm import debian-12 $ZV
	expect_exit 1
	expect_line "${ERR}checksum file '$URL/SHA512SUMS' has no entry for 'debian-12-genericcloud-amd64.raw'" err
	expect_rolled_back before
	expect_empty <(zfs_mutations /dev/stdout)
}
test_case 'the checksum file has no entry for the image: refused before any change' t_no_entry

t_unknown() {
	publish
	run_qvm import debian-99 $ZV
	expect_failed "unknown image 'debian-99'; the catalog \($TEST_DIR/catalog.yaml\) has: debian-12, fedora-44 \(qvm images --available\)$"
	# a name that reads as a file is still a missing file
	run_qvm import nosuch.qcow2 $ZV
	expect_failed "cannot open image 'nosuch\.qcow2': No such file or directory$"
	# an empty catalog says so
	: >empty.yaml
	QVM_IMAGES=$TEST_DIR/empty.yaml run_qvm import debian-12 $ZV
	expect_failed "unknown image 'debian-12'; the catalog \($TEST_DIR/empty.yaml\) has no images$"
	expect_empty <(zfs_mutations /dev/stdout)
}
test_case 'an unknown name lists the names the catalog has' t_unknown

t_ambiguous() {
	publish
	make_image debian-12 1M 3
	run_qvm import debian-12 $ZV
	expect_failed "'debian-12' is both an image of the catalog \($TEST_DIR/catalog.yaml:3:3\) and a file here: write \./debian-12 for the file$"
	run_qvm import ./debian-12 $ZV
	expect_exit 0
	expect_holds debian-12 $ZV
	# a file names no osinfo or user
	expect_eq "-" "$(zfs get -H -o value qvm:osinfo $ZV)" "qvm:osinfo"
	expect_eq "-" "$(zfs get -H -o value qvm:user $ZV)" "qvm:user"
}
test_case 'a name that is also a local file: refused as ambiguous; ./NAME is the file' t_ambiguous

t_dirs() {
	publish
	mkdir -p images.d
	# images.d-style: *.yaml in name order, the later entry of a name wins
	cat >images.d/20-local.yaml <<-EOF
	images:
	  debian-12:
	    url: $URL/debian-12-genericcloud-amd64.raw
	    checksum: $URL/SHA512SUMS
	    osinfo: linux2022
	    user: admin
	    arch: $(uname -m)
	EOF
	printf 'images:\n  mirror-only:\n    url: /nowhere.raw\n    checksum: /nowhere.sums\n    osinfo: rocky9\n    user: rocky\n    arch: %s\n' \
		"$(uname -m)" >images.d/10-mirror.yaml
	echo 'not: read' >images.d/notes.txt
	export QVM_IMAGES=$TEST_DIR/catalog.yaml:$TEST_DIR/images.d
	run_qvm images --available
	expect_exit 0
	expect_line "debian-12    linux2022  admin   $(uname -m)  $URL/debian-12-genericcloud-amd64.raw" out
	expect_match "^mirror-only +rocky9 +rocky " out
	run_qvm import debian-12 $ZV
	expect_exit 0
	expect_marks $ZV linux2022 admin
	expect_contains "Image debian-12 from the catalog ($TEST_DIR/images.d/20-local.yaml:2:3)" out
	# a place QVM_IMAGES names must exist
	QVM_IMAGES=$TEST_DIR/nosuch run_qvm images --available
	expect_exit 1
	expect_first_line "^Error listing images: cannot read the image catalog: cannot read catalog $TEST_DIR/nosuch: No such file or directory$" err
}
test_case 'QVM_IMAGES: a file and a directory, a later entry overrides' t_dirs

t_osinfo_user() {
	image
	run_qvm import --osinfo rocky9 --user cloud-user disk.raw $ZV
	expect_exit 0
	expect_marks $ZV rocky9 cloud-user
	run_qvm images
	expect_match "^$ZV +3\.0 MiB +.* +0 +rocky9 +cloud-user +$TEST_DIR/disk\.raw" out
	run_qvm images --json
	json_check out 'd[0]["osinfo"] == "rocky9" and d[0]["user"] == "cloud-user"'

	zfs_snapshot_state before
	run_qvm import --osinfo debian12 disk.raw tank/images/other
	expect_failed "--osinfo 'debian12' is not a name this host's virt-install knows \(virt-install --osinfo list shows them\)$"
	run_qvm import --osinfo=--help disk.raw tank/images/other
	expect_failed "invalid --osinfo '--help': expected an osinfo name"
	run_qvm import --user 'root;x' disk.raw tank/images/other
	expect_failed "invalid --user 'root;x': invalid character"
	run_qvm import --user -admin disk.raw tank/images/other
	expect_failed "invalid --user '-admin': starts with '-'"
	expect_state_unchanged before
}
test_case '--osinfo and --user: recorded on any import, checked first' t_osinfo_user

t_override() {
	publish
	run_qvm import --osinfo linux2022 --user ops debian-12 $ZV
	expect_exit 0
	expect_empty err
	expect_marks $ZV linux2022 ops
	# a catalog image is verified against its own checksum file
	run_qvm import --sha512 "$(printf '%0128d' 0)" debian-12 tank/images/other
	expect_failed "image debian-12 is verified against its checksum file $URL/SHA512SUMS: --sha256, --sha512 and --checksum-file are for a file or URL$"
}
test_case '--osinfo/--user override the catalog; checksum options refused for a name' t_override

t_arch() {
	publish
	sed -i "s/arch: $(uname -m)/arch: s390x/" catalog.yaml
	run_qvm import debian-12 $ZV
	expect_failed "image debian-12 is for s390x, this host is $(uname -m) \(give its URL to import it anyway: $URL/debian-12-genericcloud-amd64.raw\)$"
	expect_empty <(zfs_mutations /dev/stdout)
}
test_case 'an image for another architecture is refused' t_arch

t_bad_catalog() {
	image
	printf 'images:\n  debian-12:\n    url: https://x/y\n    sha: abc\n' >bad.yaml
	QVM_IMAGES=$TEST_DIR/bad.yaml run_qvm import debian-12 $ZV
	expect_failed "cannot read the image catalog: $TEST_DIR/bad.yaml:4:5: unknown key 'sha' in image 'debian-12' \(expected url, checksum, osinfo, user, arch\)$"
	printf 'images:\n  x: [\n' >bad.yaml
	QVM_IMAGES=$TEST_DIR/bad.yaml run_qvm images --available
	expect_exit 1
	expect_first_line "^Error listing images: cannot read the image catalog: $TEST_DIR/bad.yaml:[0-9]+:[0-9]+: " err
	# a path is never looked up in the catalog
	QVM_IMAGES=$TEST_DIR/bad.yaml run_qvm import ./disk.raw $ZV
	expect_exit 0
	expect_empty err
	# a bare file name still imports the file, with a warning
	QVM_IMAGES=$TEST_DIR/bad.yaml run_qvm import disk.raw tank/images/other
	expect_exit 0
	expect_first_line "^Warning: cannot read the image catalog \($TEST_DIR/bad.yaml:[0-9]+:[0-9]+: .*\): 'disk.raw' is taken as the file$" err
}
test_case 'a wrong catalog: FILE:LINE:COL and what is wrong' t_bad_catalog

t_available() {
	publish
	run_qvm images --available
	expect_exit 0
	expect_first_line '^NAME +OSINFO +USER +ARCH +URL$' out
	expect_line "debian-12  debian12,debian11,linux2022  debian  $(uname -m)  $URL/debian-12-genericcloud-amd64.raw" out
	expect_match "^fedora-44 +fedora44 +fedora " out
	run_qvm images --available --json
	expect_exit 0
	json_check out '[e["name"] for e in d] == ["debian-12", "fedora-44"] and d[0]["osinfo"] == ["debian12", "debian11", "linux2022"] and d[0]["checksum"].endswith("/SHA512SUMS") and d[1]["user"] == "fedora" and d[0]["defined"].endswith("catalog.yaml:3:3")'
}
test_case 'images --available: table and JSON' t_available

# The catalog qvm installs: it parses, has the images issue 14 asks for,
# each with every field, https URLs, and osinfo names one of which the
# real virt-install here knows.
t_shipped() {
	rm -f "$TEST_DIR/bin/virt-install"
	export QVM_IMAGES=$TEST_REPO/data/images.yaml
	run_qvm images --available --json
	expect_exit 0
	python3 - out "$(virt-install --osinfo list | sed '/^$/q' | tr ',' '\n' | tr -d ' ' | paste -sd,)" <<-'PY'
	import json, sys
	d = json.load(open(sys.argv[1]))
	known = set(sys.argv[2].split(','))
	want = {'debian-11', 'debian-12', 'debian-13', 'ubuntu-22.04', 'ubuntu-24.04', 'almalinux-9',
	        'rocky-9', 'arch'}
	names = {e['name'] for e in d}
	assert want <= names, want - names
	assert any(n.startswith('fedora-') for n in names) and any(n.startswith('alpine-') for n in names)
	users = {'debian': 'debian', 'ubuntu': 'ubuntu', 'fedora': 'fedora', 'almalinux': 'almalinux',
	         'rocky': 'rocky', 'alpine': 'alpine', 'arch': 'arch'}
	for e in d:
	    for k in ('name', 'url', 'checksum', 'osinfo', 'user', 'arch'):
	        assert e[k], (e['name'], k)
	    assert e['url'].startswith('https://') and e['checksum'].startswith('https://'), e
	    assert e['user'] == users[e['name'].split('-')[0]], e
	    assert e['arch'] == 'x86_64', e
	    assert any(o in known for o in e['osinfo']), ('no osinfo known here', e)
	PY
}
test_case 'the shipped data/images.yaml: every image complete' t_shipped

t_not_installed() {
	unset QVM_IMAGES
	run_qvm images --available
	[ "$status" != 0 ] || skip "qvm is installed here (its catalog is where it looks)"
	expect_exit 1
	expect_match "^Error listing images: cannot read the image catalog: the image catalog /.*/qvm/images\.yaml is not installed \(meson install -C build\), or set QVM_IMAGES to a catalog file such as qvm's data/images\.yaml$" err
	run_qvm import debian-12 $ZV
	expect_exit 1
	expect_match "^Error importing cloud image: cannot read the image catalog: the image catalog .* is not installed" err
	# a bare word that is a file needs no catalog, and gets no warning about it
	dd if=/dev/zero of=disk.raw bs=1M count=1 status=none
	run_qvm import --force disk.raw $ZV
	expect_exit 0
	expect_empty err
}
test_case 'an uninstalled qvm says where its catalog should be; files still import without it' t_not_installed

test_done
