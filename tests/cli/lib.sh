# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Helpers for qvm's command-line tests (git t/ style). A test file sources
# this, defines an optional `setup` function (run at the start of every test
# case), and lists its cases:
#
#   . "$(dirname "$0")/lib.sh"
#   setup() { zfs_pool; }
#   test_case 'import refuses a missing image' '
#       run_qvm import nope tank/images/x
#       expect_exit 1
#       expect_match "^Error importing cloud image: cannot open image" err
#   '
#   test_done
#
# The body is a string evaluated, or the name of a function called, in a
# subshell with `set -eu`: the first failing command or expect_* fails the
# case. Every case runs in a fresh directory (its cwd, $TEST_DIR) with its
# own ZFS double state, zvol directory, qvm state directory and logs, so
# cases cannot see each other's pools. `skip "reason"` ends a case as skipped.
#
# Output, one line per case: "ok - DESC", "not ok - DESC" (followed by the
# case's log, each line prefixed with "# ") or "ok - DESC # SKIP reason".
# tests/cli/run numbers and counts these lines.

TEST_FILE=$(basename "$0" .sh)
TEST_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEST_REPO=$(cd "$TEST_LIB_DIR/../.." && pwd)
QVM=${QVM:-$TEST_REPO/build/qvm}
case $QVM in /*) ;; *) QVM=$PWD/$QVM ;; esac
export QVM

if [ -z "${TEST_ROOT:-}" ]; then
	TEST_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/qvm-$TEST_FILE.XXXXXX")
	_test_own_root=1
else
	_test_own_root=
fi
export TEST_ROOT

_test_n=0
_test_failed=0

# The environment every case starts from: nothing inherited can inject
# failures, and the doubles come first on PATH.
_test_env() {
	TEST_DIR=$1
	export TEST_DIR
	export LC_ALL=C
	export PATH="$TEST_REPO/tests/zfs-double:$TEST_REPO/tests/bin:$PATH"
	export ZFS_DOUBLE_STATE=$TEST_DIR/zfs-state
	export QVM_ZVOL_DIR=$TEST_DIR/zvol
	export QVM_STATE_DIR=$TEST_DIR/qvm-state
	export QVM_DEVICE_TIMEOUT=2
	# virt-install's option names, learnt once per test file
	export QVM_CACHE_DIR=$TEST_ROOT/qvm-cache
	export ZFS_DOUBLE_LOG=$TEST_DIR/zfs.log
	export VIRT_INSTALL_LOG=$TEST_DIR/virt-install.log
	export LIBVIRT_DEFAULT_URI=test:///default
	unset ZFS_DOUBLE_FAIL ZFS_DOUBLE_FAIL_CALL ZFS_DOUBLE_PERM_DENIED ZFS_DOUBLE_DEVICE
	unset VIRT_INSTALL_FAIL VIRT_INSTALL_REAL
	mkdir -p "$ZFS_DOUBLE_STATE" "$QVM_ZVOL_DIR"
}

# fault_shims: the fault-injecting zfs and virt-install (tests/faults/bin)
# first on PATH, passing each call on to the ZFS double and the
# virt-install recorder; a FAULT_DELAY'd call touches $TEST_DIR/started.
fault_shims() {
	export PATH="$TEST_REPO/tests/faults/bin:$PATH"
	export FAULT_NEXT_ZFS=$TEST_REPO/tests/zfs-double/zfs
	export FAULT_NEXT_VIRT_INSTALL=$TEST_REPO/tests/bin/virt-install
	export FAULT_MARK=$TEST_DIR/started
}

# at_exit COMMAND: run COMMAND (evaluated) when this shell exits - the test
# file, or the case that called it - last registered first. Helpers that
# start daemons (libvirtd.sh, hosts.sh) stop them this way. A case's
# subshell does not run the test file's hooks, only its own. INT, TERM and
# HUP end the shell through its exit hooks too.
_test_exit_hooks=()
_test_exit_owner=
at_exit() {
	local h
	if [ "$_test_exit_owner" != "$BASHPID" ]; then
		_test_exit_hooks=()
		_test_exit_owner=$BASHPID
		trap _test_run_exit_hooks EXIT
		trap 'exit 130' INT
		trap 'exit 143' TERM
		trap 'exit 129' HUP
	fi
	for h in "${_test_exit_hooks[@]}"; do
		[ "$h" != "$1" ] || return 0
	done
	_test_exit_hooks+=("$1")
}
_test_run_exit_hooks() {
	local i
	[ "$_test_exit_owner" = "$BASHPID" ] || return 0
	for ((i = ${#_test_exit_hooks[@]} - 1; i >= 0; i--)); do
		eval "${_test_exit_hooks[$i]}" || true
	done
	_test_exit_hooks=()
}

# test_case DESCRIPTION BODY|FUNCTION
test_case() {
	local desc=$1 body=$2 dir rc result
	_test_n=$((_test_n + 1))
	dir=$TEST_ROOT/$(printf '%03d' "$_test_n")
	mkdir -p "$dir"
	(
		_test_env "$dir"
		cd "$dir"
		set -eEu
		# shellcheck disable=SC2154
		trap '_test_rc=$?; case $BASH_COMMAND in return*) ;; *) echo "FAILED (status $_test_rc): $BASH_COMMAND" >&2 ;; esac' ERR
		if [ "$(type -t setup)" = function ]; then
			setup
		fi
		if [ "$(type -t "$body")" = function ]; then
			"$body"
		else
			eval "$body"
		fi
	) >"$dir/log" 2>&1 </dev/null
	rc=$?
	if [ -f "$dir/skip" ]; then
		result="ok - $desc # SKIP $(cat "$dir/skip")"
	elif [ "$rc" = 0 ]; then
		result="ok - $desc"
	else
		result="not ok - $desc"
		_test_failed=$((_test_failed + 1))
	fi
	echo "$result"
	if [ "$rc" != 0 ]; then
		echo "#   in $dir (exit status $rc)"
		sed 's/^/#   /' "$dir/log"
	fi
	return 0
}

# skip REASON: end the current case as skipped.
skip() {
	echo "$*" >"$TEST_DIR/skip"
	exit 0
}

# test_done: last line of every test file.
test_done() {
	if [ -n "$_test_own_root" ] && [ "$_test_failed" = 0 ]; then
		rm -rf "$TEST_ROOT"
	elif [ "$_test_failed" != 0 ] && [ -n "$_test_own_root" ]; then
		echo "# $TEST_FILE: $_test_failed failed; files kept in $TEST_ROOT"
	fi
	[ "$_test_failed" = 0 ]
	exit $?
}

# ---------------------------------------------------------------------------
# Running commands

# run CMD ARGS...: runs a command with stdout in ./out and stderr in ./err
# and its exit status in $status; never fails itself. A command still
# running after $TEST_TIMEOUT seconds (default 120) is stopped (status 124).
run() {
	status=0
	_run_timeout=${TEST_TIMEOUT:-120}
	timeout -k 5 "$_run_timeout" "$@" >"$TEST_DIR/out" 2>"$TEST_DIR/err" </dev/null ||
		status=$?
	return 0
}

# run_qvm ARGS...: run "$QVM" ARGS...
run_qvm() {
	run "$QVM" "$@"
}

# ---------------------------------------------------------------------------
# Expectations: each prints what it saw and returns 1 when it does not hold.

_show() {	# _show FILE: print a file for a failure message
	if [ -f "$1" ]; then
		echo "--- $1 ($(wc -c <"$1") bytes):"
		head -c 4000 "$1"
		echo "--- end of $1"
	else
		echo "--- $1: no such file"
	fi
}

_fail() {	# print only; the caller returns 1
	echo "expectation failed: $*" >&2
}

# expect_exit N: the last run's exit status is N.
expect_exit() {
	[ "$status" = "$1" ] && return 0
	case $status in 124|137) _fail "the command did not finish within ${_run_timeout:-120} s" ;; esac
	{ _fail "exit status $status, expected $1"; _show "$TEST_DIR/out"; _show "$TEST_DIR/err"; } >&2
	return 1
}

# expect_fails COMMAND...: the command fails (exits non-zero).
expect_fails() {
	"$@" || return 0
	_fail "succeeded, expected to fail: $*"
	return 1
}

# expect_eq EXPECTED ACTUAL [WHAT]
expect_eq() {
	[ "$1" = "$2" ] && return 0
	_fail "${3:-value}: expected '$1', got '$2'"
	return 1
}

# expect_match REGEX FILE: some line of FILE matches the extended regex.
expect_match() {
	grep -Eq -- "$1" "$2" && return 0
	{ _fail "no line of $2 matches /$1/"; _show "$2"; } >&2
	return 1
}

# expect_no_match REGEX FILE: no line of FILE matches.
expect_no_match() {
	! grep -Eq -- "$1" "$2" && return 0
	{ _fail "a line of $2 matches /$1/"; _show "$2"; } >&2
	return 1
}

# expect_contains STRING FILE: some line of FILE contains STRING (no regex).
expect_contains() {
	grep -Fq -- "$1" "$2" && return 0
	{ _fail "no line of $2 contains '$1'"; _show "$2"; } >&2
	return 1
}

# expect_line LINE FILE: FILE has this exact line.
expect_line() {
	grep -Fxq -- "$1" "$2" && return 0
	{ _fail "$2 has no line '$1'"; _show "$2"; } >&2
	return 1
}

# expect_first_line REGEX FILE: the first line of FILE matches.
expect_first_line() {
	head -n 1 "$2" | grep -Eq -- "$1" && return 0
	{ _fail "first line of $2 does not match /$1/"; _show "$2"; } >&2
	return 1
}

# expect_empty FILE
expect_empty() {
	[ ! -s "$1" ] && return 0
	{ _fail "$1 is not empty"; _show "$1"; } >&2
	return 1
}

# expect_nonempty FILE
expect_nonempty() {
	[ -s "$1" ] && return 0
	_fail "$1 is empty or missing"
	return 1
}

# expect_file_exists PATH / expect_file_absent PATH
expect_file_exists() {
	[ -e "$1" ] && return 0
	_fail "$1 does not exist"
	return 1
}
expect_file_absent() {
	[ ! -e "$1" ] && [ ! -L "$1" ] && return 0
	_fail "$1 exists"
	return 1
}

# expect_same FILE1 FILE2: byte-identical files (diff shown otherwise).
expect_same() {
	cmp -s "$1" "$2" && return 0
	{ _fail "$1 and $2 differ"; diff -u "$1" "$2" | head -60; } >&2
	return 1
}

# expect_lines_in_order FILE REGEX...: FILE has lines matching the regexes
# in this order (other lines may come between).
expect_lines_in_order() {
	local file=$1 line re
	shift
	local -a res=("$@")
	local i=0
	while IFS= read -r line; do
		[ "$i" -lt "${#res[@]}" ] || break
		re=${res[$i]}
		if printf '%s\n' "$line" | grep -Eq -- "$re"; then
			i=$((i + 1))
		fi
	done <"$file"
	[ "$i" = "${#res[@]}" ] && return 0
	{ _fail "$file: no line matching /${res[$i]}/ after the earlier ones"; _show "$file"; } >&2
	return 1
}

# ---------------------------------------------------------------------------
# ZFS double helpers

# zfs_pool [POOL]: a pool with a parent dataset POOL/images.
zfs_pool() {
	local pool=${1:-tank}
	zpool create "$pool"
	zfs create "$pool/images"
	zfs_log_reset
}

# zfs_log_reset: forget the zfs calls made so far.
zfs_log_reset() {
	: >"$ZFS_DOUBLE_LOG"
}

# zfs_calls_reset: restart the count used by ZFS_DOUBLE_FAIL_CALL.
zfs_calls_reset() {
	rm -f "$ZFS_DOUBLE_STATE/calls"
}

# zfs_mutations FILE: the modifying zfs calls of the log into FILE (qvm may
# also list and get; those are not asserted on).
zfs_mutations() {
	grep -E '^(create|destroy|snapshot|clone|set|inherit|rename|promote|rollback|receive|recv)( |$)' \
		"$ZFS_DOUBLE_LOG" >"$1" || true
}

# zfs_snapshot_state FILE: everything the ZFS double knows, for before/after
# comparisons ("nothing changed"): datasets, all their properties, and the
# device files.
zfs_snapshot_state() {
	{
		echo '# zfs list'
		zfs list -H -p -o name,type,volsize,origin -t all
		echo '# zfs get all'
		zfs get -H -o name,property,value all
		echo '# devices'
		(cd "$QVM_ZVOL_DIR" && find . -mindepth 1 -printf '%y %p %s\n' | sort)
	} >"$1" 2>&1
}

# expect_state_unchanged BEFORE: the state now equals the saved one.
expect_state_unchanged() {
	zfs_snapshot_state "$TEST_DIR/state.after"
	expect_same "$1" "$TEST_DIR/state.after"
}

# ---------------------------------------------------------------------------
# Images

# make_image PATH SIZE [SEED]: a raw image of SIZE bytes (K/M suffixes
# allowed) shaped like a cloud image: an MBR partition table, deterministic
# non-zero data regions, holes, a run of written zeros, and non-zero bytes
# in the last 512 bytes.
make_image() {
	python3 - "$1" "$2" "${3:-1}" <<'EOF'
import random, sys
path, size, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
mult = {'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30}
size = int(size[:-1]) * mult[size[-1]] if size[-1] in mult else int(size)
rng = random.Random(seed)
with open(path, 'wb') as f:
    f.truncate(size)
    def put(off, n):
        off = max(0, min(off, size))
        n = max(0, min(n, size - off))
        f.seek(off)
        f.write(bytes(rng.getrandbits(8) or 1 for _ in range(n)))
    put(0, 64 << 10)                          # a "partition table and boot"
    put(size // 3 + 4096 + 7, 100 << 10)      # data at an unaligned offset
    f.seek(min(size // 2, max(0, size - (64 << 10))))
    f.write(b'\0' * min(64 << 10, size))      # written zeros, not a hole
    put(size - 512, 512)                      # the end is data
EOF
	[ "$(stat -c %s "$1")" -lt 1024 ] || make_mbr "$1"
}

# make_mbr PATH: writes an MBR partition table (one partition) into the
# first sector of PATH, so that libblkid sees a disk whatever else it holds.
make_mbr() {
	python3 - "$1" <<'EOF'
import os, sys
path = sys.argv[1]
sectors = max(2, os.path.getsize(path) // 512)
with open(path, 'r+b') as f:
    f.seek(446)
    f.write(bytes([0, 0, 2, 0, 0x83, 0, 0, 0]) + (1).to_bytes(4, 'little') +
            (sectors - 1).to_bytes(4, 'little') + bytes(48) + b'\x55\xaa')
EOF
}

# serve DIR: starts the test server on a free port; $URL is its address.
serve() {
	rm -f "$TEST_DIR/port"
	python3 "$TEST_LIB_DIR/httpd.py" "$1" "$TEST_DIR/port" 2>"$TEST_DIR/httpd.log" &
	HTTPD_PID=$!
	at_exit "kill $HTTPD_PID 2>/dev/null; wait $HTTPD_PID 2>/dev/null"
	for _ in $(seq 100); do [ -s "$TEST_DIR/port" ] && break; sleep 0.05; done
	[ -s "$TEST_DIR/port" ] || { _fail "the test server did not start"; cat "$TEST_DIR/httpd.log"; return 1; }
	URL=http://127.0.0.1:$(cat "$TEST_DIR/port")
}
