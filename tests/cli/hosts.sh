# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# "Remote hosts" for qvm's command-line tests, reached with real ssh: each
# test host is an sshd of its own (Debian's openssh-server) on 127.0.0.1 and
# a free port, with throwaway keys, a ZFS double state, zvol and qvm state
# directories, a HOME of its own, and a private libvirtd serving the test
# driver (libvirtd.sh, which it sources), reached through libvirt's ssh
# transport. Source after lib.sh, then:
#
#   hosts_for_cases A B        # HOSTS_OK=1, or 0 and the reason in HOSTS_WHY
#   setup() { hosts_reset; }   # every case starts with empty hosts
#   test_case '...' '
#       need_hosts             # skipped when the hosts could not start
#       host_ssh A zfs list    # or: run_qvm vm --host A ... (QVM_HOSTS)
#       on_host A zfs list     # the same double state, locally, no ssh
#   '
#
# or hosts_start A B itself (returns 1, reason in HOSTS_WHY). Host names are
# shell identifiers ([A-Za-z][A-Za-z0-9_]*). Exported for qvm:
#
#   QVM_SSH_CONFIG   an ssh_config(5) file: a Host entry per host (HostName
#                    127.0.0.1, its Port, User root, its IdentityFile, a
#                    UserKnownHostsFile holding its real host key, strict
#                    checking, IdentitiesOnly, BatchMode); and a
#                    `Host 127.0.0.1` entry (every host's key and client
#                    key) for `ssh -F ... -p PORT root@127.0.0.1`
#   QVM_HOSTS        the hosts file: NAME: {ssh: NAME, connect: URI}
#
# and per host N (exported too): HOST_N_PORT, HOST_N_URI (its libvirt over
# ssh, the hosts file's connect:), HOST_N_LV_URI (the same libvirtd over its
# unix socket, no ssh), HOST_N_SOCK, HOST_N_ZFS_STATE, HOST_N_ZFS_LOG,
# HOST_N_ZVOL_DIR, HOST_N_STATE_DIR, HOST_N_HOME (what its sessions get as
# ZFS_DOUBLE_STATE, ZFS_DOUBLE_LOG, QVM_ZVOL_DIR, QVM_STATE_DIR, HOME),
# HOST_N_KEY (the client key), HOST_N_DIR (its files), HOST_N_LIBVIRTD_PID.
# HOSTS_PATH is the hosts' PATH. Functions: on_host, host_ssh, host_env,
# host_drop, host_up, host_sshd_pid, hosts_reset, hosts_stop, shell_quote,
# pid_alive (below). host_drop in a case lasts until the next case's
# hosts_reset (which brings a dropped host back).
#
# The sessions' environment comes from sshd's SetEnv: PATH (the ZFS double
# and tests/bin first, then the system's), the variables above. sshd runs as
# root in a mount namespace with an empty /run (its privilege separation
# directory /run/sshd is made there: nothing of the machine's /run is used
# or changed) and a pid namespace (stopping it stops all its sessions);
# zvol and qvm state directories are under a directory of /dev/shm of this
# test file's own (libvirt looks up disk paths outside /dev in its storage
# pools when the URI is remote). PATH gets HOSTS_DIR/bin first, whose `ssh`
# runs ssh with -F and QVM_SSH_CONFIG's file: so libvirt's ssh transport
# (which runs plain `ssh`) checks the host keys too, and never reads root's
# ~/.ssh or writes to its known_hosts. (Every ssh of the test file gets
# that -F, qvm's too, even with QVM_SSH_CONFIG unset.)
#
# Everything is stopped by process id at exit (lib.sh's at_exit): each sshd
# with its sessions, each libvirtd; the /dev/shm directory is removed.

# shellcheck source=libvirtd.sh
[ "$(type -t libvirtd_launch)" = function ] || . "$TEST_LIB_DIR/libvirtd.sh"

HOSTS_OK=0
HOSTS_WHY=
HOSTS_DIR=
HOSTS_SHM=
HOSTS_NAMES=()
QVM_SSH_CONFIG=
QVM_HOSTS=
_hosts_owner=
_hosts_ssh=
_hosts_lib_path=/usr/sbin:/usr/bin:/sbin:/bin
# the test hosts' PATH: the ZFS double first
HOSTS_PATH=$TEST_REPO/tests/zfs-double:$TEST_REPO/tests/bin:$_hosts_lib_path
export HOSTS_PATH
# by its absolute path (sshd re-executes itself for each connection)
HOSTS_SSHD=${HOSTS_SSHD:-/usr/sbin/sshd}

# _hosts_check: what a test host needs; sets HOSTS_WHY when something is
# missing.
_hosts_check() {
	local c
	if [ ! -x "$HOSTS_SSHD" ]; then
		HOSTS_WHY="no $HOSTS_SSHD (Debian's openssh-server)"
		return 1
	fi
	if [ "$(id -u)" != 0 ]; then
		HOSTS_WHY="test hosts need root (sshd, root logins)"
		return 1
	fi
	for c in ssh ssh-keygen nc libvirtd virsh ps; do
		if ! command -v "$c" >/dev/null 2>&1; then
			HOSTS_WHY="no $c (scripts/deps installs it)"
			return 1
		fi
	done
	_hosts_ssh=$(command -v ssh)
	return 0
}

# _hosts_var N FIELD: the value of HOST_N_FIELD.
_hosts_var() {
	local v=HOST_${1}_$2
	printf '%s' "${!v-}"
}

_hosts_set() {	# _hosts_set N FIELD VALUE
	declare -gx "HOST_${1}_$2=$3"
}

_hosts_known() {
	local n
	for n in "${HOSTS_NAMES[@]}"; do
		[ "$n" != "$1" ] || return 0
	done
	echo "no test host '$1' (hosts: ${HOSTS_NAMES[*]})" >&2
	return 1
}

# hosts_start NAME...: start these hosts (see above). Once per shell.
hosts_start() {
	local n
	HOSTS_WHY=
	if [ $# = 0 ]; then
		HOSTS_WHY="hosts_start: no host names"
		return 1
	fi
	if [ -n "$_hosts_owner" ] && [ "$_hosts_owner" = "$BASHPID" ]; then
		HOSTS_WHY="hosts_start: this shell's hosts are started already"
		return 1
	fi
	_hosts_check || return 1
	for n; do
		if ! [[ $n =~ ^[A-Za-z][A-Za-z0-9_]*$ ]]; then
			HOSTS_WHY="hosts_start: '$n' is not a host name of the harness"
			return 1
		fi
	done
	HOSTS_NAMES=()
	_hosts_owner=$BASHPID
	at_exit hosts_stop
	if ! HOSTS_DIR=$(mktemp -d "$TEST_ROOT/hosts.XXXXXX") ||
		! HOSTS_SHM=$(mktemp -d "/dev/shm/qvm-$TEST_FILE.XXXXXX"); then
		HOSTS_WHY="cannot make the hosts' directories"
		return 1
	fi
	# the paths go into sshd_config, ssh_config, YAML and URIs unquoted
	if [[ $HOSTS_DIR$HOSTS_SHM$TEST_REPO =~ [^A-Za-z0-9._/+-] ]]; then
		HOSTS_WHY="test paths with characters sshd_config would need quoted: $HOSTS_DIR $HOSTS_SHM $TEST_REPO"
		return 1
	fi
	# the libvirtd socket path must fit a sockaddr_un (108 bytes)
	if [ "${#HOSTS_DIR}" -gt 60 ]; then
		HOSTS_WHY="TMPDIR is too long for the hosts' libvirtd sockets: $HOSTS_DIR"
		return 1
	fi
	QVM_SSH_CONFIG=$HOSTS_DIR/ssh_config
	QVM_HOSTS=$HOSTS_DIR/hosts.yaml
	export QVM_SSH_CONFIG QVM_HOSTS
	echo "# qvm's test hosts (tests/cli/hosts.sh)" >"$QVM_SSH_CONFIG"
	echo "# qvm's test hosts (tests/cli/hosts.sh)" >"$QVM_HOSTS"
	: >"$HOSTS_DIR/known_hosts"
	# libvirt's ssh transport runs the `ssh` PATH finds, with no -F: this
	# one adds QVM_SSH_CONFIG's, so that it checks the host keys and
	# neither reads root's ~/.ssh nor writes the throwaway keys into root's
	# known_hosts (qvm refuses a connect URI naming a program: command=).
	# The file's name is written in: libvirt passes ssh only a few
	# variables of its environment (PATH, HOME, SSH_AUTH_SOCK...).
	mkdir -p "$HOSTS_DIR/bin"
	cat >"$HOSTS_DIR/bin/ssh" <<-EOF
	#!/bin/sh
	# ssh with the test hosts' configuration (tests/cli/hosts.sh)
	exec $_hosts_ssh -F $QVM_SSH_CONFIG "\$@"
	EOF
	chmod 0755 "$HOSTS_DIR/bin/ssh"
	export PATH="$HOSTS_DIR/bin:$PATH"
	for n; do
		_hosts_start_one "$n" || return 1
	done
	_hosts_local_entry
	for n; do
		_hosts_verify "$n" || return 1
	done
	return 0
}

_hosts_start_one() {
	local n=$1 d=$HOSTS_DIR/$1 shm=$HOSTS_SHM/$1 port uri
	HOSTS_NAMES+=("$n")
	mkdir -p "$d/home" "$d/zfs-state" "$shm/zvol"
	_hosts_set "$n" DIR "$d"
	_hosts_set "$n" HOME "$d/home"
	_hosts_set "$n" ZFS_STATE "$d/zfs-state"
	_hosts_set "$n" ZFS_LOG "$d/zfs.log"
	_hosts_set "$n" ZVOL_DIR "$shm/zvol"
	_hosts_set "$n" STATE_DIR "$shm/qvm-state"
	_hosts_set "$n" KEY "$d/client_key"
	if ! ssh-keygen -q -t ed25519 -N '' -C "qvm-test-host-$n" -f "$d/host_key" </dev/null ||
		! ssh-keygen -q -t ed25519 -N '' -C "qvm-test-client-$n" -f "$d/client_key" </dev/null; then
		HOSTS_WHY="ssh-keygen failed for host $n"
		return 1
	fi
	cp "$d/client_key.pub" "$d/authorized_keys"
	if ! libvirtd_launch "$d/libvirtd"; then
		HOSTS_WHY="the libvirtd of host $n did not start ($d/libvirtd/out)"
		return 1
	fi
	_hosts_set "$n" LIBVIRTD_PID "$LV_LAUNCHED_PID"
	_hosts_set "$n" LV_URI "$LV_LAUNCHED_URI"
	_hosts_set "$n" SOCK "$d/libvirtd/libvirt-sock"
	_hosts_sshd "$n" || return 1
	port=$(_hosts_var "$n" PORT)
	# the host key as ssh records it for HostName 127.0.0.1 and this Port
	echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$d/host_key.pub")" >"$d/known_hosts"
	cat "$d/known_hosts" >>"$HOSTS_DIR/known_hosts"
	cat >>"$QVM_SSH_CONFIG" <<-EOF

	Host $n
	    HostName 127.0.0.1
	    Port $port
	    User root
	    IdentityFile $d/client_key
	    IdentitiesOnly yes
	    UserKnownHostsFile $d/known_hosts
	    GlobalKnownHostsFile /dev/null
	    StrictHostKeyChecking yes
	    CheckHostIP no
	    BatchMode yes
	    ConnectTimeout 10
	EOF
	uri="test+ssh://root@127.0.0.1:$port/default?socket=$d/libvirtd/libvirt-sock&keyfile=$d/client_key"
	_hosts_set "$n" URI "$uri"
	cat >>"$QVM_HOSTS" <<-EOF
	$n:
	  ssh: $n
	  connect: $uri
	EOF
}

# _hosts_local_entry: `ssh -F $QVM_SSH_CONFIG -p PORT root@127.0.0.1` (and
# libvirt's ssh, which names 127.0.0.1) reach any host with strict checking.
_hosts_local_entry() {
	local n
	{
		echo
		echo "Host 127.0.0.1"
		for n in "${HOSTS_NAMES[@]}"; do
			echo "    IdentityFile $(_hosts_var "$n" KEY)"
		done
		echo "    IdentitiesOnly yes"
		echo "    UserKnownHostsFile $HOSTS_DIR/known_hosts"
		echo "    GlobalKnownHostsFile /dev/null"
		echo "    StrictHostKeyChecking yes"
		echo "    CheckHostIP no"
		echo "    BatchMode yes"
		echo "    ConnectTimeout 10"
	} >>"$QVM_SSH_CONFIG"
}

# _hosts_verify N: a command and libvirt both answer through ssh.
_hosts_verify() {
	local n=$1 d=$HOSTS_DIR/$1
	if ! timeout 30 "$_hosts_ssh" -F "$QVM_SSH_CONFIG" -- "$n" true </dev/null >"$d/verify.log" 2>&1; then
		HOSTS_WHY="ssh to host $n failed: $(head -c 300 "$d/verify.log")"
		return 1
	fi
	if ! timeout 30 virsh -c "$(_hosts_var "$n" URI)" list --all </dev/null >"$d/verify.log" 2>&1; then
		HOSTS_WHY="libvirt of host $n over ssh failed: $(head -c 300 "$d/verify.log")"
		return 1
	fi
	return 0
}

# _hosts_sshd N [PORT]: start host N's sshd on PORT, or on a free port
# (random, below the kernel's ephemeral range, another one on a collision).
_hosts_sshd() {
	local n=$1 want=${2:-} d=$HOSTS_DIR/$1 port pid lines low
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
	[ "$low" -gt 12000 ] || low=32768
	_lv_pdeathsig
	for _ in $(seq 30); do
		if [ -n "$want" ]; then
			port=$want
		else
			port=$((10000 + (RANDOM * 32768 + RANDOM) % (low - 10000)))
		fi
		_hosts_sshd_config "$n" "$port"
		touch "$d/sshd.log"
		lines=$(wc -l <"$d/sshd.log")
		if unshare -m -p --fork --kill-child=TERM --propagation private true 2>/dev/null; then
			# sshd insists on its privilege separation directory
			# /run/sshd: an empty /run of its own has one. In a pid
			# namespace of its own, where it is process 1: when it
			# ends, the kernel ends and reaps every session process
			# too, and it ends with unshare (--kill-child)
			"${_lv_prefix[@]}" unshare -m -p --fork --kill-child=TERM --propagation private sh -c '
				mount -t tmpfs -o mode=0755 tmpfs /run &&
				mkdir -m 0755 /run/sshd && exec "$@"' sh \
				"$HOSTS_SSHD" -D -e -f "$d/sshd_config" >>"$d/sshd.log" 2>&1 </dev/null &
		elif [ -d /run/sshd ]; then
			"${_lv_prefix[@]}" "$HOSTS_SSHD" -D -e -f "$d/sshd_config" >>"$d/sshd.log" 2>&1 </dev/null &
		else
			HOSTS_WHY="no mount namespace for sshd (unshare -m) and no /run/sshd"
			return 1
		fi
		pid=$!
		for _ in $(seq 200); do
			if tail -n "+$((lines + 1))" "$d/sshd.log" | grep -q "Server listening on 127.0.0.1 port $port\."; then
				_hosts_set "$n" PORT "$port"
				# in a file: a case's subshell may drop and restart it
				echo "$pid" >"$d/sshd.running"
				return 0
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		if [ -z "$want" ] && tail -n "+$((lines + 1))" "$d/sshd.log" | grep -q "Address already in use"; then
			continue
		fi
		break
	done
	HOSTS_WHY="the sshd of host $n did not start: $(tail -n 3 "$d/sshd.log" | tr '\n' ' ')"
	return 1
}

_hosts_sshd_config() {	# _hosts_sshd_config N PORT
	local n=$1 d=$HOSTS_DIR/$1
	cat >"$d/sshd_config" <<-EOF
	# test host $n of qvm's CLI tests (tests/cli/hosts.sh)
	ListenAddress 127.0.0.1
	Port $2
	HostKey $d/host_key
	PidFile $d/sshd.pid
	AuthorizedKeysFile $d/authorized_keys
	PermitRootLogin prohibit-password
	PubkeyAuthentication yes
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	StrictModes no
	UsePAM no
	UseDNS no
	PrintMotd no
	PrintLastLog no
	# parallel queries and one multiplexed connection per qvm run
	MaxStartups 200:30:400
	MaxSessions 200
	SetEnv $(_hosts_setenv "$n")
	EOF
}

# _hosts_setenv N: SetEnv's words: the standard variables, then host_env's
# (which replace a standard one of the same name), each in double quotes.
_hosts_setenv() {
	local n=$1 a k out=''
	local -a vars=(
		"PATH=$(_hosts_path)"
		"ZFS_DOUBLE_STATE=$(_hosts_var "$n" ZFS_STATE)"
		"ZFS_DOUBLE_LOG=$(_hosts_var "$n" ZFS_LOG)"
		"QVM_ZVOL_DIR=$(_hosts_var "$n" ZVOL_DIR)"
		"QVM_STATE_DIR=$(_hosts_var "$n" STATE_DIR)"
		"HOME=$(_hosts_var "$n" HOME)"
	)
	local -A extra=()
	if [ -s "$HOSTS_DIR/$n/extra-env" ]; then
		while IFS= read -r a; do
			extra[${a%%=*}]=$a
		done <"$HOSTS_DIR/$n/extra-env"
	fi
	for a in "${vars[@]}"; do
		k=${a%%=*}
		if [ -n "${extra[$k]+set}" ]; then
			a=${extra[$k]}
			unset "extra[$k]"
		fi
		out+=" \"$a\""
	done
	for k in "${!extra[@]}"; do
		out+=" \"${extra[$k]}\""
	done
	printf '%s' "${out# }"
}

# _hosts_sshd_main PID: the sshd process of the sshd PID names (PID is
# unshare's when sshd runs in a pid namespace).
_hosts_sshd_main() {
	local init
	case $(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) in
	unshare\ *-p\ *)
		init=$(ps -o pid= --ppid "$1" 2>/dev/null) || true
		echo "${init// /}"
		;;
	*) echo "$1" ;;
	esac
}

# host_env N [VAR=VALUE...]: host N's sessions get these variables too (one
# named like a standard one, PATH for instance, replaces it): a fault to
# inject there (ZFS_DOUBLE_FAIL_CALL=3), the fault shims first on its PATH.
# Without VAR=VALUE, the standard environment again; hosts_reset does that
# too. sshd rereads its configuration (SIGHUP): sessions opened from now on
# have it, a connection already open keeps what it had. on_host does not
# apply them.
host_env() {
	local n=$1 a d pid lines
	shift
	_hosts_known "$n" || return 1
	d=$(_hosts_var "$n" DIR)
	for a; do
		if ! [[ $a =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || [[ $a == *[\"\\$'\n']* ]]; then
			echo "host_env: not VAR=VALUE without quotes, backslashes or newlines: $a" >&2
			return 1
		fi
	done
	if [ $# = 0 ]; then
		[ -s "$d/extra-env" ] || return 0
		rm -f "$d/extra-env"
	else
		printf '%s\n' "$@" >"$d/extra-env"
	fi
	_hosts_sshd_config "$n" "$(_hosts_var "$n" PORT)"
	pid=$(host_sshd_pid "$n")
	[ -n "$pid" ] || return 0
	pid=$(_hosts_sshd_main "$pid")
	lines=$(wc -l <"$d/sshd.log")
	kill -HUP "$pid" || return 1
	for _ in $(seq 200); do
		if tail -n "+$((lines + 1))" "$d/sshd.log" | grep -q "Server listening on 127.0.0.1 port"; then
			return 0
		fi
		sleep 0.05
	done
	echo "host_env: the sshd of host $n did not restart: $(tail -n 3 "$d/sshd.log")" >&2
	return 1
}

_hosts_path() {
	printf '%s' "$HOSTS_PATH"
}

# _hosts_env N: this shell gets host N's session environment (SetEnv's
# variables; the fault injections of the local double do not apply).
_hosts_env() {
	export PATH
	PATH=$(_hosts_path)
	export ZFS_DOUBLE_STATE ZFS_DOUBLE_LOG QVM_ZVOL_DIR QVM_STATE_DIR HOME
	ZFS_DOUBLE_STATE=$(_hosts_var "$1" ZFS_STATE)
	ZFS_DOUBLE_LOG=$(_hosts_var "$1" ZFS_LOG)
	QVM_ZVOL_DIR=$(_hosts_var "$1" ZVOL_DIR)
	QVM_STATE_DIR=$(_hosts_var "$1" STATE_DIR)
	HOME=$(_hosts_var "$1" HOME)
	unset ZFS_DOUBLE_FAIL ZFS_DOUBLE_FAIL_CALL ZFS_DOUBLE_PERM_DENIED ZFS_DOUBLE_DEVICE
}

# on_host N CMD...: run CMD (a program or a shell function, e.g.
# zfs_pool or zfs_snapshot_state) locally in a subshell with host N's
# environment, as its ssh sessions have it: no ssh involved.
on_host() {
	local n=$1
	shift
	_hosts_known "$n" || return 1
	(
		_hosts_env "$n"
		"$@"
	)
}

# host_ssh N WORD...: ssh to host N through QVM_SSH_CONFIG. Like ssh, it
# joins the words with spaces into one line for the host's shell: quote
# what must stay one argument (shell_quote).
host_ssh() {
	local n=$1
	shift
	_hosts_known "$n" || return 1
	"$_hosts_ssh" -F "$QVM_SSH_CONFIG" -- "$n" "$@"
}

# shell_quote ARG...: the arguments quoted for a POSIX shell, each in
# single quotes, separated by spaces.
shell_quote() {
	local a out='' q="'\\''"
	for a; do
		out+="${out:+ }'${a//\'/$q}'"
	done
	printf '%s\n' "$out"
}

# _hosts_kill_tree PID: stop PID and every process below it (an sshd's
# connections and their sessions), by process id; frozen while its
# descendants are collected, so that it forks no new ones meanwhile.
_hosts_kill_tree() {
	local root=$1 p kids all=() todo
	pid_alive "$root" || { wait "$root" 2>/dev/null || true; return 0; }
	kill -STOP "$root" 2>/dev/null
	todo=("$root")
	while [ ${#todo[@]} -gt 0 ]; do
		p=${todo[0]}
		todo=("${todo[@]:1}")
		all+=("$p")
		kids=$(ps -o pid= --ppid "$p" 2>/dev/null) || true
		# shellcheck disable=SC2206
		todo+=($kids)
	done
	kill -TERM "${all[@]}" 2>/dev/null
	kill -CONT "$root" 2>/dev/null
	# not a child of this shell when a case stops the test file's sshd
	wait "$root" 2>/dev/null || true
	for _ in $(seq 100); do
		pid_alive "$root" || return 0
		sleep 0.05
	done
	kill -KILL "$root" 2>/dev/null
	return 0
}

# pid_alive PID: the process runs (a zombie, dead but not yet reaped by
# its parent, does not).
pid_alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# host_sshd_pid N: the process id of host N's sshd, if it runs.
host_sshd_pid() {
	local d pid
	_hosts_known "$1" || return 1
	d=$(_hosts_var "$1" DIR)
	[ -f "$d/sshd.running" ] || return 0
	read -r pid <"$d/sshd.running" || return 0
	# that pid is still this sshd (its title names its config file)
	if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$d/sshd_config"; then
		echo "$pid"
	fi
}

# _hosts_stop_sshd PID: stop an sshd hosts_start started, with every
# connection and session: in its pid namespace, by ending the namespace's
# first process (sshd) - unshare, its parent, then exits; without one, the
# whole process tree.
_hosts_stop_sshd() {
	local pid=$1 init
	case $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) in
	unshare\ *-p\ *)
		init=$(_hosts_sshd_main "$pid")
		kill -TERM "${init:-$pid}" 2>/dev/null
		wait "$pid" 2>/dev/null || true
		for _ in $(seq 100); do
			pid_alive "$pid" || return 0
			sleep 0.05
		done
		kill -KILL "$pid" 2>/dev/null
		;;
	*) _hosts_kill_tree "$pid" ;;
	esac
	return 0
}

# host_drop N: host N stops answering: its sshd and every connection to it
# end (its libvirtd and files stay: HOST_N_LV_URI and on_host still work).
host_drop() {
	local pid
	_hosts_known "$1" || return 1
	pid=$(host_sshd_pid "$1")
	[ -z "$pid" ] || _hosts_stop_sshd "$pid"
	rm -f "$(_hosts_var "$1" DIR)/sshd.running"
}

# host_up N: host N answers again (if it did not), on the same port with the
# same keys; fails if the port was taken meanwhile. Started in a case, it
# ends with the case (the next case's hosts_reset starts it again).
host_up() {
	_hosts_known "$1" || return 1
	[ -z "$(host_sshd_pid "$1")" ] || return 0
	# a case's sshd is its own child: the case stops it, and reaps it
	[ "$BASHPID" = "$_hosts_owner" ] || at_exit "host_drop $1"
	_hosts_sshd "$1" "$(_hosts_var "$1" PORT)" || { echo "$HOSTS_WHY" >&2; return 1; }
}

# hosts_reset [N...]: the hosts (all by default) as they started: up, with
# the standard environment, no ZFS double state, device files, qvm state,
# home files or zfs log, and no domain but the test driver's own.
hosts_reset() {
	local n d
	# no hosts (need_hosts skips the case): nothing to reset
	[ -n "$HOSTS_SHM" ] || return 0
	[ $# -gt 0 ] || set -- "${HOSTS_NAMES[@]}"
	for n; do
		host_up "$n" || return 1
		host_env "$n" || return 1
		for d in ZFS_STATE ZVOL_DIR STATE_DIR HOME; do
			rm -rf "$(_hosts_var "$n" "$d")"
		done
		rm -f "$(_hosts_var "$n" ZFS_LOG)"
		mkdir -p "$(_hosts_var "$n" ZFS_STATE)" "$(_hosts_var "$n" ZVOL_DIR)" "$(_hosts_var "$n" HOME)"
		libvirtd_clear_domains "$(_hosts_var "$n" LV_URI)"
	done
	return 0
}

# hosts_stop: stop this shell's hosts (at exit by itself).
hosts_stop() {
	local n pid
	[ "$_hosts_owner" = "$BASHPID" ] || return 0
	for n in "${HOSTS_NAMES[@]}"; do
		host_drop "$n"
		pid=$(_hosts_var "$n" LIBVIRTD_PID)
		[ -z "$pid" ] || libvirtd_stop "$pid"
		_hosts_set "$n" LIBVIRTD_PID ""
	done
	case $HOSTS_SHM in /dev/shm/qvm-*) rm -rf "$HOSTS_SHM" ;; esac
	HOSTS_SHM=
	HOSTS_NAMES=()
	_hosts_owner=
	return 0
}

# hosts_for_cases N...: start the hosts for a test file's cases; HOSTS_OK=1
# if they run. need_hosts: skip the current case when they do not.
hosts_for_cases() {
	HOSTS_OK=0
	if hosts_start "$@"; then
		HOSTS_OK=1
	else
		hosts_stop
	fi
	return 0
}
need_hosts() { [ "$HOSTS_OK" = 1 ] || skip "no test hosts: $HOSTS_WHY"; }
