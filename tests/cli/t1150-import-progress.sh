#!/bin/bash
# SPDX-License-Identifier: MIT
# qvm import's progress: a live line (percent, bytes, rate, time left)
# redrawn in place when stdout is a terminal (script(1) gives it one here),
# for writes, downloads and qemu-img conversions; plain step lines
# otherwise; nothing at all with -q.
. "$(dirname "$0")/lib.sh"

setup() {
	zfs_pool
	export TMPDIR=$TEST_DIR/tmp
	mkdir -p "$TMPDIR"
	make_image disk.raw 3M 7
	mkdir www
	cp disk.raw www/
	qemu-img convert -f raw -O qcow2 disk.raw www/disk.qcow2
}

# on_tty ARGS...: runs qvm ARGS... with stdout and stderr on a terminal
# of type $TTY_TERM (default xterm: the tests' own TERM may be anything);
# what it wrote is in ./tty, its exit status in $status
on_tty() {
	local cmd
	printf -v cmd '%q ' "$QVM" "$@"
	status=0
	TERM=${TTY_TERM-xterm} timeout -k 5 60 script -qefc "$cmd" /dev/null >"$TEST_DIR/tty" 2>&1 </dev/null ||
		status=$?
}

# frames NAME: the progress frames of the line that starts with NAME, one per
# line (each redraw is "\r", erase to the end of the line, the new text)
frames() {
	tr '\r' '\n' <"$TEST_DIR/tty" | sed -n "s/^\x1b\[K\($1.*\)/\1/p"
}

# percents NAME: the percentages its frames showed, in order
percents() {
	frames "$1" | sed -n 's/.*\.\.\. *\([0-9]*\)% .*/\1/p'
}

t_write_tty() {
	on_tty import disk.raw tank/images/a
	expect_eq 0 "$status" "exit status"
	frames 'Writing image disk.raw' >frames
	expect_nonempty frames
	# "LABEL...  NN% DONE of TOTAL, RATE/s, M:SS left"
	expect_match '^Writing image disk\.raw to .*\.\.\. +100% 3\.0 MiB of 3\.0 MiB, [0-9.]+ [KMG]?i?B/s, 0:00 left$' frames
	# the line ends with the step's result, as without a terminal
	expect_match 'wrote [0-9.]+ [KM]iB of data in [0-9.]+ s' tty
	expect_match '^Imported disk\.raw as tank/images/a@base' tty
	cmp -n "$(stat -c %s disk.raw)" disk.raw "$QVM_ZVOL_DIR/tank/images/a" ||
		{ _fail "device differs"; return 1; }
}
test_case 'a terminal: the write step draws percent, bytes, rate and time left in place' t_write_tty

t_download_tty() {
	serve www
	# 3 MiB at 1.6 MiB/s: about two seconds, a redraw every quarter second
	on_tty import "$URL/throttle/disk.raw" tank/images/b
	expect_eq 0 "$status" "exit status"
	percents 'Writing image' >pct
	expect_eq 1 "$(test "$(wc -l <pct)" -ge 4 && echo 1)" "at least 4 redraws (saw: $(tr '\n' ' ' <pct))"
	expect_eq 100 "$(tail -1 pct)" "the last frame"
	expect_eq "$(sort -n pct | tr '\n' ' ')" "$(tr '\n' ' ' <pct)" "percentages only grow"
	expect_eq 1 "$(test "$(head -1 pct)" -lt 100 && echo 1)" "the first frame is not the end"
	# while it runs: a rate and how long is left
	frames 'Writing image' | sed -n 2p >mid
	expect_match ' of 3\.0 MiB, [0-9.]+ [KM]iB/s, [0-9]+:[0-9][0-9] left$' mid
	expect_eq "" "$(ls -A "$TMPDIR")" "files left in TMPDIR"
}
test_case 'a terminal: a download redraws its progress as the bytes arrive' t_download_tty

t_qcow2_tty() {
	serve www
	# the download into a temporary file has its own line, then qemu-img's
	on_tty import "$URL/throttle/disk.qcow2" tank/images/c
	expect_eq 0 "$status" "exit status"
	percents 'Downloading' >pct
	expect_eq 1 "$(test "$(wc -l <pct)" -ge 2 && echo 1)" "download redraws (saw: $(tr '\n' ' ' <pct))"
	expect_eq 100 "$(tail -1 pct)" "the download's last frame"
	# qemu-img convert -p draws "(NN.NN/100%)"
	expect_match '\(100\.00/100%\)' tty
	expect_match '^Converted in [0-9.]+ s' tty
	cmp -n "$(stat -c %s disk.raw)" disk.raw "$QVM_ZVOL_DIR/tank/images/c" ||
		{ _fail "device differs"; return 1; }
}
test_case 'a terminal: a qcow2 download and its conversion both show progress' t_qcow2_tty

t_not_tty() {
	serve www
	run_qvm import "$URL/throttle/disk.raw" tank/images/d
	expect_exit 0
	expect_eq 0 "$(tr -cd '\r\033' <out | wc -c)" "carriage returns or escapes in piped output"
	expect_lines_in_order out \
		'^Checking image .*' \
		'^Creating zvol tank/images/d .*done$' \
		'^Writing image .*\.\.\. wrote [0-9.]+ [KM]iB of data in [0-9.]+ s$' \
		'^Imported .* as tank/images/d@base$'
}
test_case 'not a terminal: one plain line per step, no redraws' t_not_tty

t_dumb_tty() {
	serve www
	# a terminal that cannot erase a line (Emacs' shell): steps as on a pipe
	TTY_TERM=dumb on_tty import "$URL/throttle/disk.raw" tank/images/d
	expect_eq 0 "$status" "exit status"
	expect_eq 0 "$(tr -cd '\033' <tty | wc -c)" "escapes with TERM=dumb"
	expect_match '^Writing image .*\.\.\. wrote [0-9.]+ [KM]iB of data in [0-9.]+ s.?$' tty
	TTY_TERM= on_tty import "$URL/throttle/disk.raw" tank/images/e
	expect_eq 0 "$status" "exit status"
	expect_eq 0 "$(tr -cd '\033' <tty | wc -c)" "escapes with TERM empty"
}
test_case 'TERM=dumb on a terminal: no escape codes, no redraws' t_dumb_tty

t_quiet_tty() {
	serve www
	on_tty import -q "$URL/throttle/disk.raw" tank/images/e
	expect_eq 0 "$status" "exit status"
	expect_empty tty
	on_tty import -q "$URL/throttle/disk.raw" tank/images/e
	expect_eq 1 "$status" "exit status"
	expect_match '^Error importing cloud image: zvol tank/images/e already exists' tty
}
test_case '-q on a terminal: no progress, errors still shown' t_quiet_tty

test_done
