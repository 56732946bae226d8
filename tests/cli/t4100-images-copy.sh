#!/bin/bash
# SPDX-License-Identifier: MIT
# qvm images copy IMAGE [USER@]HOST[:DATASET]: an image of this host sent
# with zfs send into zfs recv -s on a test host (hosts.sh: real ssh, the
# ZFS double's send and receive), its marks kept, its data the same;
# progress on a terminal; an interrupted copy resumed from the host's
# receive_resume_token; every refusal before anything changes.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=hosts.sh
. "$(dirname "$0")/hosts.sh"
# shellcheck source=vmlib.sh
. "$(dirname "$0")/vmlib.sh"

hosts_for_cases A B

# Every case: empty hosts with a pool each (tank, tank/images), and here
# image tank/images/deb imported from an 8 MiB raw disk holding 4 MiB of
# random data, with an osinfo name and a user.
setup() {
	hosts_reset
	zfs_pool
	make_image disk.raw 8M 5
	head -c 4M /dev/urandom | dd of=disk.raw bs=1M seek=2 conv=notrunc status=none
	run_qvm import -q --osinfo linux2022 --user debian --sha256 "$(sha256sum <disk.raw | cut -d' ' -f1)" \
		disk.raw tank/images/deb
	expect_exit 0
	on_host A zfs_pool
	on_host B zfs_pool
}

# host_state N FILE: what host N's ZFS double knows (zfs_snapshot_state there).
host_state() {
	on_host "$1" zfs_snapshot_state "$2"
}

# marks N DATASET: its qvm:* properties set on it, "PROP=VALUE" sorted.
marks_of() {
	on_host "$1" zfs get -H -s local,received -o property,value all "$2" | grep '^qvm:' |
		grep -v '^qvm:run' | tr '\t' = | sort
}

t_copy() {
	need_hosts
	run_qvm images copy tank/images/deb A
	expect_exit 0
	expect_empty err
	expect_match '^Copying tank/images/deb to A:tank/images/deb\.\.\. [0-9.]+ [KM]iB in [0-9.]+ s$' out
	expect_match '^Copied tank/images/deb to A as tank/images/deb$' out
	# the volume and its @base there, the data the same, byte for byte
	on_host A zfs list -H -o name,type -t all -r tank/images >list
	expect_line "tank/images/deb	volume" list
	expect_line "tank/images/deb@base	snapshot" list
	cmp "$QVM_ZVOL_DIR/tank/images/deb" "$HOST_A_ZVOL_DIR/tank/images/deb" ||
		{ _fail "the copy's data differs"; return 1; }
	expect_eq 8388608 "$(stat -c %s "$HOST_A_ZVOL_DIR/tank/images/deb")" "device size"
	# qvm's marks: the same as here, ready
	marks_of A tank/images/deb >there
	zfs get -H -s local -o property,value all tank/images/deb | grep '^qvm:' | grep -v '^qvm:run' |
		tr '\t' = | sort >here
	expect_same here there
	expect_line qvm:state=ready there
	expect_line qvm:osinfo=linux2022 there
	expect_line qvm:user=debian there
	expect_line qvm:kind=image there
	# qvm images on A lists it
	run_qvm images --host A
	expect_exit 0
	expect_match '^tank/images/deb +8\.0 MiB .* linux2022 +debian ' out
	# and B has nothing
	on_host B zfs list -H -o name -t volume >b
	expect_empty b
}
test_case 'copy: IMAGE@base on the host, its data and qvm marks the same, listed by qvm images --host' t_copy

t_vm_hint() {
	need_hosts
	BASE=tank/images/deb vm_file web.yaml web "$HOST_A_URI"
	on_host A zfs_snapshot_state "$TEST_DIR/a.before"
	run_qvm vm --host A web.yaml
	expect_exit 1
	expect_match 'base snapshot tank/images/deb@base does not exist on A; image tank/images/deb is on this host: copy it with: qvm images copy tank/images/deb A' err
	on_host A zfs_snapshot_state "$TEST_DIR/a.after"
	expect_same "$TEST_DIR/a.before" "$TEST_DIR/a.after"
	# copied, the same file makes the VM there: a clone of the copy
	run_qvm images copy -q tank/images/deb A
	expect_exit 0
	run_qvm vm --host A web.yaml
	expect_exit 0
	on_host A zfs get -H -o value origin tank/images/web >origin
	expect_eq tank/images/deb@base "$(cat origin)" "the VM's clone on A"
	run_qvm list --host A
	expect_match '^web ' out
}
test_case 'qvm vm --host of a base that is only here says how to copy it; copied, it is cloned there' t_vm_hint

t_dataset() {
	need_hosts
	# HOST:DATASET, with a user, a name with a colon (the dataset's)
	on_host B zfs create tank/other
	run_qvm images copy tank/images/deb 'root@B:tank/other/deb:2'
	expect_exit 0
	expect_match '^Copied tank/images/deb to root@B as tank/other/deb:2$' out
	on_host B zfs list -H -o name -t volume >vols
	expect_eq 'tank/other/deb:2' "$(cat vols)" "B's volumes"
	cmp "$QVM_ZVOL_DIR/tank/images/deb" "$HOST_B_ZVOL_DIR/tank/other/deb:2" ||
		{ _fail "the copy's data differs"; return 1; }
	# the zfs calls there: one receive, resumable, unmounted, with the marks
	expect_match "^recv -s -u -o qvm:kind=image -o qvm:source=$TEST_DIR/disk\.raw -o qvm:sha256=[0-9a-f]{64} -o qvm:osinfo=linux2022 -o qvm:user=debian -o qvm:state=creating -o qvm:run=[^ ]+ tank/other/deb:2\$" \
		"$HOST_B_ZFS_LOG"
	# here: send -L -e -c, estimated first with -n -P
	expect_lines_in_order "$ZFS_DOUBLE_LOG" '^send -L -e -c -n -P tank/images/deb@base$' \
		'^send -L -e -c tank/images/deb@base$'
}
test_case 'copy to USER@HOST:DATASET: the name there taken whole, send -L -e -c, recv -s -u -o marks' t_dataset

# on_tty ARGS...: qvm ARGS on a terminal (script(1)); output in ./tty
on_tty() {
	local cmd
	printf -v cmd '%q ' "$QVM" "$@"
	status=0
	TERM=xterm timeout -k 5 60 script -qefc "$cmd" /dev/null >"$TEST_DIR/tty" 2>&1 </dev/null || status=$?
}

t_progress() {
	need_hosts
	# about 4 MiB at 2 MiB/s: two seconds, a redraw every quarter second
	ZFS_DOUBLE_SEND_RATE=2M on_tty images copy tank/images/deb A
	expect_eq 0 "$status" "exit status"
	tr '\r' '\n' <tty | sed -n 's/^\x1b\[K\(Copying .*\)/\1/p' >frames
	expect_nonempty frames
	expect_match '^Copying tank/images/deb to A:tank/images/deb\.\.\. +[0-9]+% [0-9.]+ [KM]iB of [0-9.]+ [KM]iB, [0-9.]+ [KM]?i?B/s, 0:0[0-9] left$' frames
	[ "$(wc -l <frames)" -ge 3 ] || { _fail "fewer than 3 frames"; cat frames; return 1; }
	expect_match '100% ' frames
	expect_match 'Copied tank/images/deb to A as tank/images/deb' tty
	# -q: nothing on a terminal either
	on_host A zfs destroy -r tank/images/deb
	on_tty images copy -q tank/images/deb A
	expect_eq 0 "$status" "exit status"
	expect_empty tty
}
test_case 'progress on a terminal: percent, bytes, rate and time left; -q: nothing' t_progress

t_resume() {
	need_hosts
	# the send dies after 1 MiB: the host keeps what it received
	ZFS_DOUBLE_SEND_STOP_AFTER=1M run_qvm images copy tank/images/deb A
	expect_exit 1
	expect_first_line '^Error copying image: cannot copy tank/images/deb@base to A: .*; interrupted: run the same command again to resume, or `zfs recv -A tank/images/deb` on A to discard it$' err
	on_host A zfs get -H -o value receive_resume_token tank/images/deb >token
	expect_match '^1-[0-9a-f]+-[0-9a-f]+-[0-9a-f]+$' token
	# not an image of A's yet
	run_qvm images --host A --json
	expect_exit 0
	json_check out 'all(i["state"] != "ready" for i in d)'
	# again: resumed where it stopped, not from the start
	zfs_log_reset
	run_qvm images copy tank/images/deb A
	expect_exit 0
	expect_first_line '^Resuming copy of tank/images/deb to A at [1-9][0-9.]* [KM]iB of 4\.[0-9] MiB$' out
	expect_match '^Copying tank/images/deb to A:tank/images/deb \(resumed\)\.\.\. [0-9.]+ [KM]iB in ' out
	expect_match "^send -n -P -t $(cat token)\$" "$ZFS_DOUBLE_LOG"
	expect_match "^send -t $(cat token)\$" "$ZFS_DOUBLE_LOG"
	cmp "$QVM_ZVOL_DIR/tank/images/deb" "$HOST_A_ZVOL_DIR/tank/images/deb" ||
		{ _fail "the resumed copy's data differs"; return 1; }
	on_host A zfs get -H -o value receive_resume_token tank/images/deb >token
	expect_eq - "$(cat token)" "token after the resumed copy"
	marks_of A tank/images/deb >there
	expect_line qvm:state=ready there
	expect_line qvm:user=debian there
	run_qvm images --host A
	expect_match '^tank/images/deb +8\.0 MiB ' out
}
test_case 'resume: a copy cut off after 1 MiB goes on from there when run again' t_resume

t_discard() {
	need_hosts
	ZFS_DOUBLE_SEND_STOP_AFTER=100K run_qvm images copy tank/images/deb A
	expect_exit 1
	# what the message says to discard it, then a fresh copy
	host_ssh A zfs recv -A tank/images/deb
	on_host A zfs list -H -o name -t volume >vols
	expect_empty vols
	run_qvm images copy tank/images/deb A
	expect_exit 0
	expect_no_match Resuming out
	cmp "$QVM_ZVOL_DIR/tank/images/deb" "$HOST_A_ZVOL_DIR/tank/images/deb"
}
test_case 'discard: after zfs recv -A on the host the copy starts over' t_discard

t_resume_other() {
	need_hosts
	# an interrupted copy of deb where another image is to go
	make_image other.raw 2M 9
	run_qvm import -q other.raw tank/images/other
	ZFS_DOUBLE_SEND_STOP_AFTER=100K run_qvm images copy tank/images/deb A:tank/images/x
	expect_exit 1
	host_state A a.before
	run_qvm images copy tank/images/other A:tank/images/x
	expect_exit 1
	expect_first_line '^Error copying image: tank/images/x on A holds an interrupted copy of tank/images/deb@base, not of tank/images/other@base: `zfs recv -A tank/images/x` on A discards it$' err
	host_state A a.after
	expect_same a.before a.after
}
test_case 'an interrupted copy of another image is not resumed with this one' t_resume_other

t_signal() {
	need_hosts
	# slow enough to be stopped half way
	ZFS_DOUBLE_SEND_RATE=1M "$QVM" images copy tank/images/deb A >out 2>err &
	pid=$!
	for _ in $(seq 100); do
		grep -q '^recv ' "$HOST_A_ZFS_LOG" 2>/dev/null && break
		sleep 0.05
	done
	sleep 1
	kill -INT $pid
	status=0
	wait $pid || status=$?
	expect_eq 130 "$status" "exit status (SIGINT)"
	expect_first_line '^Error copying image: interrupted by signal SIGINT; interrupted: run the same command again to resume, or `zfs recv -A tank/images/deb` on A to discard it$' err
	on_host A zfs get -H -o value receive_resume_token tank/images/deb >token
	expect_match '^1-' token
	# nothing left running: no zfs send here, no ssh of this run
	if pgrep -f "zfs send .*tank/images/deb@base" >/dev/null; then
		_fail "zfs send still runs"
		return 1
	fi
	run_qvm images copy tank/images/deb A
	expect_exit 0
	expect_match '^Resuming copy of tank/images/deb to A at ' out
	cmp "$QVM_ZVOL_DIR/tank/images/deb" "$HOST_A_ZVOL_DIR/tank/images/deb"
}
test_case 'SIGINT half way: exit 130, the host keeps a resumable copy, the next run resumes it' t_signal

t_connection_lost() {
	need_hosts
	# the host goes away half way: what it received stays resumable there
	ZFS_DOUBLE_SEND_RATE=1M "$QVM" images copy tank/images/deb A >out 2>err &
	pid=$!
	for _ in $(seq 100); do
		grep -q '^recv ' "$HOST_A_ZFS_LOG" 2>/dev/null && break
		sleep 0.05
	done
	sleep 1
	host_drop A
	status=0
	wait $pid || status=$?
	expect_eq 1 "$status" "exit status"
	expect_first_line '^Error copying image: cannot copy tank/images/deb@base to A: lost the connection to A: .*; what A kept cannot be told \(.*\): run the same command again to resume, or `zfs recv -A tank/images/deb` on A to discard it$' err
	host_up A
	on_host A zfs get -H -o value receive_resume_token tank/images/deb >token
	expect_match '^1-' token
	run_qvm images copy tank/images/deb A
	expect_exit 0
	expect_match '^Resuming copy of tank/images/deb to A at ' out
	cmp "$QVM_ZVOL_DIR/tank/images/deb" "$HOST_A_ZVOL_DIR/tank/images/deb"
}
test_case 'the connection lost half way: said; once the host answers, the copy resumes' t_connection_lost

# failed IMAGE TARGET REGEX: qvm images copy IMAGE TARGET fails with REGEX
# as its first line, neither host A nor this one changed.
failed() {
	zfs_snapshot_state "$TEST_DIR/here.before"
	host_state A "$TEST_DIR/a.before"
	run_qvm images copy -- "$1" "$2"
	expect_exit 1
	expect_first_line "$3" err
	expect_state_unchanged "$TEST_DIR/here.before"
	host_state A "$TEST_DIR/a.after"
	expect_same "$TEST_DIR/a.before" "$TEST_DIR/a.after"
}

# refused IMAGE TARGET REGEX: the same, refused by the checks: no step begun.
refused() {
	failed "$@"
	expect_empty out
}

t_refusals() {
	need_hosts
	refused tank/images/nope A \
		'^Error copying image: image tank/images/nope does not exist on this host \(qvm images lists the images qvm imported\)$'
	zfs create -V 1M tank/images/plain
	zfs snapshot tank/images/plain@base
	refused tank/images/plain A \
		'^Error copying image: tank/images/plain is not an image qvm imported \(qvm images lists them\)$'
	refused tank/images A '^Error copying image: tank/images is a filesystem, not an image qvm imported'
	zfs create -V 1M -o qvm:kind=image -o qvm:state=creating tank/images/half
	refused tank/images/half A \
		'^Error copying image: image tank/images/half is not ready: its import has not finished \(qvm:state=creating\)$'
	zfs create -V 1M -o qvm:kind=image -o qvm:state=ready tank/images/nobase
	refused tank/images/nobase A '^Error copying image: image tank/images/nobase has no snapshot tank/images/nobase@base to copy$'
	refused tank/images/deb A:tank/nope/deb '^Error copying image: parent dataset tank/nope does not exist on A$'
	refused tank/images/deb A:pool2/images/deb '^Error copying image: pool pool2 does not exist on A$'
	on_host A zfs create -V 1M tank/images/vol
	refused tank/images/deb A:tank/images/vol/deb '^Error copying image: parent dataset tank/images/vol on A is a volume, not a filesystem$'
	refused tank/images/deb A:tank '^Error copying image: invalid dataset name .tank.: an image needs a parent dataset'
	refused tank/images/deb A: "^Error copying image: 'A:' names no dataset after ':'"
	# there already: an image, or anything else
	run_qvm images copy -q tank/images/deb A
	expect_exit 0
	refused tank/images/deb A '^Error copying image: image tank/images/deb exists on A$'
	refused tank/images/deb A:tank/images/vol '^Error copying image: dataset tank/images/vol exists on A$'
	# --host names where qvm works: copy works here
	run_qvm images copy --host A tank/images/deb B
	expect_exit 1
	expect_first_line '^Error copying image: qvm images copy copies from this host to the host it names: --host is not taken$' err
	run_qvm images copy tank/images/deb
	expect_exit 1
	expect_first_line "^Error copying image: 'images copy' takes 2 arguments" err
	run_qvm images nope
	expect_exit 1
	expect_first_line "^Error listing images: unknown images command 'nope'" err
}
test_case 'refused before any change: unknown image, not an image, not ready, no @base, no parent or pool there, already there' t_refusals

t_hostile() {
	need_hosts
	# names a shell or zfs would read otherwise: refused, nothing run there
	: >"$HOST_A_ZFS_LOG"
	refused tank/images/deb 'A:tank/images/$(touch pwned)' \
		"^Error copying image: invalid dataset name 'tank/images/\\\$\\(touch pwned\\)'"
	refused tank/images/deb "A:tank/images/a;touch pwned" "^Error copying image: invalid dataset name"
	refused tank/images/deb "A:-o/x" "^Error copying image: invalid dataset name"
	refused tank/images/deb $'A:tank/images/a\nb' "^Error copying image: invalid dataset name 'tank/images/a\\\\nb'"
	refused '-R' A "^Error copying image: invalid image name '-R'"
	refused 'tank/images/deb@base' A "^Error copying image: invalid image name"
	# hosts ssh would take for options
	refused tank/images/deb '-oProxyCommand=touch pwned' '^Error connecting to host: '
	[ ! -e pwned ] || { _fail "a name ran a command"; return 1; }
	[ ! -e "$HOST_A_HOME/pwned" ] || { _fail "a name ran a command on A"; return 1; }
	# A saw only the test's own state snapshots (host_state)
	grep -Ev '^(list -H -p -o name,type,volsize,origin -t all|get -H -o name,property,value all)$' \
		"$HOST_A_ZFS_LOG" >calls || true
	expect_empty calls
}
test_case 'hostile dataset, image and host names: refused, nothing run' t_hostile

t_host_down() {
	need_hosts
	host_drop A
	refused tank/images/deb A '^Error connecting to host: cannot reach A: '
	refused tank/images/deb nosuchhost.invalid '^Error connecting to host: cannot reach nosuchhost\.invalid: '
}
test_case 'a host that does not answer: said, nothing changed' t_host_down

t_host_fails() {
	need_hosts
	# zfs recv refuses at once: nothing there
	host_env A ZFS_DOUBLE_FAIL=receive
	failed tank/images/deb A '^Error copying image: cannot copy tank/images/deb@base to A: cannot receive new filesystem stream: out of space$'
	# the copy received whole, then cannot be marked ready: removed there
	host_env A ZFS_DOUBLE_FAIL=set
	failed tank/images/deb A '^Error copying image: cannot mark tank/images/deb on A ready: cannot set property for .tank/images/deb.: permission denied$'
	expect_match '^Rolling back: removing zvol tank/images/deb' out
}
test_case 'zfs recv refused, or the copy not marked ready: nothing left on the host' t_host_fails

t_foreign_partial() {
	need_hosts
	# an admin's own volume on A, and their own interrupted zfs recv -s -F
	# into it (its partial state the hidden tank/images/deb/%recv)
	on_host A zfs create -V 1M tank/images/deb
	on_host A zfs set user:note=admins-own tank/images/deb
	zfs send -L tank/images/deb@base | head -c 120000 | on_host A zfs recv -s -F tank/images/deb 2>/dev/null || true
	on_host A zfs get -H -o value receive_resume_token tank/images/deb >token
	expect_match '^1-' token
	# qvm neither resumes nor removes it, even when it could not mark a copy
	host_env A ZFS_DOUBLE_FAIL=set
	refused tank/images/deb A '^Error copying image: tank/images/deb on A holds a partial receive \(zfs recv -s\) that is not an interrupted copy of qvm.s \(no qvm:kind=image, qvm:state=creating and qvm:run set on it\): left as it is; `zfs recv -A tank/images/deb` on A discards that partial receive, or copy to another dataset \(A:POOL/NAME\)$'
	expect_eq admins-own "$(on_host A zfs get -H -o value user:note tank/images/deb)" "the admin's mark"
	host_env A
	# an admin's interrupted receive of a new dataset: the same
	zfs send -L tank/images/deb@base | head -c 120000 | on_host A zfs recv -s tank/images/new 2>/dev/null || true
	refused tank/images/deb A:tank/images/new '^Error copying image: tank/images/new on A holds a partial receive \(zfs recv -s\) that is not an interrupted copy of qvm.s '
	# marks inherited from the parent are not the partial's own
	on_host A zfs set qvm:kind=image tank/images
	on_host A zfs set qvm:state=creating tank/images
	on_host A zfs set qvm:run=1-0 tank/images
	refused tank/images/deb A:tank/images/new '^Error copying image: tank/images/new on A holds a partial receive \(zfs recv -s\) that is not an interrupted copy of qvm.s '
}
test_case 'a partial receive qvm did not start (zfs recv -s -F into an existing dataset, or a new one): refused, left as it is' t_foreign_partial

t_resume_mark_fails() {
	need_hosts
	ZFS_DOUBLE_SEND_STOP_AFTER=1M run_qvm images copy tank/images/deb A
	expect_exit 1
	# resumed to the end, then not marked ready: the copy existed before
	# this run, so it stays, marked for qvm cleanup --host
	host_env A ZFS_DOUBLE_FAIL=set
	run_qvm images copy tank/images/deb A
	expect_exit 1
	expect_match '^Resuming copy of tank/images/deb to A at ' out
	expect_no_match 'Rolling back' out
	expect_first_line '^Error copying image: cannot mark tank/images/deb on A ready: cannot set property for .tank/images/deb.: permission denied; the copy there was begun before this run, so it is left as it is \(qvm:state=creating\): remove it with: qvm cleanup --host A --yes, then copy again$' err
	on_host A zfs list -H -o name -t all -r tank/images >list
	expect_line tank/images/deb list
	expect_line tank/images/deb@base list
	host_env A
	# what the message says: cleanup removes it, and a new copy is made
	run_qvm cleanup --host A --yes
	expect_exit 0
	on_host A zfs list -H -o name -t volume >vols
	expect_empty vols
	run_qvm images copy -q tank/images/deb A
	expect_exit 0
	cmp "$QVM_ZVOL_DIR/tank/images/deb" "$HOST_A_ZVOL_DIR/tank/images/deb"
}
test_case 'a resumed copy that cannot be marked ready is not removed: left for qvm cleanup --host' t_resume_mark_fails

t_concurrent() {
	need_hosts
	# one copy under way, slowly; a second one to the same target meanwhile
	ZFS_DOUBLE_SEND_RATE=1M "$QVM" images copy tank/images/deb A >first.out 2>first.err &
	pid=$!
	for _ in $(seq 100); do
		grep -q '^recv ' "$HOST_A_ZFS_LOG" 2>/dev/null && break
		sleep 0.05
	done
	sleep 0.5
	run_qvm images copy tank/images/deb A
	expect_exit 1
	expect_first_line "^Error copying image: tank/images/deb on A is being received by another qvm copy still running \\(run $pid-[0-9a-f]+(@[0-9a-f-]+)?\\): let it finish; if it fails, run the same command again to resume it\$" err
	expect_no_match 'zfs recv -A' err
	# the first one was not disturbed
	status=0
	wait $pid || status=$?
	expect_eq 0 "$status" "the first copy's exit status"
	cmp "$QVM_ZVOL_DIR/tank/images/deb" "$HOST_A_ZVOL_DIR/tank/images/deb"
}
test_case 'two copies to one target at once: the second says the first is running, and leaves it alone' t_concurrent

t_concurrent_race() {
	need_hosts
	# the first copy checks A, then its zfs send here waits (a zfs that
	# waits for ./go before sending); the second copy checks A meanwhile,
	# finds nothing and begins: the first one's receive then meets it
	mkdir slowbin
	printf '#!/bin/bash\nif [ "$1" = send ] && [[ " $* " != *" -n "* ]]; then\n\tfor _ in $(seq 600); do [ -e %q ] && break; sleep 0.05; done\nfi\nexec %q "$@"\n' \
		"$PWD/go" "$(command -v zfs)" >slowbin/zfs
	chmod +x slowbin/zfs
	PATH=$PWD/slowbin:$PATH "$QVM" images copy tank/images/deb A >first.out 2>first.err &
	first=$!
	for _ in $(seq 200); do
		grep -q '^recv ' "$HOST_A_ZFS_LOG" 2>/dev/null && break
		sleep 0.05
	done
	ZFS_DOUBLE_SEND_RATE=512K "$QVM" images copy tank/images/deb A >second.out 2>second.err &
	second=$!
	# the second copy's partial receive there, then the first one's stream
	for _ in $(seq 400); do
		token=$(on_host A zfs get -H -o value receive_resume_token tank/images/deb 2>/dev/null) || true
		[ -n "$token" ] && [ "$token" != - ] && break
		sleep 0.05
	done
	touch go
	status=0
	wait $first || status=$?
	expect_eq 1 "$status" "the first copy's exit status"
	expect_first_line "^Error copying image: cannot copy tank/images/deb@base to A: .*; tank/images/deb on A is being received by another qvm copy still running \\(run $second-[0-9a-f]+(@[0-9a-f-]+)?\\): let it finish; if it fails, run the same command again to resume it\$" first.err
	expect_no_match 'zfs recv -A' first.err
	status=0
	wait $second || status=$?
	expect_eq 0 "$status" "the second copy's exit status"
	cmp "$QVM_ZVOL_DIR/tank/images/deb" "$HOST_A_ZVOL_DIR/tank/images/deb"
}
test_case 'two copies begun at once: the one whose receive comes second says the other is running' t_concurrent_race

t_encrypted() {
	need_hosts
	# an image of encrypted blocks: copied raw (-w), its key stays here
	printf 'passphrase of the test\n' | zfs create -V 8M -o encryption=on -o keyformat=passphrase \
		-o qvm:kind=image -o qvm:state=ready tank/images/enc
	head -c 2M /dev/urandom | dd of="$QVM_ZVOL_DIR/tank/images/enc" bs=1M seek=1 conv=notrunc status=none
	zfs snapshot tank/images/enc@base
	ZFS_DOUBLE_SEND_STOP_AFTER=100K run_qvm images copy tank/images/enc A
	expect_exit 1
	expect_first_line '^Error copying image: cannot copy tank/images/enc@base to A: .*; interrupted, and not to be resumed, as the image is encrypted: `zfs recv -A tank/images/enc` on A discards it; then copy again$' err
	expect_match '^send -L -e -c -w tank/images/enc@base$' "$ZFS_DOUBLE_LOG"
	on_host A zfs get -H -o value receive_resume_token tank/images/enc >token
	expect_match '^1-' token
	# not resumed: the token, which A keeps, would say whether the rest goes
	# raw or decrypted; nothing is sent with it
	zfs_log_reset
	refused tank/images/enc A '^Error copying image: tank/images/enc on A holds an interrupted copy of encrypted image tank/images/enc, which qvm does not resume \(A keeps the resume token, which would decide whether the rest is sent encrypted or decrypted\): `zfs recv -A tank/images/enc` on A discards it; then copy again$'
	expect_no_match -- '-t ' "$ZFS_DOUBLE_LOG"
	# what the message says
	host_ssh A zfs recv -A tank/images/enc
	run_qvm images copy tank/images/enc A
	expect_exit 0
	expect_no_match Resuming out
	expect_eq aes-256-gcm "$(on_host A zfs get -H -o value encryption tank/images/enc)" "encrypted on A"
	cmp "$QVM_ZVOL_DIR/tank/images/enc" "$HOST_A_ZVOL_DIR/tank/images/enc"
}
test_case 'an encrypted image: copied raw; an interrupted copy of it is not resumed, but said how to drop' t_encrypted

test_done
