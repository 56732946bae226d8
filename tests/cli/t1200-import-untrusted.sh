#!/bin/bash
# SPDX-License-Identifier: MIT
# qvm import of images an attacker made: images that refer to host files
# (qcow2/qed/qcow backing files, external data files, vmdk extents and
# parents, differencing vhdx/vdi/vhd), damaged images, compressed raw images
# that start with zeros, files that are no disk at all (HTML pages, text,
# archives), checksum files as distributions publish them, and the messages
# each case gives. Every refusal happens before any change, and before
# qemu-img opens the image; locally, from a URL and inside archives.
. "$(dirname "$0")/lib.sh"
# shellcheck source=importlib.sh
. "$(dirname "$0")/importlib.sh"

# The file an image tries to read into the zvol: it must never get there.
secret() { printf 'HOST-SECRET-%s\n' "$(seq 1 2000 | tr '\n' '-')" >"$TEST_DIR/secret"; }

# poke FILE OFFSET HEX: writes the bytes at OFFSET.
poke() {
	python3 -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2], 0)); f.write(bytes.fromhex(sys.argv[3]))' "$@"
}

# qemu-img, logged: a refused image is never opened by it.
log_qemu_img() {
	mkdir -p "$TEST_DIR/bin"
	cat >"$TEST_DIR/bin/qemu-img" <<EOF
#!/bin/sh
printf '%s\n' "\$*" >>"$TEST_DIR/qemu-img.log"
exec $(command -v qemu-img) "\$@"
EOF
	chmod +x "$TEST_DIR/bin/qemu-img"
	: >"$TEST_DIR/qemu-img.log"
	PATH=$TEST_DIR/bin:$PATH
}

# expect_refused FILE REGEX: importing FILE fails with REGEX, changes
# nothing, never runs qemu-img, and no zvol holds the secret.
expect_refused() {
	local file=$1 re=$2
	zfs_snapshot_state before
	run_qvm import "$file" $ZV
	expect_failed "$re"
	expect_rolled_back before
	zfs_mutations calls
	expect_empty calls
	expect_empty "$TEST_DIR/qemu-img.log"
}

# --- images that refer to files outside themselves ------------------------------

t_qcow_backing() {
	secret
	log_qemu_img
	qemu-img create -q -f qcow2 -b "$TEST_DIR/secret" -F raw evil.qcow2 1M
	qemu-img create -q -f qed -b "$TEST_DIR/secret" -F raw evil.qed 1M
	qemu-img create -q -f qcow -b "$TEST_DIR/secret" -F raw evil.qcow 1M
	: >"$TEST_DIR/qemu-img.log"
	expect_refused evil.qcow2 "'evil\.qcow2' refers to a file outside itself: a qcow2 backing file '$TEST_DIR/secret'; qvm imports only self-contained images$"
	expect_refused evil.qed "'evil\.qed' refers to a file outside itself: a qed backing file '$TEST_DIR/secret'"
	expect_refused evil.qcow "'evil\.qcow' refers to a file outside itself: a qcow backing file '$TEST_DIR/secret'"
}
test_case 'qcow2, qed and qcow with a backing file (a host file): refused, qemu-img never run' t_qcow_backing

t_qcow2_data_file() {
	secret
	log_qemu_img
	cp secret data.raw
	qemu-img create -q -f qcow2 -o data_file="$TEST_DIR/data.raw",data_file_raw=on df.qcow2 8K
	: >"$TEST_DIR/qemu-img.log"
	expect_refused df.qcow2 "'df\.qcow2' refers to a file outside itself: a qcow2 external data file '$TEST_DIR/data\.raw'"
	# the feature bit alone, its name removed from the header
	qemu-img create -q -f qcow2 bit.qcow2 1M
	: >"$TEST_DIR/qemu-img.log"
	poke bit.qcow2 79 04
	expect_refused bit.qcow2 "'bit\.qcow2' refers to a file outside itself: a qcow2 external data file \(the data_file feature is set\)"
}
test_case 'qcow2 with an external data file, named or by its feature bit: refused' t_qcow2_data_file

# A monolithicSparse vmdk whose header says "no disk here" (capacity 0):
# qemu then reads its descriptor as a descriptor file, whose FLAT extent is
# any file.
sneaky_vmdk() {
	qemu-img create -q -f vmdk sneaky.vmdk 1M
	python3 - "$TEST_DIR/secret" <<'EOF'
import sys
d = bytearray(open('sneaky.vmdk', 'rb').read())
d[12:20] = bytes(8)                                # capacity 0
region = d[512:512 * 21]
i = region.find(b'RW ')
j = region.find(b'\n', i)
line = ('RW %d FLAT "%s" 0' % (1, sys.argv[1])).encode()
d[512:512 * 21] = (region[:i] + line + region[j:])[:len(region)]
open('sneaky.vmdk', 'wb').write(d)
EOF
}

t_vmdk() {
	secret
	log_qemu_img
	printf '# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType="monolithicFlat"\nRW 2048 FLAT "%s" 0\n' \
		"$TEST_DIR/secret" >flat.vmdk
	qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse split.vmdk 1M
	qemu-img create -q -f vmdk base.vmdk 1M
	qemu-img create -q -f vmdk -b "$TEST_DIR/base.vmdk" -F vmdk child.vmdk 1M
	sneaky_vmdk
	: >"$TEST_DIR/qemu-img.log"
	expect_refused flat.vmdk "'flat\.vmdk' refers to a file outside itself: a vmdk extent file '$TEST_DIR/secret' \(FLAT\)"
	expect_refused split.vmdk "'split\.vmdk' refers to a file outside itself: a vmdk extent file 'split-s001\.vmdk' \(SPARSE\)"
	expect_refused child.vmdk "'child\.vmdk' refers to a file outside itself: a vmdk parent disk '$TEST_DIR/base\.vmdk'"
	expect_refused sneaky.vmdk "'sneaky\.vmdk' refers to a file outside itself: a vmdk extent file '$TEST_DIR/secret' \(FLAT\)"
	# the plain kinds still import
	make_image disk.raw 1M
	qemu-img convert -f raw -O vmdk -o subformat=streamOptimized disk.raw so.vmdk
	run_qvm import so.vmdk tank/images/so
	expect_exit 0
	expect_holds disk.raw tank/images/so
}
test_case 'vmdk: descriptor files, split extents, a parent, an empty sparse header with a FLAT extent: refused' t_vmdk

# vhdx_set_parent FILE: sets HasParent in the file parameters metadata.
vhdx_set_parent() {
	python3 - "$1" <<'EOF'
import struct, sys, uuid
f = open(sys.argv[1], 'r+b')
f.seek(0x30000); rt = f.read(65536)
meta = uuid.UUID('8B7CA206-4790-4B9A-B8FE-575F050F886E').bytes_le
params = uuid.UUID('CAA16737-FA36-4D43-B3B6-33F0AA44E76B').bytes_le
for i in range(struct.unpack_from('<I', rt, 8)[0]):
    e = rt[16 + 32 * i:48 + 32 * i]
    if e[:16] == meta:
        off = struct.unpack_from('<Q', e, 16)[0]
f.seek(off); mt = f.read(65536)
for i in range(struct.unpack_from('<H', mt, 10)[0]):
    e = mt[32 + 32 * i:64 + 32 * i]
    if e[:16] == params:
        f.seek(off + struct.unpack_from('<I', e, 16)[0] + 4); f.write(struct.pack('<I', 2))
EOF
}

t_differencing() {
	log_qemu_img
	qemu-img create -q -f vhdx diff.vhdx 1M
	vhdx_set_parent diff.vhdx
	qemu-img create -q -f vdi diff.vdi 1M
	poke diff.vdi 0x4c 04000000
	poke diff.vdi 0x1a8 0102030405060708090a0b0c0d0e0f10
	qemu-img create -q -f vpc diff.vhd 1M
	size=$(stat -c %s diff.vhd)
	poke diff.vhd 60 00000004
	poke diff.vhd $((size - 512 + 60)) 00000004
	: >"$TEST_DIR/qemu-img.log"
	expect_refused diff.vhdx "'diff\.vhdx' refers to a file outside itself: a vhdx parent disk \(HasParent is set: a differencing disk\)"
	expect_refused diff.vdi "'diff\.vdi' refers to a file outside itself: a vdi parent disk \{04030201-0605-0807-090a-0b0c0d0e0f10\} \(a differencing image\)"
	expect_refused diff.vhd "'diff\.vhd' refers to a file outside itself: a VHD parent disk \(a differencing disk\)"
}
test_case 'differencing vhdx, vdi and vhd (a parent disk): refused' t_differencing

t_url_and_archives() {
	secret
	log_qemu_img
	mkdir www
	qemu-img create -q -f qcow2 -b "$TEST_DIR/secret" -F raw www/evil.qcow2 1M
	printf '# Disk DescriptorFile\nversion=1\ncreateType="monolithicFlat"\nRW 2048 FLAT "%s" 0\n' \
		"$TEST_DIR/secret" >www/flat.vmdk
	cp www/evil.qcow2 evil.qcow2
	xz -k -T1 evil.qcow2
	tar -czf evil.tar.gz evil.qcow2
	serve www
	: >"$TEST_DIR/qemu-img.log"
	expect_refused "$URL/evil.qcow2" "'$URL/evil\.qcow2' refers to a file outside itself: a qcow2 backing file '$TEST_DIR/secret'"
	expect_refused "$URL/redirect/flat.vmdk" "'$URL/redirect/flat\.vmdk' refers to a file outside itself: a vmdk extent file '$TEST_DIR/secret' \(FLAT\)"
	expect_refused evil.qcow2.xz "'evil\.qcow2\.xz' refers to a file outside itself: a qcow2 backing file '$TEST_DIR/secret'"
	expect_refused evil.tar.gz "'evil\.tar\.gz' refers to a file outside itself: a qcow2 backing file '$TEST_DIR/secret'"
}
test_case 'from a URL (and through a redirect), compressed, in a tar: refused the same' t_url_and_archives

t_swapped() {
	secret
	# a qcow2 whose external data file is the secret (a name of the same
	# length swapped in)
	qemu-img create -q -f qcow2 -o data_file="$TEST_DIR/dummyx",data_file_raw=on evil.qcow2 8K
	sed -i "s#$TEST_DIR/dummyx#$TEST_DIR/secret#" evil.qcow2
	qemu-img create -q -f qcow2 clean.qcow2 1M
	sum=$(sha256sum clean.qcow2 | cut -d' ' -f1)
	# once the zvol is being created - every check passed - the image is
	# rewritten in place: its writer waits, qvm sees it and rolls back
	cat >rewrite.py <<-'EOF'
	import os
	evil = open('evil.qcow2', 'rb').read()
	fd = os.open('clean.qcow2', os.O_WRONLY | os.O_TRUNC)
	os.write(fd, evil)
	EOF
	mkdir -p bin
	cat >bin/zfs <<-EOF
	#!/bin/sh
	if [ "\$1" = create ]; then
	    python3 "$TEST_DIR/rewrite.py" </dev/null >/dev/null 2>&1 &
	    echo \$! >"$TEST_DIR/writer.pid"
	    sleep 0.5
	fi
	exec "$(command -v zfs)" "\$@"
	EOF
	chmod +x bin/zfs
	zfs_snapshot_state before
	PATH=$TEST_DIR/bin:$PATH run_qvm import --sha256 "$sum" clean.qcow2 $ZV
	while kill -0 "$(cat writer.pid)" 2>/dev/null; do sleep 0.1; done
	expect_failed "'clean\.qcow2' was opened for writing while qvm imported it: what qemu-img read may not be what qvm checked$"
	expect_rolled_back before
	# an image open for writing elsewhere from the start: a private copy
	qemu-img create -q -f qcow2 busy.qcow2 1M
	exec 3>>busy.qcow2
	run_qvm import busy.qcow2 tank/images/busy
	exec 3>&-
	expect_exit 0
	expect_match '^Copying busy\.qcow2 \(qcow2\) to a temporary file \(it is open for writing elsewhere\)' out
	expect_eq "" "$(ls -A "$TMPDIR")" "files left in TMPDIR"
	# on a file system whose device can be written past the lease (a loop
	# device: its backing file may be anyone's): a private copy too
	truncate -s 64M fs.img
	mkfs.ext4 -q -F fs.img
	mkdir mnt
	mount -o loop fs.img mnt 2>/dev/null || skip "cannot mount a loop device"
	trap 'umount "$TEST_DIR/mnt"' EXIT
	qemu-img create -q -f qcow2 mnt/loop.qcow2 1M
	run_qvm import mnt/loop.qcow2 tank/images/loop
	expect_exit 0
	expect_match "^Copying mnt/loop\.qcow2 \(qcow2\) to a temporary file \(its file system's device can be written past a lease\)" out
}
test_case 'a local image rewritten after its checks: refused and rolled back; one open for writing: copied first' t_swapped

# --- damaged images -----------------------------------------------------------------

t_damaged() {
	make_image disk.raw 4M
	log_qemu_img
	for f in qcow2 qcow vdi vpc vhdx; do
		qemu-img convert -f raw -O $f disk.raw whole.$f
		head -c $(($(stat -c %s whole.$f) / 2)) whole.$f >cut.$f
	done
	# its tables kept, its last data clusters cut: only qemu-img check sees it
	head -c $(($(stat -c %s whole.qcow2) - 131072)) whole.qcow2 >cut.qcow2
	qemu-img convert -f raw -O vmdk -o subformat=streamOptimized disk.raw whole.vmdk
	head -c $(($(stat -c %s whole.vmdk) * 3 / 4)) whole.vmdk >cut.vmdk
	: >"$TEST_DIR/qemu-img.log"
	# qvm's own reading of the tables: qemu-img never runs
	expect_refused cut.qcow "'cut\.qcow' is damaged: .* beyond the end of the file \([0-9]+ bytes\): the file is cut short or damaged$"
	expect_refused cut.vdi "'cut\.vdi' is damaged: its [0-9]+ allocated blocks end beyond the end of the file"
	expect_refused cut.vpc "'cut\.vpc' is damaged: block [0-9]+ of its table lies beyond the end of the file"
	expect_refused cut.vhdx "'cut\.vhdx' is damaged: block [0-9]+ of its table lies beyond the end of the file"
	# qemu-img check's own words, before any change
	zfs_snapshot_state before
	run_qvm import cut.qcow2 $ZV
	expect_failed "'cut\.qcow2' is damaged: qemu-img check: [0-9]+ errors were found on the image \(first: ERROR: .*\)$"
	expect_rolled_back before
	run_qvm import cut.vmdk $ZV
	expect_failed "'cut\.vmdk' is damaged: qemu-img check: .*(ERROR|Check failed)"
	expect_rolled_back before
	zfs_mutations calls
	expect_empty calls
	# a qcow2 qemu marked corrupt
	cp whole.qcow2 marked.qcow2
	poke marked.qcow2 79 02
	: >"$TEST_DIR/qemu-img.log"
	expect_refused marked.qcow2 "'marked\.qcow2' is damaged: qemu marked it corrupt"
	# the whole ones import
	for f in qcow2 qcow vdi vpc vhdx vmdk; do
		run_qvm import whole.$f tank/images/$f
		expect_exit 0
		expect_match "^Checking the $f image's metadata\.\.\. self-contained" out
	done
	expect_holds disk.raw tank/images/qcow2
}
test_case 'truncated qcow2, qcow, vdi, vhd, vhdx, vmdk and a qcow2 marked corrupt: refused before any change' t_damaged

t_bombs() {
	log_qemu_img
	# a header that makes no sense, then 64 MiB of zeros, in a few KiB of zstd:
	# refused from its first bytes, before anything is unpacked
	{ printf 'QFI\373\0\0\0\3'; head -c 64M /dev/zero; } | zstd -q -3 >bomb.qcow2.zst
	qemu-img create -q -f qcow2 -b /etc/shadow -F raw back.qcow2 1M
	{ cat back.qcow2; head -c 64M /dev/zero; } | zstd -q -3 >back.qcow2.zst
	: >"$TEST_DIR/qemu-img.log"
	expect_refused bomb.qcow2.zst "'bomb\.qcow2\.zst' is damaged: its header gives an invalid cluster size"
	expect_no_match '^Decompressing' out
	expect_refused back.qcow2.zst "'back\.qcow2\.zst' refers to a file outside itself: a qcow2 backing file '/etc/shadow'"
	expect_no_match '^Decompressing' out
	# every L1 entry of a 16 TiB qcow2 names one L2 table: qemu-img check
	# would walk it for hours; refused at once
	qemu-img create -q -f qcow2 shared.qcow2 16T
	python3 - <<-'EOF'
	import struct
	f = open('shared.qcow2', 'r+b')
	h = f.read(104)
	l1_size, l1_off = struct.unpack_from('>IQ', h, 36)
	f.seek(l1_off)
	f.write(struct.pack('>Q', 0x8000000000020000) * l1_size)
	EOF
	: >"$TEST_DIR/qemu-img.log"
	TEST_TIMEOUT=30 expect_refused shared.qcow2 "'shared\.qcow2' is damaged: two entries of its L1 table name the same L2 table"
	# a real image padded with data that compresses to nothing: qvm stops
	# before the temporary file's file system is full; a copy's holes stay
	# holes
	if mount -t tmpfs -o size=100m qvm-test "$TMPDIR" 2>/dev/null; then
		qemu-img create -q -f qcow2 sparse.qcow2 1M
		truncate -s 1G sparse.qcow2
		exec 3>>sparse.qcow2
		run_qvm import sparse.qcow2 tank/images/sparse
		exec 3>&-
		expect_exit 0
		expect_match '^Copying sparse\.qcow2' out
		qemu-img create -q -f qcow2 pad.qcow2 1M
		{ cat pad.qcow2; yes | head -c 200M; } | zstd -q -3 >pad.qcow2.zst
		zfs_snapshot_state before
		run_qvm import pad.qcow2.zst $ZV
		umount "$TMPDIR"
		expect_failed "the temporary copy of 'pad\.qcow2\.zst' would leave too little free in $TMPDIR \(less than 1 GiB, or 5% of a smaller file system\): set TMPDIR to a file system with room for it$"
		expect_rolled_back before
	fi
}
test_case 'decompression bombs: a bad or referring header is refused before unpacking; shared L2 tables; TMPDIR never filled' t_bombs

# --- compressed raw images whose first blocks are zero -------------------------------

t_zero_start() {
	truncate -s 16M fs.raw
	mkfs.ext4 -q -F -E root_owner=0:0 fs.raw     # its first 1 KiB is zero
	mkdir -p iso/d && echo data >iso/d/f
	xorriso -as mkisofs -quiet -o cd.raw iso 2>/dev/null   # its first 32 KiB are zero
	xz -k -T1 fs.raw
	zstd -q -k fs.raw
	gzip -k fs.raw
	bzip2 -k fs.raw
	xz -k -T1 cd.raw
	for f in fs.raw.xz fs.raw.zst cd.raw.xz; do
		run_qvm import "$f" "tank/images/${f//./-}"
		expect_exit 0
		expect_empty err
		[ "$f" != fs.raw.xz ] ||
			expect_match '^Looking for a partition table or file system in fs\.raw\.xz\.\.\. an ext4 file system$' out
	done
	expect_holds fs.raw tank/images/fs-raw-xz
	expect_holds fs.raw tank/images/fs-raw-zst
	expect_holds cd.raw tank/images/cd-raw-xz
	run_qvm import --size 16M fs.raw.gz tank/images/gz
	expect_exit 0
	expect_holds fs.raw tank/images/gz
	run_qvm import --size 16M fs.raw.bz2 tank/images/bz2
	expect_exit 0
	expect_holds fs.raw tank/images/bz2
	# in a tar too, and in an old (v7) tar, which has no "ustar"
	tar -cJf fs.tar.xz fs.raw
	run_qvm import fs.tar.xz tank/images/tar
	expect_exit 0
	expect_holds fs.raw tank/images/tar
	tar --format=v7 -cf fs.v7.tar fs.raw
	run_qvm import fs.v7.tar tank/images/v7
	expect_exit 0
	expect_holds fs.raw tank/images/v7
}
test_case 'compressed raw images whose first sector (or 32 KiB) is zero import like the file itself' t_zero_start

t_tar_without_file() {
	ln -s /etc/shadow disk.raw
	tar -czf link.tar.gz disk.raw
	mkdir d && tar -cJf dirs.tar.xz d
	: >empty.raw && tar -cf mixed.tar d empty.raw disk.raw
	zfs_snapshot_state before
	run_qvm import link.tar.gz $ZV
	expect_failed "'link\.tar\.gz' holds no disk image: it holds only a symlink 'disk\.raw' -> '/etc/shadow'$"
	run_qvm import dirs.tar.xz $ZV
	expect_failed "'dirs\.tar\.xz' holds no disk image: it holds only a directory$"
	run_qvm import mixed.tar $ZV
	expect_failed "'mixed\.tar' holds no disk image: it holds only a directory, a symlink 'disk\.raw' -> '/etc/shadow' and an empty file$"
	printf '' | xz >nothing.xz
	run_qvm import --size 1M nothing.xz $ZV
	expect_failed "'nothing\.xz' holds no disk image: it holds nothing \(the stream is empty\)$"
	expect_rolled_back before
}
test_case 'a tar that holds no file with data says what it holds; an empty stream too' t_tar_without_file

t_after_tar() {
	# after the tar's end, gigabytes of zeros in a few hundred bytes of
	# bzip2: refused when more than padding follows, not read for minutes
	make_image disk.raw 1M
	tar -cf disk.tar disk.raw
	{ bzip2 -c disk.tar; head -c 256M /dev/zero | bzip2 -9; } >long.tar.bz2
	zfs_snapshot_state before
	TEST_TIMEOUT=60 run_qvm import long.tar.bz2 $ZV
	expect_failed "'long\.tar\.bz2' holds more data after the end of its tar archive than padding: it is not one tar archive$"
	expect_rolled_back before
}
test_case 'a stream that goes on after its tar: refused' t_after_tar

t_member_names() {
	# member names are printed escaped: no line of their own, no escape
	# sequence reaches the terminal
	make_image disk.raw 1M
	python3 - <<-'EOF'
	import io, tarfile
	t = tarfile.open('names.tar', 'w')
	for name in ('disk\nError importing cloud image: fake', 'b\x1b]0;title\x07'):
	    data = open('disk.raw', 'rb').read()
	    info = tarfile.TarInfo(name); info.size = len(data)
	    t.addfile(info, io.BytesIO(data))
	t.close()
	EOF
	run_qvm import names.tar $ZV
	expect_exit 1
	expect_eq 1 "$(wc -l <err)" "lines on stderr"
	expect_first_line "^Error importing cloud image: 'names\.tar' holds more than one file \(disk\\\\nError importing cloud image: fake and b\\\\x1b\]0;title\\\\x07\)" err
	expect_no_match $'\x1b' out
}
test_case 'tar member names are shown escaped' t_member_names

# --- files that are no disk ------------------------------------------------------------

t_not_a_disk() {
	make_image disk.raw 1M
	printf '<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body>gone</body></html>\n' >page.html
	seq 1 100000 >notes.txt
	sha256sum disk.raw >SHA256SUMS
	python3 -c 'import zipfile; z = zipfile.ZipFile("disk.zip", "w"); z.write("disk.raw"); z.close()'
	truncate -s 4M blank.raw
	mkdir www && cp page.html www/
	serve www
	zfs_snapshot_state before
	run_qvm import page.html $ZV
	expect_failed "'page\.html' does not look like a disk image \(it looks like an HTML page\): qvm found no partition table, file system, LVM, RAID or LUKS signature in it; if it is a disk all the same, import it with --force$"
	run_qvm import notes.txt $ZV
	expect_failed "'notes\.txt' does not look like a disk image \(it looks like text\)"
	run_qvm import SHA256SUMS $ZV
	expect_failed "'SHA256SUMS' does not look like a disk image \(it looks like a checksum list"
	run_qvm import disk.zip $ZV
	expect_failed "'disk\.zip' does not look like a disk image \(it looks like a zip archive\)"
	run_qvm import blank.raw $ZV
	expect_failed "'blank\.raw' does not look like a disk image \(it looks like nothing but zeros\)"
	# a web server's directory listing and error page, streamed
	run_qvm import "$URL/" $ZV
	expect_failed "'$URL/' does not look like a disk image \(it looks like an HTML page\)"
	gzip -k page.html
	run_qvm import --size 1M page.html.gz $ZV
	expect_failed "'page\.html\.gz' does not look like a disk image \(it looks like an HTML page\)"
	expect_rolled_back before
	# --force: imported as it is
	run_qvm import --force notes.txt tank/images/notes
	expect_exit 0
	expect_match '^Looking for a partition table or file system in notes\.txt\.\.\. none found \(imported all the same: --force\)$' out
	expect_holds notes.txt tank/images/notes
}
test_case 'HTML pages (local, from a URL, compressed), text, a checksum list, a zip, zeros: refused; --force' t_not_a_disk

# --- checksums as distributions publish them ------------------------------------------

t_sha512() {
	make_image disk.raw 2M
	sum=$(sha512sum disk.raw | cut -d' ' -f1)
	run_qvm import --sha512 "$sum" disk.raw tank/images/a
	expect_exit 0
	expect_match "^Imported disk\.raw as tank/images/a@base \(sha512 $sum verified\)$" out
	expect_eq "$sum" "$(zfs get -H -o value qvm:sha512 tank/images/a)" "qvm:sha512"
	expect_eq "-" "$(zfs get -H -o value qvm:sha256 tank/images/a)" "qvm:sha256"
	run_qvm images
	expect_match "^tank/images/a .* sha512:$sum$" out
	run_qvm images --json
	expect_match "\"sha512\": \"$sum\"" out
	zfs_snapshot_state before
	run_qvm import --sha512 "$(printf '%0128d' 0)" disk.raw $ZV
	expect_failed "checksum mismatch for 'disk\.raw': expected sha512 0{128}, got $sum$"
	run_qvm import --sha256 "$sum" disk.raw $ZV
	expect_failed "invalid --sha256 value '$sum': expected 64 hexadecimal digits \(128 are a SHA-512 digest: give it with --sha512\)$"
	run_qvm import --sha256 "$(printf '%064d' 0)" --sha512 "$sum" disk.raw $ZV
	expect_failed "give one of --sha256, --sha512 and --checksum-file$"
	expect_rolled_back before
}
test_case '--sha512: verified, recorded as qvm:sha512, shown; mismatch and misuse refused' t_sha512

t_sums_files() {
	make_image disk.raw 2M
	mkdir www
	cp disk.raw www/
	s256=$(sha256sum disk.raw | cut -d' ' -f1)
	s512=$(sha512sum disk.raw | cut -d' ' -f1)
	# Debian: SHA512SUMS only
	{ printf '%0128d  other.raw\n' 7; sha512sum disk.raw; } >www/SHA512SUMS
	# Fedora / AlmaLinux: BSD lines and comments in a PGP clear-signed file
	cat >www/CHECKSUM <<EOF
-----BEGIN PGP SIGNED MESSAGE-----
Hash: SHA256

# disk.raw: 2097152 bytes
SHA256 (disk.raw) = $s256
- -----not a line of the signature, dash-escaped
-----BEGIN PGP SIGNATURE-----

iQIzBAEBCAAdFiEEdummydummydummydummydummydummyAAoJEdummy
=abcd
-----END PGP SIGNATURE-----
EOF
	# a line before the signed text is not signed: it does not count
	{ printf 'SHA256 (disk.raw) = %064d\n' 9; cat www/CHECKSUM; } >www/CHECKSUM.prefixed
	# both algorithms: the SHA-512 one is checked
	{ sha256sum disk.raw; printf 'SHA512 (disk.raw) = %s\n' "$s512"; } >www/BOTH
	md5sum disk.raw >www/MD5SUMS
	serve www
	run_qvm import --checksum-file "$URL/SHA512SUMS" "$URL/disk.raw" tank/images/debian
	expect_exit 0
	expect_eq "$s512" "$(zfs get -H -o value qvm:sha512 tank/images/debian)" "qvm:sha512"
	run_qvm import --checksum-file "$URL/CHECKSUM" "$URL/disk.raw" tank/images/fedora
	expect_exit 0
	expect_eq "$s256" "$(zfs get -H -o value qvm:sha256 tank/images/fedora)" "qvm:sha256"
	run_qvm import --checksum-file "$URL/CHECKSUM.prefixed" disk.raw tank/images/prefixed
	expect_exit 0
	run_qvm import --checksum-file www/BOTH disk.raw tank/images/both
	expect_exit 0
	expect_eq "$s512" "$(zfs get -H -o value qvm:sha512 tank/images/both)" "qvm:sha512"
	zfs_snapshot_state before
	# a NUL before a signed message would hide it: refused
	{ printf '%s  disk.raw\n\0\n' "$s256"; cat www/CHECKSUM; } >NUL.SUMS
	run_qvm import --checksum-file NUL.SUMS disk.raw $ZV
	expect_failed "checksum file 'NUL\.SUMS' holds a NUL byte: it is no checksum file$"
	run_qvm import --checksum-file www/MD5SUMS disk.raw $ZV
	expect_failed "checksum file 'www/MD5SUMS' has only a MD5 digest for 'disk\.raw': qvm verifies SHA-256 and SHA-512$"
	expect_rolled_back before
}
test_case '--checksum-file: SHA512SUMS, BSD lines in a PGP clear-signed file, both algorithms, MD5 only' t_sums_files

# --- messages that are true ---------------------------------------------------------------

t_messages() {
	make_image disk.raw 3M
	gzip -k disk.raw
	mkdir www && cp disk.raw www/
	serve www
	zfs_snapshot_state before
	# --size 1500K: the zvol is 2 MiB, and the message says so
	run_qvm import --size 1500K disk.raw.gz $ZV
	expect_failed "the image in 'disk\.raw\.gz' is larger than the zvol \(2\.0 MiB\): give a larger --size$"
	# a length curl cannot use is not "no length"
	run_qvm import "$URL/badlength/disk.raw" $ZV
	expect_failed "the server announced a length for $URL/badlength/disk\.raw that is not a size \(Content-Length: 99999999999999999999\): give the zvol's size with --size SIZE$"
	expect_rolled_back before
	run_qvm import --size 3M "$URL/badlength/disk.raw" tank/images/sized
	expect_exit 0
	expect_holds disk.raw tank/images/sized
}
test_case 'messages: the zvol'"'"'s real size; a Content-Length that is not a size' t_messages

t_url_secrets() {
	# a password in the URL is neither shown nor recorded; control
	# characters in it reach no terminal
	image 3
	mkdir www
	cp disk.raw www/
	serve www
	local host=${URL#http://}
	run_qvm import "http://bob:hunter2@$host/disk.raw" tank/images/cred
	expect_exit 0
	expect_no_match hunter2 out
	expect_match "^Imported http://bob:\*\*\*@$host/disk\.raw as tank/images/cred@base" out
	expect_eq "http://bob:***@$host/disk.raw" "$(zfs get -H -o value qvm:source tank/images/cred)" "qvm:source"
	run_qvm images --json
	expect_no_match hunter2 out
	zfs_snapshot_state before
	run_qvm import "$URL/disk.raw?a=$(printf '\033]0;PWN\007')" tank/images/esc
	expect_exit 1
	expect_no_match $'\e' out
	expect_no_match $'\e' err
	expect_match '\\x1b\]0;PWN\\x07' err
	expect_rolled_back before
}
test_case 'a URL: its password masked in messages and in qvm:source, control characters escaped' t_url_secrets

test_done
