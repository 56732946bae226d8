#!/bin/bash
# SPDX-License-Identifier: MIT
# The ZFS test double itself, against zfs(8)/zpool(8) and OpenZFS's messages
# (lib/libzfs/libzfs_dataset.c, libzfs_util.c, libzfs_pool.c,
# cmd/zfs/zfs_main.c, module/zcommon/zfs_namecheck.c): if it drifts from real
# ZFS, the qvm tests built on it prove nothing.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

setup() {
	zpool create tank
	zfs create tank/images
}

dev() { echo "$QVM_ZVOL_DIR/$1"; }

# zfs_err ARGS... : run zfs, expect exit 1 and one line of stderr
zfs_fails() {
	run zfs "$@"
	expect_exit 1
	expect_empty out
}

# --- zpool -----------------------------------------------------------------

t_zpool() {
	run zpool list -H -o name
	expect_exit 0
	expect_eq tank "$(cat out)" "pools"
	run zpool create tank
	expect_exit 1
	expect_line "cannot create 'tank': pool already exists" err
	run zpool create 1pool
	expect_exit 1
	expect_line "cannot create '1pool': name must begin with a letter" err
	run zpool create mirror0
	expect_line "cannot create 'mirror0': name is reserved" err
	run zpool list nosuch
	expect_exit 1
	expect_line "cannot open 'nosuch': no such pool" err
	zpool create -O compression=lz4 -m /srv/data data
	expect_eq $'data\ttank' "$(zpool list -H -o name | tr '\n' '\t' | sed 's/\t$//')" "pools"
	expect_eq $'/srv/data\tlocal' "$(zfs get -H -o value,source mountpoint data)" "mountpoint"
	zpool destroy data
	run zfs list data
	expect_line "cannot open 'data': dataset does not exist" err
}
test_case 'zpool create, list and destroy; existing pool and bad names' t_zpool

# --- zfs create ------------------------------------------------------------

t_create_volume() {
	run zfs create -V 3M tank/images/v
	expect_exit 0
	expect_empty out
	expect_empty err
	expect_eq 3145728 "$(stat -c %s "$(dev tank/images/v)")" "device size"
	expect_eq 0 "$(stat -c %b "$(dev tank/images/v)")" "allocated blocks of the new device"
	expect_eq 0 "$(cmp -n 3145728 "$(dev tank/images/v)" /dev/zero >/dev/null && echo 0)" "zeros"
	expect_eq $'tank/images/v\tvolume\t3145728\t16384' \
		"$(zfs list -H -p -o name,type,volsize,volblocksize tank/images/v)" "list"
	# without -s, zfs sets a refreservation: volsize + metadata
	expect_eq $'5242880\tlocal' "$(zfs get -H -p -o value,source refreservation tank/images/v)" \
		"refreservation"
	expect_eq $'3M\tlocal' "$(zfs get -H -o value,source volsize tank/images/v)" "volsize"
	expect_eq $'16K\t-' "$(zfs get -H -o value,source volblocksize tank/images/v)" "volblocksize"
}
test_case 'create -V: sparse device of volsize, refreservation, volblocksize 16K' t_create_volume

t_create_props() {
	zfs create -s -V 1G -o volblocksize=16K -o refreservation=none \
		-o qvm:kind=image -o compression=zstd tank/images/v
	expect_eq $'none\tlocal' "$(zfs get -H -o value,source refreservation tank/images/v)" "refres"
	expect_eq $'image\tlocal' "$(zfs get -H -o value,source qvm:kind tank/images/v)" "user prop"
	expect_eq $'zstd\tlocal' "$(zfs get -H -o value,source compression tank/images/v)" "compression"
	zfs create -s -V 1M tank/images/w
	expect_eq $'none\tdefault' "$(zfs get -H -o value,source refreservation tank/images/w)" "-s"
	# sizes: suffixes with optional B or iB, decimals
	for spec in 1048576:1048576 1M:1048576 1MB:1048576 1MiB:1048576 1m:1048576 \
		1.5M:1572864 0.5G:536870912 64K:65536 .25M:262144; do
		zfs create -s -V "${spec%%:*}" "tank/images/s${spec%%:*}"
		expect_eq "${spec#*:}" "$(zfs get -H -p -o value volsize "tank/images/s${spec%%:*}")" \
			"volsize of -V ${spec%%:*}"
	done
	# zfs rounds -V up to a multiple of volblocksize (zfs_main.c)
	zfs create -s -V 1000000 tank/images/r
	expect_eq 1015808 "$(zfs get -H -p -o value volsize tank/images/r)" "rounded volsize"
	zfs create -s -V 1M -b 4K tank/images/b
	expect_eq 4096 "$(zfs get -H -p -o value volblocksize tank/images/b)" "-b"
}
test_case 'create -V: -s, -o properties, user properties, size syntax, rounding' t_create_props

t_create_errors() {
	zfs create -V 1M tank/images/v
	zfs_snapshot_state before
	zfs_fails create -V 1M tank/images/v
	expect_line "cannot create 'tank/images/v': dataset already exists" err
	zfs_fails create -V 1M tank/nosuch/v
	expect_line "cannot create 'tank/nosuch/v': parent does not exist" err
	zfs_fails create -V 1M tank/images/v/child
	expect_line "cannot create 'tank/images/v/child': parent is not a filesystem" err
	# a volume opens the pool first: zpool_open()'s wording
	zfs_fails create -V 1M nopool/v
	expect_line "cannot open 'nopool': no such pool" err
	# a filesystem goes through check_parents()
	zfs_fails create nopool/fs
	expect_line "cannot create 'nopool/fs': no such pool 'nopool'" err
	zfs_fails create -V 0 tank/images/z
	expect_line "cannot create 'tank/images/z': volume size cannot be zero" err
	# a size a 64-bit zfs takes (zvol_check_volsize refuses only on 32-bit)
	# but no file here can be: the volume is made, without a device
	zfs create -s -V 15E tank/images/huge 2>err
	expect_eq 17293822569102704640 "$(zfs get -H -p -o value volsize tank/images/huge)" "volsize"
	expect_match "^zfs double: no device for .*tank/images/huge: 17293822569102704640 bytes cannot be a file here" err
	expect_file_absent "$QVM_ZVOL_DIR/tank/images/huge"
	zfs destroy tank/images/huge
	# grown past what a file can be: zfs does it, the device keeps its size
	zfs create -s -V 1M tank/images/grow
	zfs set volsize=8E tank/images/grow 2>err
	expect_match "^zfs double: device .*tank/images/grow keeps its size" err
	expect_eq 9223372036854775808 "$(zfs get -H -p -o value volsize tank/images/grow)" "volsize"
	zfs destroy tank/images/grow
	zfs_fails create -V 1M -o volblocksize=3000 tank/images/z
	expect_line "cannot create 'tank/images/z': 'volblocksize' must be power of 2 from 512B to 16M" err
	zfs_fails create -V 1M -b 64M tank/images/z
	expect_line "cannot create 'tank/images/z': 'volblocksize' must be power of 2 from 512B to 16M" err
	zfs_fails create -V 1M -b 8K -o volblocksize=8K tank/images/z
	expect_line "property 'volblocksize' specified multiple times" err
	zfs_fails create -V 1M -o nosuchprop=1 tank/images/z
	expect_line "cannot create 'tank/images/z': invalid property 'nosuchprop'" err
	zfs_fails create -V 1M -o compression=fast tank/images/z
	expect_match "^cannot create 'tank/images/z': 'compression' must be one of 'on \| off \| lzjb" err
	zfs_fails create -V 1M -o mountpoint=/x tank/images/z
	expect_line "cannot create 'tank/images/z': 'mountpoint' does not apply to datasets of this type" err
	zfs_fails create -V 1M -o used=5 tank/images/z
	expect_line "cannot create 'tank/images/z': 'used' is readonly" err
	zfs_fails create -V 1M -o refreservation=lots tank/images/z
	expect_line "cannot create 'tank/images/z': bad numeric value 'lots'" err
	zfs_fails create -V 1X tank/images/z
	expect_line "bad volume size '1X': invalid numeric suffix 'X'" err
	zfs_fails create -V -5 tank/images/z
	expect_line "bad volume size '-5': bad numeric value '-5'" err
	zfs_fails create -V 1M -o volsize tank/images/z
	expect_line "missing '=' for property=value argument" err
	zfs_fails create -V 1M -o a:b=1 -o a:b=2 tank/images/z
	expect_line "property 'a:b' specified multiple times" err
	expect_state_unchanged before
}
test_case 'create: exists, parent missing or a volume, no pool, bad sizes and properties' t_create_errors

t_create_names() {
	zfs_snapshot_state before
	while IFS='|' read -r name why; do
		zfs_fails create -V 1M "$name"
		expect_line "cannot create '$name': $why" err
	done <<-'EOF'
	tank/images/a*b|invalid character '*' in name
	tank/images/a$b|invalid character '$' in name
	tank//a|empty component or misplaced '@' or '#' delimiter in name
	tank/images/|trailing slash in name
	tank/images/../a|parent reference, '..' is found in name
	tank/images/./a|self reference, '.' is found in name
	tank/images/a@b|snapshot delimiter '@' is not expected here
	tank/images/a#b|bookmark delimiter '#' is not expected here
	tank/images/a%b|invalid character % in name
	EOF
	long=tank/images/$(printf 'x%.0s' $(seq 250))
	zfs_fails create -V 1M "$long"
	expect_line "cannot create '$long': name is too long" err
	zfs_fails create -V 1M tank
	expect_line "cannot create 'tank': missing dataset name" err
	# zfs itself allows spaces, ':' and a leading '-' in a component
	zfs create -V 1M 'tank/images/with space'
	zfs create -V 1M 'tank/images/-dash'
	zfs create -V 1M 'tank/images/a:b.c_d-e'
	expect_file_exists "$(dev 'tank/images/with space')"
}
test_case 'create: invalid names rejected with zfs_namecheck wording' t_create_names

t_create_fs() {
	zfs create tank/a
	zfs create -p tank/b/c/d
	expect_eq $'tank/b\ntank/b/c\ntank/b/c/d' "$(zfs list -H -o name -r tank/b)" "-p parents"
	expect_eq $'filesystem\t/tank/b/c/d' "$(zfs list -H -o type,mountpoint tank/b/c/d)" "fs"
	run zfs create -p tank/b/c/d
	expect_exit 0
	zfs create -o mountpoint=/srv tank/m
	zfs create tank/m/n
	expect_eq $'/srv/n\tinherited from tank/m' "$(zfs get -H -o value,source mountpoint tank/m/n)" \
		"inherited mountpoint"
}
test_case 'create: filesystems, -p, mountpoint inheritance' t_create_fs

t_create_usage() {
	run zfs create
	expect_exit 2
	expect_line 'missing filesystem argument' err
	expect_line 'usage:' err
	expect_match 'create \[-Pnpsv\] \[-b blocksize\] \[-o property=value\] \.\.\. -V <size> <volume>' err
	expect_empty out
	run zfs create -V
	expect_exit 2
	expect_first_line '^missing size argument$' err
	run zfs create -Q tank/x
	expect_exit 2
	expect_first_line "^invalid option 'Q'$" err
	run zfs create -b 8K tank/x
	expect_exit 2
	expect_first_line "^'-s' and '-b' can only be used when creating a volume$" err
	run zfs create -V 1M tank/x tank/y
	expect_exit 2
	expect_first_line '^too many arguments$' err
	# GNU getopt permutes: options may follow the operand
	run zfs create tank/images/late -V 1M
	expect_exit 0
	expect_eq volume "$(zfs get -H -o value type tank/images/late)" "type"
}
test_case 'create: usage errors exit 2 with the usage on stderr' t_create_usage

# --- zfs snapshot ----------------------------------------------------------

t_snapshot() {
	zfs create -s -V 64M tank/images/v
	printf 'before' | dd of="$(dev tank/images/v)" bs=1 seek=1048576 conv=notrunc status=none
	zfs snapshot tank/images/v@base
	printf 'after!' | dd of="$(dev tank/images/v)" bs=1 seek=1048576 conv=notrunc status=none
	expect_eq $'tank/images/v@base\tsnapshot\t67108864\t-' \
		"$(zfs list -H -p -o name,type,volsize,origin -t snapshot tank/images/v)" "snapshot"
	zfs clone tank/images/v@base tank/images/c
	expect_eq before "$(dd if="$(dev tank/images/c)" bs=1 skip=1048576 count=6 status=none)" \
		"clone content = content at snapshot time"
	expect_eq 67108864 "$(stat -c %s "$(dev tank/images/c)")" "clone size"
	# sparse: the 64 MiB volume with 6 bytes of data takes a few KiB
	expect_eq 1 "$(test "$(du -k "$(dev tank/images/c)" | cut -f1)" -lt 1024 && echo 1)" "sparse"
	zfs_fails snapshot tank/images/v@base
	expect_line "cannot create snapshot 'tank/images/v@base': dataset already exists" err
	zfs_fails snapshot tank/images/v@
	expect_line "cannot create snapshot 'tank/images/v@': empty component or misplaced '@' or '#' delimiter in name" err
	zfs_fails snapshot -o compression=off tank/images/v@x
	expect_line 'cannot create snapshots : this property can not be modified for snapshots' err
	zfs snapshot -o qvm:note=x tank/images/v@x
	expect_eq $'x\tlocal' "$(zfs get -H -o value,source qvm:note tank/images/v@x)" "snapshot user prop"
	# a missing dataset: zfs_open()'s error, then the usage (zfs_main.c)
	run zfs snapshot tank/images/nosuch@s
	expect_exit 2
	expect_first_line "^cannot open 'tank/images/nosuch': dataset does not exist$" err
	expect_line 'usage:' err
	run zfs snapshot tank/images/v
	expect_exit 2
	expect_first_line '^usage:$' err
	zfs snapshot -r tank@r
	expect_eq $'tank@r\ntank/images@r\ntank/images/c@r\ntank/images/v@r' \
		"$(zfs list -H -o name -t snapshot -r tank | grep '@r$')" "-r"
}
test_case 'snapshot: keeps the content (sparse), errors, -o, -r' t_snapshot

# --- zfs clone -------------------------------------------------------------

t_clone() {
	zfs create -s -V 1M tank/images/v
	zfs snapshot tank/images/v@base
	zfs_snapshot_state before
	zfs_fails clone tank/images/v@nosuch tank/images/c
	expect_line "cannot open 'tank/images/v@nosuch': dataset does not exist" err
	zfs_fails clone tank/images/v tank/images/c
	expect_line "cannot open 'tank/images/v': missing '@' delimiter in snapshot name" err
	zfs_fails clone -o volblocksize=8K tank/images/v@base tank/images/c
	expect_line "cannot create 'tank/images/c': 'volblocksize' is readonly" err
	zfs_fails clone -o volsize=1000 tank/images/v@base tank/images/c
	expect_line "cannot create 'tank/images/c': 'volsize' must be a multiple of volume block size (16K)" err
	zfs_fails clone -o volsize=0 tank/images/v@base tank/images/c
	expect_line "cannot create 'tank/images/c': 'volsize' cannot be zero" err
	zfs_fails clone tank/images/v@base tank/images/v
	expect_line "cannot create 'tank/images/v': dataset already exists" err
	zfs_fails clone tank/images/v@base tank/nosuch/c
	expect_line "cannot create 'tank/nosuch/c': parent does not exist" err
	zfs_fails clone tank/images/v@base tank/images/v/c
	expect_line "cannot create 'tank/images/v/c': parent is not a filesystem" err
	zfs_fails clone tank/images/v@base 'tank/images/c d*'
	expect_line "cannot create 'tank/images/c d*': invalid character '*' in name" err
	expect_state_unchanged before
	run zfs clone tank/images/v@base
	expect_exit 2
	expect_first_line '^missing target dataset argument$' err

	zfs clone -o volsize=4M -o qvm:vm=web1 tank/images/v@base tank/images/big
	zfs clone -o volsize=512K tank/images/v@base tank/images/small
	expect_eq 4194304 "$(stat -c %s "$(dev tank/images/big)")" "grown clone"
	expect_eq 524288 "$(stat -c %s "$(dev tank/images/small)")" "shrunk clone"
	expect_eq $'tank/images/big\tvolume\t4194304\ttank/images/v@base' \
		"$(zfs list -H -p -o name,type,volsize,origin tank/images/big)" "origin"
	expect_eq 'tank/images/big,tank/images/small' "$(zfs get -H -o value clones tank/images/v@base)" \
		"clones"
	expect_eq $'none\tdefault' "$(zfs get -H -o value,source refreservation tank/images/big)" \
		"a clone has no refreservation"
	zfs clone -p tank/images/v@base tank/vms/deep/c
	expect_eq filesystem "$(zfs get -H -o value type tank/vms/deep)" "-p parent"
}
test_case 'clone: refusals (volblocksize, volsize, target), volsize grows/shrinks, -p' t_clone

# --- zfs destroy -----------------------------------------------------------

t_destroy() {
	zfs create -s -V 1M tank/images/v
	zfs snapshot tank/images/v@base
	zfs snapshot tank/images/v@two
	zfs clone tank/images/v@base tank/images/c
	zfs_snapshot_state before
	zfs_fails destroy tank/images/v
	expect_eq "cannot destroy 'tank/images/v': volume has children
use '-r' to destroy the following datasets:
tank/images/v@base
tank/images/v@two" "$(cat err)" "destroy without -r"
	zfs_fails destroy -r tank/images/v
	expect_eq "cannot destroy 'tank/images/v': volume has dependent clones
use '-R' to destroy the following datasets:
tank/images/c" "$(cat err)" "destroy -r with a clone"
	zfs_fails destroy tank/images/v@base
	expect_eq "cannot destroy 'tank/images/v@base': snapshot has dependent clones
use '-R' to destroy the following datasets:
tank/images/c" "$(cat err)" "snapshot with a clone"
	zfs_fails destroy tank/images/nosuch
	expect_line "cannot open 'tank/images/nosuch': dataset does not exist" err
	zfs_fails destroy tank/images/v@nosuch
	expect_line 'could not find any snapshots to destroy; check snapshot names.' err
	zfs_fails destroy tank
	expect_line "cannot destroy 'tank': operation does not apply to pools" err
	expect_line "use 'zfs destroy -r tank' to destroy all datasets in the pool" err
	run zfs destroy -nv -R tank/images/v
	expect_exit 0
	expect_eq $'would destroy tank/images/c\nwould destroy tank/images/v@base\nwould destroy tank/images/v@two\nwould destroy tank/images/v' \
		"$(cat out)" "-nv"
	expect_state_unchanged before

	zfs destroy tank/images/v@two
	zfs destroy tank/images/c
	expect_file_absent "$(dev tank/images/c)"
	zfs destroy -r tank/images/v
	expect_file_absent "$(dev tank/images/v)"
	expect_eq tank/images "$(zfs list -H -o name -r -t all tank/images)" "all gone"
	expect_eq '' "$(ls "$ZFS_DOUBLE_STATE/snapdata")" "snapshot data removed"
	zfs create -V 1M tank/images/w
	zfs snapshot tank/images/w@s
	zfs clone tank/images/w@s tank/images/wc
	zfs destroy -R tank/images/w
	expect_eq tank/images "$(zfs list -H -o name -r -t all tank/images)" "-R"
	run zfs destroy
	expect_exit 2
	expect_first_line '^missing dataset argument$' err
}
test_case 'destroy: children need -r, clones need -R, missing names, device removed' t_destroy

# --- zfs list / get / set / inherit -----------------------------------------

t_list() {
	zfs create -s -V 1M tank/images/v
	zfs snapshot tank/images/v@base
	run zfs list
	expect_exit 0
	expect_first_line '^NAME +USED +AVAIL +REFER +MOUNTPOINT$' out
	expect_match '^tank/images/v +[0-9.]+[BKMG] +[0-9.]+[BKMG] +[0-9.]+[BKMG] +-$' out
	expect_no_match '@base' out
	run zfs list -H -o name,type -t all
	expect_eq $'tank\tfilesystem\ntank/images\tfilesystem\ntank/images/v\tvolume\ntank/images/v@base\tsnapshot' \
		"$(cat out)" "-H -t all"
	expect_eq $'tank/images/v@base' "$(zfs list -H -o name -t snapshot tank/images/v)" "-t snapshot DS"
	expect_eq $'tank\ntank/images' "$(zfs list -H -o name -d 1 tank)" "-d 1"
	expect_eq $'tank/images/v@base\t1048576' "$(zfs list -H -p -o name,volsize tank/images/v@base)" \
		"a snapshot by name"
	run zfs list -H -o name tank/nosuch tank/images
	expect_exit 1
	expect_eq tank/images "$(cat out)" "the existing one is listed"
	expect_line "cannot open 'tank/nosuch': dataset does not exist" err
	run zfs list -t volume tank
	expect_exit 1
	expect_line "cannot open 'tank': operation not applicable to datasets of this type" err
	run zfs list -o name,nosuch
	expect_exit 2
	expect_first_line "^bad property list: invalid property 'nosuch'$" err
	run zfs list -r tank/images/v -t filesystem
	expect_exit 1
	zfs destroy -r tank/images/v
	zpool create empty
	zfs destroy -r empty
	run zfs list -r -t volume empty
	expect_exit 0
	expect_empty out
	expect_line 'no datasets available' err
}
test_case 'list: columns, -H, -p, -o, -t, -r, -d, missing names' t_list

t_get_set() {
	zfs set compression=lz4 tank
	zfs set qvm:owner=me tank/images
	zfs create -s -V 1M tank/images/v
	zfs snapshot tank/images/v@base
	expect_eq $'tank/images/v\tcompression\tlz4\tinherited from tank' \
		"$(zfs get -H compression tank/images/v)" "inherited"
	expect_eq $'tank/images/v@base\tqvm:owner\tme\tinherited from tank/images' \
		"$(zfs get -H qvm:owner tank/images/v@base)" "inherited user property"
	expect_eq $'tank/images/v\tqvm:none\t-\t-' "$(zfs get -H qvm:none tank/images/v)" "unset"
	expect_eq $'tank\tvolsize\t-\t-' "$(zfs get -H volsize tank)" "n/a"
	run zfs get -H -o property all tank/images/v
	expect_line volsize out
	expect_line volblocksize out
	expect_line refreservation out
	expect_line qvm:owner out
	expect_no_match '^origin$' out
	expect_no_match '^mountpoint$' out
	expect_eq $'compression\tlz4\tlocal' "$(zfs get -H -s local -o property,value,source all tank)" "-s local"
	expect_eq '1048576' "$(zfs get -H -p -o value volsize tank/images/v)" "-p"
	run zfs get -H -o name,value type tank/nosuch tank
	expect_exit 1
	expect_eq $'tank\tfilesystem' "$(cat out)" "get goes on after a missing name"
	zfs_fails set volsize=1000 tank/images/v
	expect_line "cannot set property for 'tank/images/v': 'volsize' must be a multiple of volume block size (16K)" err
	zfs_fails set volblocksize=8K tank/images/v
	expect_line "cannot set property for 'tank/images/v': 'volblocksize' is readonly" err
	zfs_fails set compression=lz4 tank/images/v@base
	expect_line "cannot set property for 'tank/images/v@base': this property can not be modified for snapshots" err
	zfs set volsize=2M tank/images/v
	expect_eq 2097152 "$(stat -c %s "$(dev tank/images/v)")" "resized device"
	zfs inherit compression tank
	expect_eq $'on\tdefault' "$(zfs get -H -o value,source compression tank/images/v)" "inherit"
	run zfs inherit volsize tank/images/v
	expect_exit 1
	expect_line "'volsize' property cannot be inherited" err
}
test_case 'get/set/inherit: sources, user properties, refusals' t_get_set

# --- command line -----------------------------------------------------------

t_cli() {
	run zfs
	expect_exit 2
	expect_first_line '^missing command$' err
	expect_line 'usage: zfs command args ...' err
	run zfs frobnicate
	expect_exit 2
	expect_first_line "^unrecognized command 'frobnicate'$" err
	run zfs --help
	expect_exit 0
	expect_first_line '^usage: zfs command args ...$' out
	expect_empty err
	run zfs version
	expect_exit 0
	expect_first_line '^zfs-2' out
	(unset ZFS_DOUBLE_STATE; run zfs list; expect_exit 1
	 expect_first_line '^The ZFS modules are not loaded.$' err)
}
test_case 'command line: no command, unknown command, --help, version, no state' t_cli

t_log() {
	zfs_log_reset
	zfs create -V 1M -o 'qvm:source=/tmp/my image.raw' tank/images/v
	zfs list -H -o name "tank/images/v"
	run zfs create -x
	expect_eq "create -V 1M -o 'qvm:source=/tmp/my image.raw' tank/images/v
list -H -o name tank/images/v
create -x" "$(cat "$ZFS_DOUBLE_LOG")" "log"
}
test_case 'ZFS_DOUBLE_LOG: one shell-quoted line per invocation' t_log

# --- fault injection --------------------------------------------------------

t_fail() {
	zfs create -s -V 1M tank/images/v
	zfs snapshot tank/images/v@base
	zfs_snapshot_state before
	ZFS_DOUBLE_FAIL=create zfs_fails create -V 1M tank/images/x
	expect_line "cannot create 'tank/images/x': out of space" err
	ZFS_DOUBLE_FAIL=create zfs_fails create -V 1M tank/nosuch/x
	expect_line "cannot create 'tank/nosuch/x': parent does not exist" err
	ZFS_DOUBLE_FAIL=snapshot zfs_fails snapshot tank/images/v@two
	expect_line "cannot create snapshot 'tank/images/v@two': out of space" err
	ZFS_DOUBLE_FAIL=clone zfs_fails clone tank/images/v@base tank/images/c
	expect_line "cannot create 'tank/images/c': out of space" err
	ZFS_DOUBLE_FAIL=destroy zfs_fails destroy tank/images/v@base
	expect_line 'cannot destroy snapshot tank/images/v@base: dataset is busy' err
	ZFS_DOUBLE_FAIL=destroy zfs_fails destroy -r tank/images/v
	expect_line 'cannot destroy snapshot tank/images/v@base: dataset is busy' err
	ZFS_DOUBLE_FAIL=list zfs_fails list tank/images/v
	expect_line "cannot open 'tank/images/v': permission denied" err
	ZFS_DOUBLE_FAIL=get,set zfs_fails get volsize tank/images/v
	expect_line "cannot open 'tank/images/v': permission denied" err
	ZFS_DOUBLE_FAIL=set:io zfs_fails set qvm:x=1 tank/images/v
	expect_line "cannot set property for 'tank/images/v': I/O error" err
	ZFS_DOUBLE_FAIL=create:perm zfs_fails create -V 1M tank/images/x
	expect_line "cannot create 'tank/images/x': permission denied" err
	ZFS_DOUBLE_PERM_DENIED=1 zfs_fails create -V 1M tank/images/x
	expect_line "cannot create 'tank/images/x': permission denied" err
	ZFS_DOUBLE_PERM_DENIED=1 zfs_fails snapshot tank/images/v@p
	expect_line "cannot create snapshot 'tank/images/v@p': permission denied" err
	ZFS_DOUBLE_PERM_DENIED=1 zfs list tank/images/v >/dev/null
	expect_state_unchanged before
	zfs create -s -V 1M tank/images/plain
	ZFS_DOUBLE_FAIL=destroy zfs_fails destroy tank/images/plain
	expect_line "cannot destroy 'tank/images/plain': dataset is busy" err
	expect_file_exists "$(dev tank/images/plain)"
}
test_case 'ZFS_DOUBLE_FAIL and ZFS_DOUBLE_PERM_DENIED: wording, no state change' t_fail

t_fail_call() {
	zfs_calls_reset
	export ZFS_DOUBLE_FAIL_CALL=3
	zfs list >/dev/null
	zfs create -s -V 1M tank/images/a
	run zfs create -s -V 1M tank/images/b
	expect_exit 1
	expect_line "cannot create 'tank/images/b': out of space" err
	zfs create -s -V 1M tank/images/c
	expect_eq $'tank/images/a\ntank/images/c' "$(zfs list -H -o name -t volume)" "only call 3 failed"
	zfs_calls_reset
	ZFS_DOUBLE_FAIL_CALL=1:busy zfs_fails destroy tank/images/a
	expect_line "cannot destroy 'tank/images/a': dataset is busy" err
}
test_case 'ZFS_DOUBLE_FAIL_CALL: only the Nth invocation fails' t_fail_call

t_devices() {
	ZFS_DOUBLE_DEVICE=never zfs create -V 1M tank/images/never
	sleep 0.3
	expect_file_absent "$(dev tank/images/never)"
	ZFS_DOUBLE_DEVICE=unopenable zfs create -V 1M tank/images/unop
	expect_eq 1 "$(test -d "$(dev tank/images/unop)" && echo 1)" "a directory"
	run python3 -c 'import os,sys; os.open(sys.argv[1], os.O_WRONLY)' "$(dev tank/images/unop)"
	expect_exit 1
	expect_match 'IsADirectoryError' err
	# late: created by a detached process, which must not keep our pipe open
	start=$(date +%s%N)
	ZFS_DOUBLE_DEVICE=late:3 zfs create -V 1M tank/images/late | cat
	expect_eq 1 "$(( ($(date +%s%N) - start) < 2500000000 ))" "zfs returned at once"
	expect_file_absent "$(dev tank/images/late)"
	for _ in $(seq 80); do [ -e "$(dev tank/images/late)" ] && break; sleep 0.1; done
	expect_eq 1048576 "$(stat -c %s "$(dev tank/images/late)")" "late device"
	# a late device of a dataset destroyed in the meantime never appears
	ZFS_DOUBLE_DEVICE=late:0.5 zfs create -V 1M tank/images/gone
	zfs destroy tank/images/gone
	sleep 1
	expect_file_absent "$(dev tank/images/gone)"
	# destroy removes what ever is at the device path
	zfs destroy tank/images/unop
	zfs destroy tank/images/never
	expect_file_absent "$(dev tank/images/unop)"
	# a clone's late device has the snapshot's content
	printf 'seed' | dd of="$(dev tank/images/late)" conv=notrunc status=none
	zfs snapshot tank/images/late@s
	ZFS_DOUBLE_DEVICE=late:0.2 zfs clone tank/images/late@s tank/images/lc
	for _ in $(seq 40); do [ -e "$(dev tank/images/lc)" ] && break; sleep 0.1; done
	expect_eq seed "$(head -c 4 "$(dev tank/images/lc)")" "late clone content"
}
test_case 'ZFS_DOUBLE_DEVICE: never, unopenable, late (detached, checks it still exists)' t_devices

t_concurrency() {
	for i in $(seq 16); do
		zfs create -s -V 1M "tank/images/v$i" &
	done
	for i in $(seq 8); do
		(zfs create -s -V 1M tank/images/same 2>>race.err; echo $? >>race.rc) &
	done
	wait
	expect_eq 17 "$(zfs list -H -o name -t volume | wc -l)" "volumes"
	expect_eq 17 "$(find "$QVM_ZVOL_DIR" -type f | wc -l)" "devices"
	expect_eq 1 "$(grep -c '^0$' race.rc)" "exactly one create of the same name succeeded"
	expect_eq 7 "$(grep -c "^cannot create 'tank/images/same': dataset already exists$" race.err)" \
		"the others were refused"
	python3 -c 'import marshal,sys; marshal.load(open(sys.argv[1], "rb"))' "$ZFS_DOUBLE_STATE/state.marshal"
}
test_case 'concurrent invocations are serialized by flock' t_concurrency

test_done
