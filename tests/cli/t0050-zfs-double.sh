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

# --- zfs send / zfs receive ------------------------------------------------
# Two "hosts": the case's own state (A) and a second one (B) with its own
# zvol directory; zfs send on A piped into zfs receive on B.

on_b() {
	ZFS_DOUBLE_STATE=$TEST_DIR/b-state QVM_ZVOL_DIR=$TEST_DIR/b-zvol "$@"
}
bdev() { echo "$TEST_DIR/b-zvol/$1"; }
run_b() {
	run env ZFS_DOUBLE_STATE="$TEST_DIR/b-state" QVM_ZVOL_DIR="$TEST_DIR/b-zvol" "$@"
}

# xfer SENDARGS... -- RECVARGS...: zfs send (A) | zfs receive (B); the
# receive's status in $status, out and err; the send's in $send_status and
# send.err.
xfer() {
	local -a s=()
	while [ "$1" != -- ]; do s+=("$1"); shift; done
	shift
	status=0
	{ timeout 60 zfs send "${s[@]}" 2>"$TEST_DIR/send.err" && echo 0 >"$TEST_DIR/send.rc" ||
		echo $? >"$TEST_DIR/send.rc"; } |
		on_b timeout 60 zfs recv "$@" >"$TEST_DIR/out" 2>"$TEST_DIR/err" || status=$?
	send_status=$(cat "$TEST_DIR/send.rc")
}

# an image volume with data regions and holes, snapshotted as @base
image_volume() {
	zfs create -s -V 64M -b 8K -o qvm:kind=image tank/images/img
	printf 'first block' | dd of="$(dev tank/images/img)" conv=notrunc status=none
	head -c 3145728 /dev/urandom | dd of="$(dev tank/images/img)" bs=1M seek=20 conv=notrunc status=none
	head -c 12288 /dev/urandom | dd of="$(dev tank/images/img)" bs=4K seek=16380 conv=notrunc status=none
	zfs snapshot tank/images/img@base
	on_b zpool create tank
	on_b zfs create tank/images
	mkdir -p "$TEST_DIR/b-zvol"
}

allocated() { stat -c %b "$1"; }

t_send_recv() {
	image_volume
	# changes after the snapshot are not sent
	printf 'later' | dd of="$(dev tank/images/img)" bs=1M seek=40 conv=notrunc status=none
	xfer tank/images/img@base -- -v tank/images/img
	expect_exit 0
	expect_eq 0 "$send_status" "send status"
	expect_empty send.err
	expect_line 'receiving full stream of tank/images/img@base into tank/images/img@base' out
	expect_match '^received [0-9.]+M stream in [0-9]+ seconds \([0-9.]+[KMG]/sec\)$' out
	expect_eq $'tank/images/img\tvolume\t67108864\t8192\ntank/images/img@base\tsnapshot\t67108864\t-' \
		"$(on_b zfs list -H -p -t all -o name,type,volsize,volblocksize -r tank/images/img)" "received"
	expect_eq "$(zfs get -H -o value guid tank/images/img@base)" \
		"$(on_b zfs get -H -o value guid tank/images/img@base)" "the snapshot keeps its guid"
	# the device: the snapshot's data, its holes kept
	zfs clone tank/images/img@base tank/images/at-base
	expect_same "$(dev tank/images/at-base)" "$(bdev tank/images/img)"
	expect_eq "$(allocated "$(dev tank/images/at-base)")" "$(allocated "$(bdev tank/images/img)")" \
		"allocated blocks"
	expect_eq 67108864 "$(stat -c %s "$(bdev tank/images/img)")" "device size"
	# without -p, no properties: the mark stays behind
	expect_eq $'-\t-' "$(on_b zfs get -H -o value,source qvm:kind tank/images/img)" "no -p"
	# the estimate: -n sends nothing; -P implies -v's lines, on stdout
	run zfs send -nP tank/images/img@base
	expect_exit 0
	size=$(sed -n 's/^size\t//p' out)
	expect_eq $'full\ttank/images/img@base\t'"$size"$'\nsize\t'"$size" "$(cat out)" "-nP"
	zfs send tank/images/img@base >stream
	expect_eq "$size" "$(stat -c %s stream)" "the estimate is the stream's size"
	run zfs send -nv tank/images/img@base
	expect_eq $'full send of tank/images/img@base estimated size is 3.02M\ntotal estimated size is 3.02M' \
		"$(cat out)" "-nv"
	run zfs send -n tank/images/img@base
	expect_exit 0
	expect_empty out
	run zfs send --dryrun --parsable tank/images/img@base
	expect_line "size	$size" out
	# -w of an unencrypted volume is -Lec; -c and -L change nothing here
	zfs send -w tank/images/img@base 2>/dev/null | cmp -s - stream && false
	zfs send -Lec tank/images/img@base | cmp - <(zfs send -w tank/images/img@base)
	# a snapshot name as the destination, into another state from a file
	on_b zfs create tank/other
	on_b zfs recv tank/other/copy@mine <stream
	expect_eq tank/other/copy@mine "$(on_b zfs list -H -o name -t snapshot -r tank/other)" "named"
	expect_same "$(dev tank/images/at-base)" "$(bdev tank/other/copy)"
	# -e keeps the last component, -d all but the pool (creating parents)
	on_b zfs recv -e tank/other <stream
	on_b zfs recv -d tank/other <stream
	expect_eq $'tank/other/copy@mine\ntank/other/images/img@base\ntank/other/img@base' \
		"$(on_b zfs list -H -o name -t snapshot -r tank/other)" "-e and -d"
}
test_case 'send | recv: volume, snapshot with its guid, data and holes, -nP/-nv estimates, -e/-d' t_send_recv

t_send_recv_props() {
	image_volume
	zfs set compression=zstd qvm:sha256=abc tank/images/img
	zfs set qvm:note=snap tank/images/img@base
	zfs set qvm:inherited=yes tank/images
	xfer -p tank/images/img@base -- -o qvm:state=copying -x qvm:sha256 tank/images/img
	expect_exit 0
	on_b zfs get -H -o property,value,received,source \
		qvm:kind,qvm:sha256,qvm:state,qvm:inherited,compression,volsize tank/images/img >props
	expect_line $'qvm:kind\timage\timage\treceived' props
	expect_line $'qvm:sha256\t-\tabc\t-' props
	expect_line $'qvm:state\tcopying\t-\tlocal' props
	expect_line $'qvm:inherited\t-\t-\t-' props
	expect_line $'compression\tzstd\tzstd\treceived' props
	expect_line $'volsize\t64M\t-\tlocal' props
	expect_eq $'snap\treceived' "$(on_b zfs get -H -o value,source qvm:note tank/images/img@base)" \
		"snapshot property"
	# qvm reads its marks with -s local: the received ones are not
	expect_eq $'qvm:state\tcopying' \
		"$(on_b zfs get -H -s local -o property,value all tank/images/img | grep '^qvm:')" "-s local"
	# zfs inherit hides a received value, -S brings it back
	on_b zfs inherit qvm:kind tank/images/img
	expect_eq $'-\t-' "$(on_b zfs get -H -o value,source qvm:kind tank/images/img)" "inherit"
	on_b zfs inherit -S qvm:kind tank/images/img
	expect_eq $'image\treceived' "$(on_b zfs get -H -o value,source qvm:kind tank/images/img)" \
		"inherit -S"
	# the received properties go on with zfs send -p
	on_b zfs snapshot tank/images/img@again
	on_b zfs send -p tank/images/img@again | zfs recv tank/images/back
	expect_eq $'image\treceived' "$(zfs get -H -o value,source qvm:kind tank/images/back)" "again"
	expect_eq $'copying\treceived' "$(zfs get -H -o value,source qvm:state tank/images/back)" "again"
	# refusals of -o and -x: before the stream is read
	for bad in volsize=1G volblocksize=4K guid=1 version=5 nosuchprop=1; do
		xfer -p tank/images/img@base -- -o "$bad" tank/images/x
		expect_exit 1
		expect_line "cannot receive: invalid property '${bad%%=*}'" err
	done
	xfer tank/images/img@base -- -o atime=off tank/images/x
	expect_line "cannot receive new filesystem stream: property 'atime' does not apply to datasets of this type" err
	xfer tank/images/img@base -- -o compression=nope tank/images/x
	expect_exit 1
	expect_match "^cannot receive new filesystem stream: 'compression' must be one of 'on \| off" err
	xfer tank/images/img@base -- -x atime tank/images/x
	expect_exit 0
	expect_line "Warning: tank/images/x: property 'atime' does not apply to datasets of this type" err
	run_b zfs recv -o qvm:a=1 -o qvm:a=2 tank/images/y
	expect_exit 2
	expect_first_line "^property 'qvm:a' specified multiple times$" err
	expect_eq "" "$(on_b zfs list -H -o name tank/images/y 2>/dev/null)" "nothing received"
}
test_case 'send -p | recv -o/-x: received properties and their source, refusals' t_send_recv_props

t_send_recv_resume() {
	image_volume
	full=$(zfs send -nP tank/images/img@base | sed -n 's/^size\t//p')
	# the sender dies 1.5 MiB into the stream: with -s the partial state stays
	ZFS_DOUBLE_SEND_STOP_AFTER=1572864 xfer tank/images/img@base -- -s -o qvm:state=copying \
		tank/images/img
	expect_exit 1
	expect_eq 137 "$send_status" "the sender was killed"
	token=$(on_b zfs get -H -o value receive_resume_token tank/images/img)
	expect_match '^1-[0-9a-f]+-[0-9a-f]+-[0-9a-f]+$' <(echo "$token")
	expect_eq "cannot receive new filesystem stream: checksum mismatch or incomplete stream.
Partially received snapshot is saved.
A resuming stream can be generated on the sending system by running:
    zfs send -t $token" "$(cat err)" "message"
	# the partial dataset is listed, has no snapshot and no device
	expect_eq $'tank/images/img\tvolume' "$(on_b zfs list -H -t all -o name,type -r tank/images/img)" \
		"partial"
	expect_file_absent "$(bdev tank/images/img)"
	expect_eq $'copying\tlocal' "$(on_b zfs get -H -o value,source qvm:state tank/images/img)" \
		"-o applies to the partial state"
	# what is left to send
	run zfs send -nvP -t "$token"
	expect_exit 0
	expect_first_line '^resume token contents:$' out
	expect_line $'\ttoname = tank/images/img@base' out
	rest=$(sed -n 's/^size\t//p' out)
	expect_line $'full\ttank/images/img@base\t'"$rest" out
	expect_eq 1 "$(( rest < full - 1048576 && rest > 0 ))" "the rest ($rest of $full)"
	# a full stream does not replace the partial state, not even with -F
	xfer tank/images/img@base -- -s tank/images/img
	expect_line "cannot receive new filesystem stream: destination 'tank/images/img' exists" err
	xfer tank/images/img@base -- -s -F tank/images/img
	expect_exit 1
	expect_line 'cannot receive new filesystem stream: destination tank/images/img contains partially-complete state from "zfs receive -s".' err
	# interrupted again while resuming: further on
	ZFS_DOUBLE_SEND_STOP_AFTER=1572864 xfer -t "$token" -- -s tank/images/img
	expect_exit 1
	expect_eq 137 "$send_status" "the sender was killed again"
	token2=$(on_b zfs get -H -o value receive_resume_token tank/images/img)
	[ "$token2" != "$token" ]
	rest2=$(zfs send -nP -t "$token2" | sed -n 's/^size\t//p')
	expect_eq 1 "$(( rest2 < rest ))" "progress kept"
	# the resuming stream completes it
	xfer -t "$token2" -- -s -v tank/images/img
	expect_exit 0
	expect_eq 0 "$send_status" "send -t"
	expect_eq $'tank/images/img\ntank/images/img@base' \
		"$(on_b zfs list -H -t all -o name -r tank/images/img)" "complete"
	zfs clone tank/images/img@base tank/images/at-base
	expect_same "$(dev tank/images/at-base)" "$(bdev tank/images/img)"
	expect_eq "$(allocated "$(dev tank/images/at-base)")" "$(allocated "$(bdev tank/images/img)")" \
		"allocated blocks"
	expect_eq '-' "$(on_b zfs get -H -o value receive_resume_token tank/images/img)" "no token"
	expect_eq "" "$(ls "$TEST_DIR/b-state/recvdata")" "no partial data left"
	# an old token: that state is complete
	xfer -t "$token2" -- -s tank/images/img
	expect_exit 1
	expect_line 'cannot receive resume stream: kernel modules must be upgraded to receive this stream.' err
	xfer -t "$token2" -- tank/images/img
	expect_line 'cannot receive resume stream: invalid backup stream' err
	xfer -t "$token2" -- tank/images/nosuch
	expect_line "cannot receive resume stream: destination 'tank/images/nosuch' does not exist" err
}
test_case 'recv -s: interrupted send keeps a resume token; send -t resumes (twice) to identical data' t_send_recv_resume

t_encryption() {
	# a new encryption root needs a key format and its key material
	run zfs create -V 8M -o encryption=on tank/enc
	expect_exit 1
	expect_eq "cannot create 'tank/enc': Keyformat required for new encryption root." "$(cat err)" "no keyformat"
	run zfs create -V 8M -o keyformat=raw tank/enc
	expect_eq "cannot create 'tank/enc': Encryption must be turned on to set encryption properties." \
		"$(cat err)" "keyformat alone"
	printf 'short\n' >pass
	run zfs create -V 8M -o encryption=on -o keyformat=passphrase -o keylocation="file://$PWD/pass" tank/enc
	expect_eq "cannot create 'tank/enc': Passphrase too short (min 8)." "$(cat err)" "short passphrase"
	printf '0123456789abcdef0123456789abcde' >key
	run zfs create -o encryption=aes-128-ccm -o keyformat=raw -o keylocation="file://$PWD/key" tank/fs
	expect_eq "cannot create 'tank/fs': Raw key too short (expected 32)." "$(cat err)" "short raw key"
	expect_eq $'tank\ntank/images' "$(zfs list -H -o name -r tank)" "nothing made"
	# the passphrase from stdin (keylocation=prompt, not a terminal)
	printf 'a passphrase\n' | zfs create -V 8M -o encryption=on -o keyformat=passphrase tank/enc
	zfs get -H -o property,value,source encryption,keyformat,keylocation,pbkdf2iters tank/enc >props
	expect_eq $'encryption\taes-256-gcm\t-\nkeyformat\tpassphrase\t-\nkeylocation\tprompt\tlocal\npbkdf2iters\t350000\t-' \
		"$(cat props)" "an encryption root's properties"
	# children and clones share their parent's or origin's encryption
	printf '0123456789abcdef0123456789abcdef' >key
	zfs create -o encryption=aes-128-ccm -o keyformat=raw -o keylocation="file://$PWD/key" tank/fs
	zfs create -V 1M tank/fs/vol
	zfs snapshot tank/enc@base
	zfs clone tank/enc@base tank/clone
	zfs get -H -o name,value encryption tank/fs/vol tank/enc@base tank/clone tank >props
	expect_eq $'tank\toff\ntank/clone\taes-256-gcm\ntank/enc@base\taes-256-gcm\ntank/fs/vol\taes-128-ccm' \
		"$(cat props)" "inherited encryption"
	run zfs create -o encryption=off tank/fs/plain
	expect_eq "cannot create 'tank/fs/plain': Invalid encryption value. Dataset must be encrypted." \
		"$(cat err)" "unencrypted under an encrypted parent"
	# -w sends the blocks as they are: encrypted there too, rawok in the
	# token of an interrupted raw stream; without -w, decrypted
	head -c 2M /dev/urandom | dd of="$(dev tank/enc)" conv=notrunc status=none
	zfs snapshot tank/enc@data
	on_b zpool create tank
	mkdir -p "$TEST_DIR/b-zvol"
	ZFS_DOUBLE_SEND_STOP_AFTER=100K xfer -w tank/enc@data -- -s tank/raw
	expect_exit 1
	token=$(on_b zfs get -H -o value receive_resume_token tank/raw)
	run zfs send -nvP -t "$token"
	expect_line $'\trawok' out
	xfer -t "$token" -- -s tank/raw
	expect_exit 0
	on_b zfs get -H -o value encryption,keyformat,keylocation tank/raw >props
	expect_eq $'aes-256-gcm\npassphrase\nnone' "$(cat props)" "raw copy"
	expect_same "$(dev tank/enc)" "$(bdev tank/raw)"
	xfer tank/enc@data -- tank/plain
	expect_exit 0
	expect_eq off "$(on_b zfs get -H -o value encryption tank/plain)" "a decrypted copy"
	ZFS_DOUBLE_SEND_STOP_AFTER=100K xfer tank/enc@data -- -s tank/plain2
	run zfs send -nvP -t "$(on_b zfs get -H -o value receive_resume_token tank/plain2)"
	expect_no_match rawok out
	# -w with -t: the token decides
	run zfs send -nvP -w -t "$(on_b zfs get -H -o value receive_resume_token tank/plain2)"
	expect_no_match rawok out
}
test_case 'encryption: a new encryption root needs a key; children, snapshots and clones share it; send -w keeps it (rawok)' t_encryption

t_recv_abort() {
	image_volume
	# without -s the partial state is discarded
	ZFS_DOUBLE_SEND_STOP_AFTER=1572864 xfer tank/images/img@base -- tank/images/img
	expect_exit 1
	expect_eq 'cannot receive new filesystem stream: incomplete stream' "$(cat err)" "message"
	expect_eq "" "$(on_b zfs list -H -o name tank/images/img 2>/dev/null)" "discarded"
	expect_eq "" "$(ls "$TEST_DIR/b-state/recvdata")" "no partial data left"
	# zfs receive -A discards a saved one
	ZFS_DOUBLE_SEND_STOP_AFTER=1572864 xfer tank/images/img@base -- -s tank/images/img
	run_b zfs recv -A tank/images/img
	expect_exit 0
	expect_eq "" "$(on_b zfs list -H -o name tank/images/img 2>/dev/null)" "aborted"
	expect_eq "" "$(ls "$TEST_DIR/b-state/recvdata")" "no partial data left"
	run_b zfs recv -A tank/images/img
	expect_exit 2
	expect_first_line "^cannot open 'tank/images/img': dataset does not exist$" err
	xfer tank/images/img@base -- tank/images/img
	expect_exit 0
	run_b zfs recv -A tank/images/img
	expect_exit 1
	expect_eq "'tank/images/img' does not have any resumable receive state to abort" "$(cat err)" "-A"
	run_b zfs recv -A -s tank/images/img
	expect_exit 2
	expect_first_line '^invalid option$' err
	# -F over an existing volume without snapshots: the partial state is the
	# hidden tank/images/vol/%recv; the volume keeps its device meanwhile
	on_b zfs create -V 1M tank/images/vol
	printf 'old' | dd of="$(bdev tank/images/vol)" conv=notrunc status=none
	xfer tank/images/img@base -- -F tank/images/img
	expect_line 'cannot receive new filesystem stream: destination has snapshots (eg. tank/images/img@base)' err
	expect_line 'must destroy them to overwrite it' err
	ZFS_DOUBLE_SEND_STOP_AFTER=1572864 xfer tank/images/img@base -- -s -F tank/images/vol
	expect_exit 1
	expect_eq tank/images/vol "$(on_b zfs list -H -o name -r tank/images/vol)" "%recv is hidden"
	expect_eq old "$(head -c 3 "$(bdev tank/images/vol)")" "the device is untouched"
	token=$(on_b zfs get -H -o value receive_resume_token tank/images/vol)
	expect_match '^1-' <(echo "$token")
	run_b zfs recv -A tank/images/vol
	expect_exit 0
	expect_eq '-' "$(on_b zfs get -H -o value receive_resume_token tank/images/vol)" "aborted"
	expect_eq old "$(head -c 3 "$(bdev tank/images/vol)")" "still the old volume"
	# resumed, it replaces the volume
	ZFS_DOUBLE_SEND_STOP_AFTER=1572864 xfer tank/images/img@base -- -s -F tank/images/vol
	token=$(on_b zfs get -H -o value receive_resume_token tank/images/vol)
	xfer -t "$token" -- -s tank/images/vol
	expect_exit 0
	expect_eq $'tank/images/vol\t67108864\ntank/images/vol@base\t67108864' \
		"$(on_b zfs list -H -p -t all -o name,volsize -r tank/images/vol)" "replaced"
	expect_same "$(bdev tank/images/img)" "$(bdev tank/images/vol)"
}
test_case 'recv: without -s the partial is discarded; -A aborts; -F keeps it hidden in %recv' t_recv_abort

t_recv_errors() {
	image_volume
	xfer tank/images/img@base -- tank/images/img
	xfer tank/images/img@base -- tank/images/img
	expect_exit 1
	expect_eq "cannot receive new filesystem stream: destination 'tank/images/img' exists
must specify -F to overwrite it" "$(cat err)" "exists"
	xfer tank/images/img@base -- tank/nosuch/img
	expect_exit 1
	expect_eq "cannot open 'tank/nosuch': dataset does not exist
cannot receive new filesystem stream: unable to restore to destination" "$(cat err)" "no parent"
	on_b zfs create -V 1M tank/images/vol
	xfer tank/images/img@base -- tank/images/vol/img
	expect_line "cannot receive new filesystem stream: parent 'tank/images/vol' is not a filesystem" err
	xfer tank/images/img@base -- tank
	expect_line "cannot receive new filesystem stream: destination 'tank' exists" err
	xfer tank/images/img@base -- 'tank/images/bad name!'
	expect_line 'cannot receive: invalid name' err
	# not a stream
	head -c 4096 /dev/urandom >noise
	run_b zfs recv tank/images/n
	expect_exit 1
	expect_eq 'cannot receive: failed to read from stream' "$(cat err)" "empty"
	on_b zfs recv tank/images/n <noise 2>err && false
	expect_eq 'cannot receive: invalid stream (bad magic number)' "$(cat err)" "noise"
	# a stream damaged in the middle: the end record's checksum
	zfs send tank/images/img@base >stream
	python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[1000000] ^= 1; sys.stdout.buffer.write(b)' stream >damaged
	on_b zfs recv tank/images/d <damaged 2>err && false
	expect_eq 'cannot receive new filesystem stream: checksum mismatch' "$(cat err)" "damaged"
	expect_eq "" "$(on_b zfs list -H -o name tank/images/d 2>/dev/null)" "discarded"
	# terminals: zfs refuses them
	python3 - "$(dev tank/images/img)" <<-'EOF' >tty.out
	import os, pty, subprocess, sys
	m, s = pty.openpty()
	for argv, io in ((['zfs', 'send', 'tank/images/img@base'], 'stdout'),
	                 (['zfs', 'recv', 'tank/images/t'], 'stdin')):
	    p = subprocess.run(argv, stderr=subprocess.PIPE, **{io: s})
	    print(p.returncode, p.stderr.decode().replace('\n', '|'))
	EOF
	expect_eq "1 Error: Stream can not be written to a terminal.|You must redirect standard output.|
1 Error: Backup stream can not be read from a terminal.|You must redirect standard input.|" \
		"$(cat tty.out)" "terminals"
	# send
	run zfs send tank/images/img@nosuch
	expect_exit 1
	expect_eq "cannot open 'tank/images/img@nosuch': dataset does not exist" "$(cat err)" "no snap"
	run zfs send
	expect_exit 2
	expect_first_line '^missing snapshot argument$' err
	run zfs send -p -t 1-1-1-00
	expect_exit 2
	expect_first_line '^invalid flags combined with -t$' err
	run zfs send -t 1-1-1-00 tank/images/img@base
	expect_first_line '^too many arguments$' err
	good=$(ZFS_DOUBLE_SEND_STOP_AFTER=1572864 xfer tank/images/img@base -- -s tank/images/r;
		on_b zfs get -H -o value receive_resume_token tank/images/r)
	for t in 'nonsense:invalid format' '2-0-0-00:invalid version 2' \
		"${good%-*}-zz:payload is not hex-encoded" "${good%%-*}-1${good#*-}:incorrect checksum" \
		'1-0-11-:decompression failed'; do
		tok=${t%%:*}
		[ "$tok" != '1-0-11-' ] || tok=$(python3 -c 'import zlib; c = zlib.compress(b"x" * 16); print("1-%x-11-%s" % (zlib.crc32(c), c.hex()))')
		run zfs send -t "$tok"
		expect_exit 1
		expect_eq "cannot resume send: resume token is corrupt (${t#*:})" "$(cat err)" "token $tok"
	done
	tok=$(python3 -c 'import zlib; p = b"\x01\x00xs\x01\x00\x00\x00y"; c = zlib.compress(p); print("1-%x-%x-%s" % (zlib.crc32(c), len(p), c.hex()))')
	run zfs send -t "$tok"
	expect_eq 'cannot resume send: resume token is corrupt' "$(cat err)" "a token without its fields"
	tok=$(python3 -c 'import zlib; c = zlib.compress(b"junk"); print("1-%x-4-%s" % (zlib.crc32(c), c.hex()))')
	run zfs send -t "$tok"
	expect_eq 'cannot resume send: resume token is corrupt (nvlist_unpack failed)' "$(cat err)" "junk"
	# the snapshot of a token is gone, or is another one by now
	zfs destroy -r tank/images/img@base
	run zfs send -t "$good"
	expect_eq "cannot resume send: 'tank/images/img@base' used in the initial send no longer exists" \
		"$(cat err)" "gone"
	zfs snapshot tank/images/img@base
	run zfs send -t "$good"
	expect_eq "cannot resume send: 'tank/images/img@base' is no longer the same snapshot used in the initial send" \
		"$(cat err)" "replaced"
}
test_case 'send/recv errors: existing, parent, not a stream, damaged, terminals, tokens' t_recv_errors

t_recv_killed() {
	image_volume
	# zfs receive ended by a signal: the kernel keeps (-s) or discards the
	# partial state; zfs itself dies of the signal, silently
	for opt in -s ''; do
		ZFS_DOUBLE_SEND_RATE=1M zfs send tank/images/img@base 2>/dev/null |
			env ZFS_DOUBLE_STATE="$TEST_DIR/b-state" QVM_ZVOL_DIR="$TEST_DIR/b-zvol" \
				zfs recv $opt tank/images/img 2>err &
		pid=$!	# zfs itself: env and the script exec it
		sleep 1.5
		kill -TERM "$pid"
		status=0
		wait "$pid" || status=$?
		expect_eq 143 "$status" "killed by SIGTERM"
		expect_empty err
		if [ -n "$opt" ]; then
			token=$(on_b zfs get -H -o value receive_resume_token tank/images/img)
			expect_match '^1-' <(echo "$token")
			xfer -t "$token" -- -s tank/images/img
			expect_exit 0
			zfs clone tank/images/img@base tank/images/at-base
			expect_same "$(dev tank/images/at-base)" "$(bdev tank/images/img)"
			on_b zfs destroy -r tank/images/img
		else
			expect_eq "" "$(on_b zfs list -H -o name tank/images/img 2>/dev/null)" "discarded"
		fi
	done
}
test_case 'recv ended by a signal: partial state kept with -s (resumable), else discarded' t_recv_killed

t_send_recv_same_state() {
	image_volume
	# one state for both sides: neither holds the lock while the data flows
	timeout 30 zfs send -p tank/images/img@base | timeout 30 zfs recv tank/images/copy
	expect_eq $'image\treceived' "$(zfs get -H -o value,source qvm:kind tank/images/copy)" "copy"
	zfs clone tank/images/img@base tank/images/at-base
	expect_same "$(dev tank/images/at-base)" "$(dev tank/images/copy)"
	# a slow sender does not block other zfs calls of the state
	ZFS_DOUBLE_SEND_RATE=1M timeout 30 zfs send -vP tank/images/img@base 2>progress |
		timeout 30 zfs recv tank/images/slow &
	sleep 1
	start=$(date +%s%N)
	zfs list -H -o name tank/images/slow >/dev/null
	zfs create -V 1M tank/images/meanwhile
	expect_eq 1 "$(( ($(date +%s%N) - start) < 1000000000 ))" "not blocked"
	wait
	expect_same "$(dev tank/images/at-base)" "$(dev tank/images/slow)"
	# -vP: the estimate, then a progress line a second: time, bytes, snapshot
	expect_first_line $'^full\ttank/images/img@base\t[0-9]+$' progress
	expect_line "size	$(zfs send -nP tank/images/img@base | sed -n 's/^size\t//p')" progress
	expect_match $'^[0-9]{2}:[0-9]{2}:[0-9]{2}\t[0-9]+\ttank/images/img@base$' progress
}
test_case 'send | recv on one state: no deadlock, -vP progress lines, other calls not blocked' t_send_recv_same_state

t_send_recv_sparse() {
	zfs create -s -V 4G tank/images/big
	head -c 1048576 /dev/urandom | dd of="$(dev tank/images/big)" bs=1M seek=4000 conv=notrunc status=none
	printf 'end' | dd of="$(dev tank/images/big)" bs=1 seek=$((4 * 1024 * 1024 * 1024 - 3)) conv=notrunc status=none
	zfs snapshot tank/images/big@base
	on_b zpool create tank
	zfs send tank/images/big@base >stream
	expect_eq 1 "$(( $(stat -c %s stream) < 1200000 ))" "only the data is sent"
	start=$(date +%s)
	on_b zfs recv tank/big <stream
	expect_eq 1 "$(( $(date +%s) - start < 10 ))" "fast"
	expect_eq 1 "$(( $(du -k "$(bdev tank/big)" | cut -f1) < 2048 ))" "sparse"
	expect_eq 4294967296 "$(stat -c %s "$(bdev tank/big)")" "size"
	expect_eq end "$(tail -c 3 "$(bdev tank/big)")" "last bytes"
	cmp "$(bdev tank/big)" "$(dev tank/images/big)"
}
test_case 'send | recv of a 4 GiB sparse volume sends and writes only its data' t_send_recv_sparse

t_send_recv_fail() {
	image_volume
	on_b zfs_snapshot_state before
	ZFS_DOUBLE_FAIL=recv xfer tank/images/img@base -- tank/images/img
	expect_exit 1
	expect_eq 'cannot receive new filesystem stream: out of space' "$(cat err)" "recv"
	on_b expect_state_unchanged before
	ZFS_DOUBLE_FAIL=send xfer tank/images/img@base -- tank/images/img
	expect_eq 1 "$send_status" "send"
	expect_eq "warning: cannot send 'tank/images/img@base': Input/output error" "$(cat send.err)" "io"
	expect_eq 'cannot receive: failed to read from stream' "$(cat err)" "recv of nothing"
	ZFS_DOUBLE_FAIL=send:perm xfer tank/images/img@base -- tank/images/img
	expect_eq "warning: cannot send 'tank/images/img@base': permission denied" "$(cat send.err)" "perm"
	ZFS_DOUBLE_PERM_DENIED=1 xfer tank/images/img@base -- tank/images/img
	expect_eq 'cannot receive new filesystem stream: permission denied' "$(cat err)" "perm denied"
	on_b expect_state_unchanged before
	# zfs receive -n reads the stream and changes nothing
	xfer tank/images/img@base -- -nv tank/images/img
	expect_exit 0
	expect_eq 'would receive full stream of tank/images/img@base into tank/images/img@base' \
		"$(cat out)" "-n"
	on_b expect_state_unchanged before
}
test_case 'send/recv failure injection (ZFS_DOUBLE_FAIL=send|recv, PERM_DENIED), recv -n' t_send_recv_fail

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
