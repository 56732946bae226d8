# SPDX-License-Identifier: MIT
"""
ZFS test double: zfs(8) and zpool(8) for qvm's test suite.

This machine has no ZFS kernel module, so the CLI tests put this program first
on PATH as both `zfs` and `zpool` (zpool is a symlink; argv[0] decides).  It
keeps the "pool" in one file under $ZFS_DOUBLE_STATE, guarded by flock,
and mimics OpenZFS's command-line behaviour: option parsing (GNU getopt, which
permutes), the order of its checks, its error wording ("cannot create 'X':
parent does not exist"), exit statuses (1 for errors, 2 for usage) and its
-H/-p output.  The messages follow lib/libzfs/libzfs_dataset.c,
lib/libzfs/libzfs_util.c, lib/libzfs/libzfs_pool.c, cmd/zfs/zfs_main.c and
module/zcommon/zfs_namecheck.c of OpenZFS 2.2.

"Devices" of volumes are regular files $QVM_ZVOL_DIR/<dataset> (default
/dev/zvol), created sparse with the volume's size, as udev would create the
/dev/zvol/... links.  Snapshots of volumes keep a sparse copy of the device's
content in the state directory; clones start from that copy.  Both copies are
reflinks where the file system shares blocks (XFS, btrfs), so there, as on
ZFS, a snapshot or clone costs the same whatever the volume holds.

zfs send and zfs receive move volume snapshots between states (two "hosts")
in the double's own stream format, resumable as OpenZFS's (receive -s, the
receive_resume_token property, send -t, receive -A); see the section
"zfs send / zfs receive" below and README.md.

Environment:
  ZFS_DOUBLE_STATE        state directory (required)
  QVM_ZVOL_DIR            where volume devices appear (default /dev/zvol)
  ZFS_DOUBLE_LOG          append each zfs invocation's argv (shell-quoted)
  ZFS_DOUBLE_FAIL         SUBCMD[:KIND][,...]: that zfs subcommand fails
  ZFS_DOUBLE_FAIL_CALL    N[:KIND]: the Nth zfs invocation fails (counter in
                          $ZFS_DOUBLE_STATE/calls; delete the file to reset)
  ZFS_DOUBLE_PERM_DENIED  1: every modifying zfs command gets EPERM
  ZFS_DOUBLE_DEVICE       normal | never | late:SECONDS | unopenable
  ZFS_DOUBLE_SEND_STOP_AFTER  BYTES: zfs send writes that many stream bytes,
                          then dies of SIGKILL (an interrupted transfer)
  ZFS_DOUBLE_SEND_RATE    BYTES: zfs send writes at most that many per second
KIND is one of nospc, perm, busy, io, exists, noent, suspended; the default
depends on the subcommand (create/clone/snapshot/receive: nospc, destroy:
busy, send: io, others: perm).  Injected failures happen where the kernel
would fail the ioctl: after name, parent and property checks, with no change
to the state.
"""

import errno
import fcntl
import marshal
import os
import sys
import time

# shlex and shutil are imported where they are used: most calls
# need none of them, and every zfs call pays for what the double imports.

PROG = os.path.basename(sys.argv[0]) or 'zfs'

FS, SNAP, VOL = 1, 2, 4
DATASET = FS | SNAP | VOL
TYPE_NAMES = {FS: 'filesystem', SNAP: 'snapshot', VOL: 'volume'}
TYPE_BITS = {'filesystem': FS, 'snapshot': SNAP, 'volume': VOL}

MAXNAMELEN = 256                 # ZFS_MAX_DATASET_NAME_LEN
MAX_NESTING = 50                 # zfs_max_dataset_nesting
SPA_MINBLOCKSIZE = 512
SPA_MAXBLOCKSIZE = 16 << 20      # pools have large_blocks enabled
ZVOL_DEFAULT_BLOCKSIZE = 16384
UINT64_MAX = (1 << 64) - 1
POOL_SIZE = 100 << 30
FS_REFER = 24576                 # an empty filesystem's "referenced"

KINDS = {
    'nospc': 'out of space',
    'perm': 'permission denied',
    'busy': 'dataset is busy',
    'io': 'I/O error',
    'exists': 'dataset already exists',
    'noent': 'dataset does not exist',
    'suspended': 'pool I/O is currently suspended',
}
DEFAULT_KIND = {'create': 'nospc', 'clone': 'nospc', 'snapshot': 'nospc',
                'destroy': 'busy', 'receive': 'nospc', 'send': 'io'}
MUTATING = {'create', 'clone', 'snapshot', 'destroy', 'set', 'inherit', 'receive'}


class Exit(Exception):
    """Leave with this status (messages already printed)."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


class ZError(Exception):
    """An operational error: '<action>: <description>', exit 1."""

    def __init__(self, action, desc):
        super().__init__(action)
        self.action = action
        self.desc = desc

    def __str__(self):
        return '%s: %s' % (self.action, self.desc)


class Usage(Exception):
    """A usage error: optional message, then the command's usage, exit 2."""

    def __init__(self, msg=None):
        super().__init__(msg)
        self.msg = msg


def err(msg):
    sys.stderr.write(msg + '\n')


# ---------------------------------------------------------------------------
# Property table (module/zcommon/zfs_prop.c), in zfs_prop_t order, which is the
# order `zfs get all` prints.  Fields: name, kind (number/index/string), attr
# (ro/default/inherit/onetime), dataset types, default, values text, column.

ONOFF = ['off', 'on']


def _compress_values():
    v = ['on', 'off', 'lzjb', 'gzip'] + ['gzip-%d' % i for i in range(1, 10)]
    v += ['zle', 'lz4', 'zstd'] + ['zstd-%d' % i for i in range(1, 20)]
    v += ['zstd-fast'] + ['zstd-fast-%d' % i for i in
                          list(range(1, 11)) + list(range(20, 101, 10)) + [500, 1000]]
    return v


class Prop:
    def __init__(self, name, kind, attr, types, default, values, col,
                 index=None, hidden=False):
        self.name, self.kind, self.attr, self.types = name, kind, attr, types
        self.default, self.values, self.col = default, values, col
        self.index, self.hidden = index, hidden

    @property
    def readonly(self):
        return self.attr in ('ro', 'onetime', 'onetime_default')

    @property
    def setonce(self):
        return self.attr in ('onetime', 'onetime_default')

    @property
    def inheritable(self):
        return self.attr in ('inherit', 'onetime')

    @property
    def right(self):
        return self.kind == 'number'


PROPS = []


def _p(*a, **kw):
    PROPS.append(Prop(*a, **kw))


_p('type', 'string', 'ro', DATASET, None, 'filesystem | volume | snapshot | bookmark', 'TYPE')
_p('creation', 'number', 'ro', DATASET, 0, '<date>', 'CREATION')
_p('used', 'number', 'ro', DATASET, 0, '<size>', 'USED')
_p('available', 'number', 'ro', FS | VOL, 0, '<size>', 'AVAIL')
_p('referenced', 'number', 'ro', DATASET, 0, '<size>', 'REFER')
_p('compressratio', 'number', 'ro', DATASET, 0, '<1.00x or higher if compressed>', 'RATIO')
_p('mounted', 'index', 'ro', FS, 'no', 'yes | no', 'MOUNTED', ['no', 'yes'])
_p('origin', 'string', 'ro', FS | VOL, None, '<snapshot>', 'ORIGIN')
_p('quota', 'number', 'default', FS, 0, '<size> | none', 'QUOTA')
_p('reservation', 'number', 'default', FS | VOL, 0, '<size> | none', 'RESERV')
_p('volsize', 'number', 'default', SNAP | VOL, 0, '<size>', 'VOLSIZE')
_p('volblocksize', 'number', 'onetime', VOL, ZVOL_DEFAULT_BLOCKSIZE,
   '512 to 128k, power of 2', 'VOLBLOCK')
_p('recordsize', 'number', 'inherit', FS, 131072, '512 to 1M, power of 2', 'RECSIZE')
_p('mountpoint', 'string', 'inherit', FS, '/', '<path> | legacy | none', 'MOUNTPOINT')
_p('sharenfs', 'string', 'inherit', FS, 'off', 'on | off | NFS share options', 'SHARENFS')
_p('checksum', 'index', 'inherit', FS | VOL, 'on',
   'on | off | fletcher2 | fletcher4 | sha256 | sha512 | skein | edonr | blake3',
   'CHECKSUM', ['on', 'off', 'fletcher2', 'fletcher4', 'sha256', 'noparity',
                'sha512', 'skein', 'edonr', 'blake3'])
_p('compression', 'index', 'inherit', FS | VOL, 'on',
   'on | off | lzjb | gzip | gzip-[1-9] | zle | lz4 | zstd | zstd-[1-19] | '
   'zstd-fast | zstd-fast-[1-10,20,30,40,50,60,70,80,90,100,500,1000]',
   'COMPRESS', _compress_values())
_p('atime', 'index', 'inherit', FS, 'on', 'on | off', 'ATIME', ONOFF)
_p('devices', 'index', 'inherit', FS | SNAP, 'on', 'on | off', 'DEVICES', ONOFF)
_p('exec', 'index', 'inherit', FS | SNAP, 'on', 'on | off', 'EXEC', ONOFF)
_p('setuid', 'index', 'inherit', FS | SNAP, 'on', 'on | off', 'SETUID', ONOFF)
_p('readonly', 'index', 'inherit', FS | VOL, 'off', 'on | off', 'RDONLY', ONOFF)
_p('zoned', 'index', 'inherit', FS, 'off', 'on | off', 'ZONED', ONOFF)
_p('snapdir', 'index', 'inherit', FS, 'hidden', 'hidden | visible', 'SNAPDIR',
   ['hidden', 'visible'])
_p('aclmode', 'index', 'inherit', FS, 'discard',
   'discard | groupmask | passthrough | restricted', 'ACLMODE',
   ['discard', 'groupmask', 'passthrough', 'restricted'])
_p('aclinherit', 'index', 'inherit', FS, 'restricted',
   'discard | noallow | restricted | passthrough | passthrough-x', 'ACLINHERIT',
   ['discard', 'noallow', 'restricted', 'passthrough', 'secure', 'passthrough-x'])
_p('createtxg', 'number', 'ro', DATASET, 0, '<uint64>', 'CREATETXG')
_p('name', 'string', 'ro', DATASET, None, None, 'NAME', hidden=True)
_p('canmount', 'index', 'default', FS, 'on', 'on | off | noauto', 'CANMOUNT',
   ['off', 'on', 'noauto'])
_p('xattr', 'index', 'inherit', FS | SNAP, 'on', 'on | off | dir | sa', 'XATTR',
   ['off', 'on', 'sa', 'dir'])
_p('copies', 'index', 'inherit', FS | VOL, '1', '1 | 2 | 3', 'COPIES', ['1', '2', '3'])
_p('version', 'index', 'default', FS | SNAP, '5', '1 | 2 | 3 | 4 | 5 | current',
   'VERSION', ['1', '2', '3', '4', '5', 'current'])
_p('utf8only', 'index', 'onetime', FS | SNAP, 'off', 'on | off', 'UTF8ONLY', ONOFF)
_p('normalization', 'index', 'onetime', FS | SNAP, 'none',
   'none | formC | formD | formKC | formKD', 'NORMALIZATION',
   ['none', 'formD', 'formKC', 'formC', 'formKD'])
_p('casesensitivity', 'index', 'onetime', FS | SNAP, 'sensitive',
   'sensitive | insensitive | mixed', 'CASE', ['sensitive', 'insensitive', 'mixed'])
_p('vscan', 'index', 'inherit', FS, 'off', 'on | off', 'VSCAN', ONOFF)
_p('nbmand', 'index', 'inherit', FS | SNAP, 'off', 'on | off', 'NBMAND', ONOFF)
_p('sharesmb', 'string', 'inherit', FS, 'off', 'on | off | SMB share options', 'SHARESMB')
_p('refquota', 'number', 'default', FS, 0, '<size> | none', 'REFQUOTA')
_p('refreservation', 'number', 'default', FS | VOL, 0, '<size> | none', 'REFRESERV')
_p('guid', 'number', 'ro', DATASET, 0, '<uint64>', 'GUID')
_p('primarycache', 'index', 'inherit', DATASET, 'all', 'all | none | metadata',
   'PRIMARYCACHE', ['none', 'metadata', 'all'])
_p('secondarycache', 'index', 'inherit', DATASET, 'all', 'all | none | metadata',
   'SECONDARYCACHE', ['none', 'metadata', 'all'])
_p('usedbysnapshots', 'number', 'ro', FS | VOL, 0, '<size>', 'USEDSNAP')
_p('usedbydataset', 'number', 'ro', FS | VOL, 0, '<size>', 'USEDDS')
_p('usedbychildren', 'number', 'ro', FS | VOL, 0, '<size>', 'USEDCHILD')
_p('usedbyrefreservation', 'number', 'ro', FS | VOL, 0, '<size>', 'USEDREFRESERV')
_p('defer_destroy', 'index', 'ro', SNAP, 'off', 'yes | no', 'DEFER_DESTROY', ONOFF)
_p('userrefs', 'number', 'ro', SNAP, 0, '<count>', 'USERREFS')
_p('logbias', 'index', 'inherit', FS | VOL, 'latency', 'latency | throughput',
   'LOGBIAS', ['latency', 'throughput'])
_p('objsetid', 'number', 'ro', DATASET, 0, '<uint64>', 'OBJSETID')
_p('dedup', 'index', 'inherit', FS | VOL, 'off',
   'on | off | verify | sha256[,verify] | sha512[,verify] | skein[,verify] | '
   'edonr,verify | blake3[,verify]', 'DEDUP',
   ['on', 'off', 'verify', 'sha256', 'sha256,verify', 'sha512', 'sha512,verify',
    'skein', 'skein,verify', 'edonr,verify', 'blake3', 'blake3,verify'])
_p('mlslabel', 'string', 'inherit', DATASET, 'none', '<sensitivity label>', 'MLSLABEL')
_p('sync', 'index', 'inherit', FS | VOL, 'standard', 'standard | always | disabled',
   'SYNC', ['standard', 'always', 'disabled'])
_p('dnodesize', 'index', 'inherit', FS, 'legacy',
   'legacy | auto | 1k | 2k | 4k | 8k | 16k', 'DNSIZE',
   ['legacy', 'auto', '1k', '2k', '4k', '8k', '16k'])
_p('refcompressratio', 'number', 'ro', DATASET, 0, '<1.00x or higher if compressed>',
   'REFRATIO')
_p('written', 'number', 'ro', DATASET, 0, '<size>', 'WRITTEN')
_p('clones', 'string', 'ro', SNAP, None, '<dataset>[,...]', 'CLONES')
_p('logicalused', 'number', 'ro', FS | VOL, 0, '<size>', 'LUSED')
_p('logicalreferenced', 'number', 'ro', DATASET, 0, '<size>', 'LREFER')
_p('volmode', 'index', 'inherit', FS | VOL, 'default',
   'default | full | geom | dev | none', 'VOLMODE',
   ['default', 'full', 'geom', 'dev', 'none'])
_p('filesystem_limit', 'number', 'default', FS, UINT64_MAX, '<count> | none', 'FSLIMIT')
_p('snapshot_limit', 'number', 'default', FS | VOL, UINT64_MAX, '<count> | none', 'SSLIMIT')
_p('filesystem_count', 'number', 'ro', FS, UINT64_MAX, '<count>', 'FSCOUNT')
_p('snapshot_count', 'number', 'ro', FS | VOL, UINT64_MAX, '<count>', 'SSCOUNT')
_p('snapdev', 'index', 'inherit', FS | VOL, 'hidden', 'hidden | visible', 'SNAPDEV',
   ['hidden', 'visible'])
_p('acltype', 'index', 'inherit', FS | SNAP, 'off', 'off | nfsv4 | posix', 'ACLTYPE',
   ['off', 'posix', 'nfsv4', 'disabled', 'noacl', 'posixacl'])
_p('context', 'string', 'default', DATASET, 'none', '<selinux context>', 'CONTEXT')
_p('fscontext', 'string', 'default', DATASET, 'none', '<selinux fscontext>', 'FSCONTEXT')
_p('defcontext', 'string', 'default', DATASET, 'none', '<selinux defcontext>', 'DEFCONTEXT')
_p('rootcontext', 'string', 'default', DATASET, 'none', '<selinux rootcontext>',
   'ROOTCONTEXT')
_p('relatime', 'index', 'inherit', FS, 'on', 'on | off', 'RELATIME', ONOFF)
_p('redundant_metadata', 'index', 'inherit', FS | VOL, 'all', 'all | most',
   'REDUND_MD', ['all', 'most'])
_p('overlay', 'index', 'inherit', FS, 'on', 'on | off', 'OVERLAY', ONOFF)
_p('receive_resume_token', 'string', 'ro', FS | VOL, None, '<string token>', 'RESUMETOK')
_p('encryption', 'index', 'onetime', DATASET, 'off',
   'on | off | aes-128-ccm | aes-192-ccm | aes-256-ccm | aes-128-gcm | '
   'aes-192-gcm | aes-256-gcm', 'ENCRYPTION',
   ['off', 'on', 'aes-128-ccm', 'aes-192-ccm', 'aes-256-ccm', 'aes-128-gcm',
    'aes-192-gcm', 'aes-256-gcm'])
_p('keylocation', 'string', 'default', FS | VOL, 'none',
   'prompt | <file URI> | <https URL> | <http URL>', 'KEYLOCATION')
_p('keyformat', 'index', 'onetime_default', FS | VOL, 'none',
   'none | raw | hex | passphrase', 'KEYFORMAT', ['none', 'raw', 'hex', 'passphrase'])
_p('pbkdf2iters', 'number', 'onetime_default', FS | VOL, 0, '<iters>', 'PBKDF2ITERS')
_p('special_small_blocks', 'number', 'inherit', FS, 0,
   'zero or 512 to 1M, power of 2', 'SPECIAL_SMALL_BLOCKS')

PROP = {p.name: p for p in PROPS}
# Properties whose value is a size (printed with zfs_nicebytes).
SIZE_PROPS = {'used', 'available', 'referenced', 'quota', 'reservation', 'volsize',
              'volblocksize', 'recordsize', 'refquota', 'refreservation',
              'usedbysnapshots', 'usedbydataset', 'usedbychildren',
              'usedbyrefreservation', 'written', 'logicalused',
              'logicalreferenced', 'special_small_blocks'}
NONE_WHEN_ZERO = {'quota', 'reservation', 'refquota', 'refreservation'}
NONE_WHEN_MAX = {'filesystem_limit', 'snapshot_limit', 'filesystem_count',
                 'snapshot_count'}
# zfs accepts unambiguous abbreviations: the lower-case column name.
ALIASES = {p.col.lower(): p.name for p in PROPS if p.col}


def prop_lookup(name):
    """zfs_name_to_prop(): the Prop for a native name or column alias."""
    if name in PROP:
        return PROP[name]
    if name in ALIASES:
        return PROP[ALIASES[name]]
    return None


def prop_user(name):
    """zfs_prop_user(): a valid user property name contains ':'."""
    if ':' not in name:
        return False
    return all(c.isascii() and (c.islower() or c.isdigit() or c in '-_.:')
               for c in name)


def prop_userquota(name):
    return name.startswith(('userused@', 'groupused@', 'userquota@', 'groupquota@',
                            'userobjused@', 'groupobjused@', 'userobjquota@',
                            'groupobjquota@', 'projectused@', 'projectquota@',
                            'projectobjused@', 'projectobjquota@'))


# ---------------------------------------------------------------------------
# Numbers (libzfs_util.c: zfs_nicestrtonum, zfs_nicenum_format)

def nicestrtonum(value):
    """Returns an int or raises ValueError(description)."""
    if not value or (not value[0].isdigit() and value[0] != '.'):
        raise ValueError("bad numeric value '%s'" % value)
    i = 0
    while i < len(value) and value[i].isdigit():
        i += 1
    if i < len(value) and value[i] == '.':
        j = i + 1
        while j < len(value) and value[j].isdigit():
            j += 1
        if j < len(value) and value[j] in 'eE':
            k = j + 1
            if k < len(value) and value[k] in '+-':
                k += 1
            if k < len(value) and value[k].isdigit():
                while k < len(value) and value[k].isdigit():
                    k += 1
                j = k
        text = value[:j]
        try:
            fval = float(text) if text not in ('.', '') else None
        except ValueError:
            fval = None
        end = value[j:] if fval is not None else value
        shift = str2shift(end)
        fval = (fval or 0.0) * (2 ** shift)
        if fval >= float(UINT64_MAX):
            raise ValueError('numeric value is too large')
        return int(fval)
    num = int(value[:i]) if i else 0
    if num > UINT64_MAX:
        raise ValueError('numeric value is too large')
    shift = str2shift(value[i:])
    if shift >= 64 or (num << shift) > UINT64_MAX:
        raise ValueError('numeric value is too large')
    return num << shift


def str2shift(buf):
    ends = 'BKMGTPEZ'
    if buf == '':
        return 0
    i = ends.find(buf[0].upper())
    if i < 0:
        raise ValueError("invalid numeric suffix '%s'" % buf)
    rest = buf[1:].upper()
    if rest == '' or (buf[0].upper() != 'B' and rest in ('B', 'IB')):
        return 10 * i
    raise ValueError("invalid numeric suffix '%s'" % buf)


def nicebytes(num):
    units = ['B', 'K', 'M', 'G', 'T', 'P', 'E']
    n, i = num, 0
    while n >= 1024 and i < 6:
        n //= 1024
        i += 1
    if i == 0 or num % (1 << (10 * i)) == 0:
        return '%d%s' % (n, units[i])
    s = ''
    for prec in (2, 1, 0):
        s = '%.*f%s' % (prec, num / float(1 << (10 * i)), units[i])
        if len(s) <= 5:
            break
    return s


def is_p2(n):
    return n > 0 and (n & (n - 1)) == 0


# ---------------------------------------------------------------------------
# Names (module/zcommon/zfs_namecheck.c, libzfs_dataset.c zfs_validate_name)

def _valid_char(c):
    return (('a' <= c <= 'z') or ('A' <= c <= 'Z') or ('0' <= c <= '9')
            or c in '-_.: ')


def entity_namecheck(path):
    """Returns None or the reason string zfs_validate_name() would give."""
    if len(path.encode()) >= MAXNAMELEN:
        return 'name is too long'
    if path.startswith('/'):
        return 'leading slash in name'
    if path == '':
        return "empty component or misplaced '@' or '#' delimiter in name"
    start = 0
    found_delim = False
    while True:
        end = start
        while end < len(path) and path[end] not in '/@#':
            end += 1
        if end == len(path) and path[end - 1] == '/':
            return 'trailing slash in name'
        for c in path[start:end]:
            if not _valid_char(c) and c != '%':
                return "invalid character '%s' in name" % c
        comp = path[start:end]
        if end == len(path) or path[end] == '/':
            if comp == '.':
                return "self reference, '.' is found in name"
            if comp == '..':
                return "parent reference, '..' is found in name"
        if end < len(path) and path[end] in '@#':
            if found_delim:
                return "multiple '@' and/or '#' delimiters in name"
            found_delim = True
        if start == end:
            return "empty component or misplaced '@' or '#' delimiter in name"
        if end == len(path):
            return None
        if path[end] == '/' and found_delim:
            return 'trailing slash in name'
        start = end + 1


def validate_name(path, types, modifying):
    """zfs_validate_name(): None if valid, else the reason."""
    if not (types & SNAP) and '@' in path:
        return "snapshot delimiter '@' is not expected here"
    if types == SNAP and '@' not in path:
        return "missing '@' delimiter in snapshot name"
    if '#' in path:
        return "bookmark delimiter '#' is not expected here"
    if modifying and '%' in path:
        return 'invalid character % in name'
    return entity_namecheck(path)


def pool_namecheck(pool, isopen):
    """zpool_name_valid(): None if valid, else the reason."""
    if len(pool.encode()) >= MAXNAMELEN - 2 - len('$ORIGIN') * 2:
        return 'name is too long'
    for c in pool:
        if not _valid_char(c):
            return "invalid character '%s' in pool name" % c
    if not pool or not (('a' <= pool[0] <= 'z') or ('A' <= pool[0] <= 'Z')):
        return 'name must begin with a letter'
    if pool in ('mirror', 'raidz', 'draid'):
        return 'name is reserved'
    if not isopen and (pool.startswith(('mirror', 'raidz', 'draid', 'spare'))
                       or pool == 'log'):
        return 'name is reserved'
    return None


def parent_name(name):
    if '@' in name:
        return name.split('@', 1)[0]
    if '/' in name:
        return name.rsplit('/', 1)[0]
    return None


def pool_of(name):
    for i, c in enumerate(name):
        if c in '/@#':
            return name[:i]
    return name


# ---------------------------------------------------------------------------
# State

class State:
    def __init__(self, sdir):
        self.dir = sdir
        # marshal, not json: importing json (and the re it needs) would be
        # half of every call's run time
        self.path = os.path.join(sdir, 'state.marshal')
        self.lockfd = None
        self.data = None
        self.dirty = False

    def lock(self, create=True):
        if create:
            os.makedirs(self.dir, exist_ok=True)
        self.lockfd = os.open(os.path.join(self.dir, 'lock'),
                              os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        fcntl.flock(self.lockfd, fcntl.LOCK_EX)
        try:
            with open(self.path, 'rb') as f:
                self.data = marshal.load(f)
        except FileNotFoundError:
            self.data = {'version': 1, 'txg': 1, 'objset': 1, 'pools': {}, 'ds': {}}

    def save(self):
        if not self.dirty:
            return
        tmp = self.path + '.tmp'
        # rename makes the change atomic for every other process; no fsync:
        # a test run does not outlive a crash of its machine
        with open(tmp, 'wb') as f:
            marshal.dump(self.data, f)
        os.rename(tmp, self.path)
        self.dirty = False

    def unlock(self):
        if self.lockfd is not None:
            os.close(self.lockfd)
            self.lockfd = None

    # dataset helpers
    @property
    def ds(self):
        return self.data['ds']

    def get(self, name):
        return self.ds.get(name)

    def typebit(self, name):
        return TYPE_BITS[self.ds[name]['type']]

    def next_txg(self):
        self.data['txg'] += 1
        self.dirty = True
        return self.data['txg']

    def new_ds(self, name, dtype, **fields):
        d = {'type': dtype, 'guid': guid_bits(63) | 1,
             'createtxg': self.next_txg(), 'creation': int(time.time()),
             'objsetid': self.data['objset'] + 1, 'props': {}}
        self.data['objset'] += 1
        d.update(fields)
        self.ds[name] = d
        self.dirty = True
        return d

    def children(self, name):
        """Direct child filesystems/volumes, sorted by name."""
        pre = name + '/'
        # names with '%' (a receive's hidden X/%recv) are not listed
        return sorted(n for n in self.ds
                      if n.startswith(pre) and '/' not in n[len(pre):] and '@' not in n
                      and '%' not in n)

    def snapshots(self, name):
        pre = name + '@'
        return sorted((n for n in self.ds if n.startswith(pre)),
                      key=lambda n: self.ds[n]['createtxg'])

    def clones(self, snap):
        return sorted(n for n, d in self.ds.items() if d.get('origin') == snap)


def guid_bits(n):
    """n random bits (random.getrandbits without importing random)."""
    return int.from_bytes(os.urandom(8), 'little') & ((1 << n) - 1)


FICLONE = 0x40049409     # linux/fs.h: _IOW(0x94, 9, int)


def copy_sparse(src, dst):
    """What cp --reflink=auto --sparse=always gives, without a process: a
    reflink (FICLONE) where the file system shares blocks, else a copy of
    src's data regions, holes kept.  Raises OSError on failure."""
    fin = os.open(src, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fout = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            try:
                fcntl.ioctl(fout, FICLONE, fin)
                return
            except OSError as e:
                if e.errno not in NO_REFLINK:
                    raise
            size = os.fstat(fin).st_size
            os.ftruncate(fout, size)
            off = 0
            while off < size:
                try:
                    data = os.lseek(fin, off, os.SEEK_DATA)
                except OSError as e:
                    if e.errno == errno.ENXIO:     # only a hole is left
                        break
                    raise
                off = os.lseek(fin, data, os.SEEK_HOLE)
                copy_range(fin, fout, data, off)
        finally:
            os.close(fout)
    finally:
        os.close(fin)


# FICLONE's "not here": no reflinks on this file system, or not across two
NO_REFLINK = (errno.EOPNOTSUPP, errno.ENOTTY, errno.EINVAL, errno.EXDEV, errno.EPERM)


def copy_range(fin, fout, start, end):
    """Bytes [start, end) of fin to the same offsets of fout."""
    pos = start
    while pos < end:
        try:
            n = os.copy_file_range(fin, fout, end - pos, pos, pos)
        except OSError as e:
            if e.errno not in (errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
                raise
            n = 0
        if n == 0:      # no in-kernel copy here (or EOF): read and write
            buf = os.pread(fin, min(end - pos, 1 << 20), pos)
            if not buf:
                return
            n = os.pwrite(fout, buf, pos)
        pos += n


def snapdir(st):
    p = os.path.join(st.dir, 'snapdata')
    os.makedirs(p, exist_ok=True)
    return p


def zvol_dir():
    return os.environ.get('QVM_ZVOL_DIR') or '/dev/zvol'


def device_path(name):
    return os.path.join(zvol_dir(), name)


def allocated(path):
    try:
        s = os.stat(path)
    except OSError:
        return 0
    if not os.path.isfile(path):
        return 0
    return s.st_blocks * 512


# ---------------------------------------------------------------------------
# Devices

def _materialize(path, size, src):
    """Create the device file at path: sparse, size bytes, content from src."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + '.zfs-double-tmp'
    try:
        if src and os.path.isfile(src):
            copy_sparse(src, tmp)
            with open(tmp, 'r+b') as f:
                f.truncate(size)
        else:
            with open(tmp, 'wb') as f:
                f.truncate(size)
    except (OSError, OverflowError) as e:
        # a volume larger than a file here can be (zfs itself made it):
        # no device node, as when udev fails, and said so
        try:
            os.unlink(tmp)
        except OSError:
            pass
        err('zfs double: no device for %s: %d bytes cannot be a file here (%s)'
            % (path, size, e))
        raise OSError(str(e))
    os.rename(tmp, path)


def make_device(st, name, size, src=None):
    mode = os.environ.get('ZFS_DOUBLE_DEVICE', 'normal') or 'normal'
    path = device_path(name)
    try:
        if mode == 'normal':
            _materialize(path, size, src)
        elif mode == 'never':
            pass
        elif mode == 'unopenable':
            os.makedirs(path, exist_ok=True)
        elif mode.startswith('late:'):
            spawn_late(st, name, st.ds[name]['guid'], size, src,
                       float(mode.split(':', 1)[1]))
        else:
            err('zfs double: unknown ZFS_DOUBLE_DEVICE=%s, creating device now' % mode)
            _materialize(path, size, src)
    except OSError:
        pass  # udev failures are not zfs's errors


def spawn_late(st, name, guid, size, src, delay):
    """Create the device after delay seconds, from a detached grandchild."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        os.waitpid(pid, 0)
        return
    try:
        os.setsid()
        if os.fork():
            os._exit(0)
        fd = os.open(os.devnull, os.O_RDWR)
        for i in (0, 1, 2):
            os.dup2(fd, i)
        os.closerange(3, 65536)
        time.sleep(delay)
        if not os.path.isdir(st.dir):
            os._exit(0)          # the test that made it is gone
        late = State(st.dir)
        late.lock(create=False)
        d = late.get(name)
        path = device_path(name)
        if d and d['guid'] == guid and not os.path.lexists(path):
            _materialize(path, d.get('volsize', size), src)
        late.unlock()
    except BaseException:
        pass
    os._exit(0)


def remove_device(name):
    """Remove the device, and its directories left empty (as udev does)."""
    path = device_path(name)
    for p in (path, path + '.zfs-double-tmp'):
        try:
            if os.path.isdir(p) and not os.path.islink(p):
                import shutil
                shutil.rmtree(p)
            elif os.path.lexists(p):
                os.unlink(p)
        except OSError:
            pass
    top = os.path.abspath(zvol_dir())
    d = os.path.dirname(os.path.abspath(path))
    while d != top and d.startswith(top + os.sep):
        try:
            os.rmdir(d)
        except OSError:
            break
        d = os.path.dirname(d)


def volume_source(st, name):
    """The file holding a volume's current content, or None for zeros."""
    path = device_path(name)
    if os.path.isfile(path):
        return path
    d = st.ds[name]
    seed = d.get('seed')
    if seed and os.path.isfile(os.path.join(st.dir, seed)):
        return os.path.join(st.dir, seed)
    return None


# ---------------------------------------------------------------------------
# Failure injection

INJECT = None  # KIND for this invocation, or None


def setup_injection(st, subcmd):
    global INJECT
    kind = None
    spec = os.environ.get('ZFS_DOUBLE_FAIL', '')
    for item in filter(None, (s.strip() for s in spec.split(','))):
        cmd, _, k = item.partition(':')
        cmd = {'snap': 'snapshot', 'recv': 'receive'}.get(cmd, cmd)
        if cmd == subcmd:
            kind = k or DEFAULT_KIND.get(subcmd, 'perm')
    callspec = os.environ.get('ZFS_DOUBLE_FAIL_CALL', '')
    cpath = os.path.join(st.dir, 'calls')
    try:
        with open(cpath) as f:
            n = int(f.read().strip() or 0)
    except (OSError, ValueError):
        n = 0
    n += 1
    with open(cpath, 'w') as f:
        f.write('%d\n' % n)
    if callspec:
        want, _, k = callspec.partition(':')
        try:
            if int(want) == n:
                kind = k or DEFAULT_KIND.get(subcmd, 'perm')
        except ValueError:
            pass
    if kind is None and subcmd in MUTATING and \
            os.environ.get('ZFS_DOUBLE_PERM_DENIED', '') not in ('', '0'):
        kind = 'perm'
    if kind is not None and kind not in KINDS:
        err('zfs double: unknown failure kind %r, using perm' % kind)
        kind = 'perm'
    INJECT = kind


def ioctl(action):
    """The point where the kernel could refuse: raise the injected failure."""
    if INJECT:
        raise ZError(action, KINDS[INJECT])


# ---------------------------------------------------------------------------
# getopt(3) as glibc does it: permutes, stops at "--"

def getopt(args, optstring):
    """Returns (events, operands); events are (opt, arg), or ('?', c) /
    (':', c) for an unknown option / missing argument (then it stops)."""
    colon = optstring.startswith(':')
    spec = optstring[1:] if colon else optstring
    takes = {}
    i = 0
    while i < len(spec):
        c = spec[i]
        has = i + 1 < len(spec) and spec[i + 1] == ':'
        takes[c] = has
        i += 2 if has else 1
    events, operands = [], []
    i = 0
    while i < len(args):
        a = args[i]
        if a == '--':
            operands += args[i + 1:]
            break
        if a.startswith('-') and len(a) > 1:
            j = 1
            while j < len(a):
                c = a[j]
                if c not in takes:
                    events.append(('?', c))
                    return events, operands
                if takes[c]:
                    if j + 1 < len(a):
                        events.append((c, a[j + 1:]))
                    elif i + 1 < len(args):
                        i += 1
                        events.append((c, args[i]))
                    else:
                        events.append((':' if colon else '?', c))
                        return events, operands
                    break
                events.append((c, None))
                j += 1
        else:
            operands.append(a)
        i += 1
    return events, operands


def parseprop(props, arg):
    """zfs_main.c parseprop(): False after printing the problem."""
    if '=' not in arg:
        err("missing '=' for property=value argument")
        return False
    name, val = arg.split('=', 1)
    if name in props:
        err("property '%s' specified multiple times" % name)
        return False
    props[name] = val
    return True


# ---------------------------------------------------------------------------
# Property values

def parse_value(p, raw, errbuf, dtype):
    """zprop_parse_value(): the stored form of a property value."""
    if p.kind == 'string':
        if not isinstance(raw, str):
            raise ZError(errbuf, "'%s' must be a string" % p.name)
        if len(raw) >= 8192:
            raise ZError(errbuf, "'%s' is too long" % p.name)
        return raw
    if p.kind == 'number':
        if isinstance(raw, int):
            return raw
        if raw == 'none':
            if p.name in NONE_WHEN_MAX:
                return UINT64_MAX
            return 0
        if raw == 'auto':
            if p.name == 'refreservation':
                if not dtype & VOL:
                    raise ZError(errbuf, "'%s=auto' only allowed on volumes" % p.name)
                return 'auto'
            raise ZError(errbuf, "'auto' is invalid value for '%s'" % p.name)
        try:
            v = nicestrtonum(raw)
        except ValueError as e:
            raise ZError(errbuf, str(e))
        if v == 0 and p.name in ('quota', 'refquota'):
            raise ZError(errbuf, "use 'none' to disable quota/refquota")
        return v
    # index
    if raw not in p.index:
        raise ZError(errbuf, "'%s' must be one of '%s'" % (p.name, p.values))
    return canonical_index(p, raw)


def canonical_index(p, raw):
    """zprop_index_to_string() returns the first name with the same value."""
    same = {'acltype': {'disabled': 'off', 'noacl': 'off', 'posixacl': 'posix'},
            'aclinherit': {'secure': 'restricted'},
            'xattr': {'dir': 'on'},
            'volmode': {'geom': 'full'}}
    return same.get(p.name, {}).get(raw, raw)


def valid_proplist(dtype, props, existing, errbuf):
    """zfs_valid_proplist(): returns {name: stored value} or raises ZError.

    dtype is the type bit of the dataset the properties are for; existing is
    the dataset record being changed (or the snapshot being cloned), None when
    creating a new dataset."""
    out = {}
    for name, raw in props.items():
        p = prop_lookup(name)
        if p is None and prop_user(name):
            if not isinstance(raw, str):
                raise ZError(errbuf, "'%s' must be a string" % name)
            if len(name) >= 256:
                raise ZError(errbuf, "property name '%s' is too long" % name)
            out[name] = raw
            continue
        if dtype == SNAP:
            raise ZError(errbuf, 'this property can not be modified for snapshots')
        if p is None and prop_userquota(name):
            raise ZError(errbuf, "'%s' has an invalid user/group name" % name)
        if p is None and name.startswith(('written@', 'written#')):
            raise ZError(errbuf, "'%s' is readonly" % name)
        if p is None or p.hidden:
            raise ZError(errbuf, "invalid property '%s'" % name)
        if not p.types & dtype:
            raise ZError(errbuf, "'%s' does not apply to datasets of this type" % name)
        if p.readonly and not (p.setonce and existing is None):
            raise ZError(errbuf, "'%s' is readonly" % name)
        val = parse_value(p, raw, errbuf, dtype)
        if p.name in ('volblocksize', 'recordsize'):
            if val < SPA_MINBLOCKSIZE or val > SPA_MAXBLOCKSIZE or not is_p2(val):
                raise ZError(errbuf, "'%s' must be power of 2 from 512B to %s"
                             % (name, nicebytes(SPA_MAXBLOCKSIZE)))
        if p.name == 'special_small_blocks' and val != 0 and \
                (val < SPA_MINBLOCKSIZE or val > SPA_MAXBLOCKSIZE or not is_p2(val)):
            raise ZError(errbuf, "invalid '%s=%d' property: must be zero or a power "
                         "of 2 from 512B to %s" % (name, val, nicebytes(SPA_MAXBLOCKSIZE)))
        if p.name == 'mountpoint' and val not in ('none', 'legacy') and \
                not val.startswith('/'):
            raise ZError(errbuf, "'%s' must be an absolute path, 'none', or 'legacy'"
                         % name)
        if p.name == 'keylocation' and val not in ('none', 'prompt') and \
                not val.startswith(('file:///', 'https://', 'http://')):
            raise ZError(errbuf, 'invalid keylocation')
        if dtype == VOL and existing is not None and p.name == 'volsize':
            bs = existing.get('volblocksize', ZVOL_DEFAULT_BLOCKSIZE)
            if val % bs != 0:
                raise ZError(errbuf, "'%s' must be a multiple of volume block size (%s)"
                             % (name, nicebytes(bs)))
            if val == 0:
                raise ZError(errbuf, "'%s' cannot be zero" % name)
        out[p.name] = val
    return out


def resv_for(volsize, volblocksize, copies=1):
    """zvol_volsize_to_reservation() for a pool without raidz."""
    nblocks = volsize // volblocksize
    size = nblocks * volblocksize
    numdb = 7
    while nblocks > 1:
        nblocks += 1024 - 1
        nblocks //= 1024
        numdb += nblocks
    numdb *= min(3, copies + 1)
    size *= copies
    numdb *= 1 << 17
    return size + numdb


# ---------------------------------------------------------------------------
# Reading properties

def own_value(d, pname):
    """(value, 'local' | 'received' | None) set on the dataset record d itself:
    a local value wins over a received one, which an explicit inherit (zfs
    inherit, or zfs receive -x) hides."""
    if d is None:
        return None, None
    if pname in d['props']:
        return d['props'][pname], 'local'
    recvd = d.get('recvd')
    if recvd and pname in recvd and pname not in d.get('xinherit', ()):
        return recvd[pname], 'received'
    return None, None


def effective(st, name, pname):
    """(value, source) of an inheritable/default property; source is 'local',
    'default' or the name it is inherited from."""
    p = PROP.get(pname)
    cur = name
    first = True
    while cur is not None:
        d = st.ds.get(cur)
        v, how = own_value(d, pname)
        if how is not None:
            if first:
                return v, how
            if pname == 'mountpoint' and v not in ('none', 'legacy'):
                base = cur.split('@')[0]
                v = v.rstrip('/') + name.split('@')[0][len(base):]
                if v == '':
                    v = '/'
            return v, cur
        if p is not None and not p.inheritable:
            break
        if p is None and not prop_user(pname):
            break
        first = False
        cur = parent_name(cur)
    if pname == 'mountpoint':
        return '/' + name.split('@')[0], 'default'
    return (p.default if p else None), 'default'


def space(st, name):
    """(used, referenced) in bytes."""
    d = st.ds[name]
    if d['type'] == 'snapshot':
        data = d.get('data')
        refer = allocated(os.path.join(st.dir, data)) if data else FS_REFER
        return 0, refer
    if d['type'] == 'volume':
        refer = allocated(device_path(name)) if not d.get('recv') else 0
        resv = own_value(d, 'refreservation')[0] or 0
        return max(refer, resv if isinstance(resv, int) else 0), refer
    used = FS_REFER
    for c in st.children(name):
        used += space(st, c)[0]
    return used, FS_REFER


def pool_used(st, pool):
    return space(st, pool)[0] if pool in st.ds else 0


def get_prop(st, name, pname, literal):
    """zfs_prop_get(): (value string, source string) or None when the property
    does not apply to this dataset."""
    d = st.ds[name]
    t = TYPE_BITS[d['type']]
    p = PROP.get(pname)
    if p is None:                   # user property
        v, src = effective(st, name, pname)
        if v is None:
            return '-', '-'
        return v, fmt_source(name, src)
    head = t
    if t == SNAP:
        head = TYPE_BITS[st.ds[name.split('@')[0]]['type']]
        if not (p.types & SNAP) and not (p.types & head and pname == 'volsize'):
            return None
        if pname == 'volsize' and head != VOL:
            return None
    elif not p.types & t:
        return None
    used, refer = space(st, name)
    n = None
    src = '-'
    if pname == 'type':
        return d['type'], '-'
    if pname == 'name':
        return name, '-'
    if pname == 'creation':
        if literal:
            return str(d['creation']), '-'
        return time.strftime('%a %b %e %k:%M %Y', time.localtime(d['creation'])), '-'
    if pname in ('used', 'logicalused'):
        n = used
    elif pname == 'available':
        pool = pool_of(name)
        n = max(0, POOL_SIZE - pool_used(st, pool))
        if t == VOL:
            resv = own_value(d, 'refreservation')[0] or 0
            if isinstance(resv, int) and resv > refer:
                n += resv - refer
    elif pname in ('referenced', 'logicalreferenced', 'written', 'usedbydataset'):
        n = refer
    elif pname in ('usedbysnapshots',):
        n = 0
    elif pname == 'usedbychildren':
        n = used - refer if t == FS else 0
    elif pname == 'usedbyrefreservation':
        resv = own_value(d, 'refreservation')[0] or 0
        n = max(0, resv - refer) if t == VOL and isinstance(resv, int) else 0
    elif pname in ('compressratio', 'refcompressratio'):
        return ('1.00' if literal else '1.00x'), '-'
    elif pname == 'mounted':
        return 'yes', '-'
    elif pname == 'origin':
        return (d['origin'], '-') if d.get('origin') else None
    elif pname == 'clones':
        clones = st.clones(name)
        return (','.join(clones), '-') if clones else None
    elif pname in ('guid', 'createtxg', 'objsetid'):
        return str(d[pname]), '-'
    elif pname == 'userrefs':
        return '0', '-'
    elif pname == 'defer_destroy':
        return 'off', '-'
    elif pname == 'volsize':
        n, src = d['volsize'], 'local'
    elif pname == 'volblocksize':
        n = d['volblocksize']
    elif pname in ('filesystem_count', 'snapshot_count'):
        return 'none', '-'
    elif pname in ('version', 'utf8only', 'normalization', 'casesensitivity'):
        v = d['props'].get(pname, p.default)
        return v, '-'
    elif pname == 'encryption':
        c = crypt_of(st, name)
        return (c['alg'], '-') if c else ('off', 'default')
    elif pname == 'keyformat':
        c = crypt_of(st, name)
        return (c['keyformat'], '-') if c else ('none', 'default')
    elif pname == 'pbkdf2iters':
        c = crypt_of(st, name)
        n, src = (c.get('iters', 0), '-') if c else (0, 'default')
    elif pname == 'receive_resume_token':
        tok = resume_token_of(st, name)
        return (tok, '-') if tok else None
    else:
        v, s = effective(st, name, pname)
        src = fmt_source(name, s)
        if p.kind != 'number':
            return v, src
        n = v
    if pname in NONE_WHEN_MAX and n == UINT64_MAX:
        return 'none', src
    if literal:
        return str(n), src
    if pname in NONE_WHEN_ZERO and n == 0:
        return 'none', src
    if pname in SIZE_PROPS:
        return nicebytes(n), src
    return str(n), src


def fmt_source(name, src):
    if src == 'local':
        return 'local'
    if src == 'default':
        return 'default'
    if src == 'received':
        return 'received'
    if src is None or src == '-':
        return '-'
    return 'inherited from %s' % src


# ---------------------------------------------------------------------------
# Opening datasets (zfs_open)

def zfs_open(st, name, types):
    action = "cannot open '%s'" % name
    why = validate_name(name, types, False)
    if why:
        raise ZError(action, why)
    d = st.get(name)
    if d is None:
        raise ZError(action, 'dataset does not exist')
    if not TYPE_BITS[d['type']] & types:
        raise ZError(action, 'operation not applicable to datasets of this type')
    return d


def zpool_open(st, pool):
    why = pool_namecheck(pool, True)
    if why:
        raise ZError("cannot open '%s'" % pool, why)
    if pool not in st.data['pools']:
        raise ZError("cannot open '%s'" % pool, 'no such pool')


def check_parents(st, path, accept_ancestor=False):
    """libzfs_dataset.c check_parents(); returns the existing prefix."""
    errbuf = "cannot create '%s'" % path
    parent = parent_name(path) if '@' not in path else None
    if parent is None:
        raise ZError(errbuf, 'missing dataset name')
    pool = pool_of(parent)
    if pool not in st.data['pools']:
        raise ZError(errbuf, "no such pool '%s'" % pool)
    while parent not in st.ds:
        if accept_ancestor:
            parent = parent_name(parent)
            if parent is None:
                raise ZError(errbuf, "no such pool '%s'" % pool)
        else:
            raise ZError(errbuf, 'parent does not exist')
    if st.ds[parent]['type'] != 'filesystem':
        raise ZError(errbuf, 'parent is not a filesystem')
    return parent


def create_ancestors(st, path):
    errbuf = "cannot create '%s'" % path
    if path.split('@')[0].count('/') >= MAX_NESTING:
        raise ZError(errbuf, 'maximum name nesting depth exceeded')
    prefix = check_parents(st, path, accept_ancestor=True)
    parts = path.split('/')
    for i in range(prefix.count('/') + 2, len(parts)):
        anc = '/'.join(parts[:i])
        if anc in st.ds:
            continue
        try:
            ioctl("cannot create '%s'" % anc)
        except ZError as e:
            err(str(e))
            raise ZError(errbuf, "failed to create ancestor '%s'" % anc)
        st.new_ds(anc, 'filesystem')


# ---------------------------------------------------------------------------
# zfs create

def do_create(st, args):
    props = {}
    dtype = FS
    volsize = None
    noreserve = bflag = parents = dryrun = nomount = verbose = parseable = False
    events, argv = getopt(args, ':PV:b:nso:puv')
    for c, a in events:
        if c == 'V':
            dtype = VOL
            try:
                volsize = nicestrtonum(a)
            except ValueError as e:
                err("bad volume size '%s': %s" % (a, e))
                raise Exit(1)
            props['volsize'] = volsize
        elif c == 'P':
            verbose = parseable = True
        elif c == 'p':
            parents = True
        elif c == 'b':
            bflag = True
            try:
                props['volblocksize'] = nicestrtonum(a)
            except ValueError as e:
                err("bad volume block size '%s': %s" % (a, e))
                raise Exit(1)
        elif c == 'n':
            dryrun = True
        elif c == 'o':
            if not parseprop(props, a):
                raise Exit(1)
        elif c == 's':
            noreserve = True
        elif c == 'u':
            nomount = True
        elif c == 'v':
            verbose = True
        elif c == ':':
            raise Usage('missing size argument')
        else:
            raise Usage("invalid option '%s'" % a)
    if (bflag or noreserve) and dtype != VOL:
        raise Usage("'-s' and '-b' can only be used when creating a volume")
    if nomount and dtype != FS:
        raise Usage("'-u' can only be used when creating a filesystem")
    if not argv:
        raise Usage('missing %s argument' % TYPE_NAMES[dtype])
    if len(argv) > 1:
        raise Usage('too many arguments')
    name = argv[0]
    errbuf = ("cannot verify '%s'" if dryrun else "cannot create '%s'") % name
    real = None
    if dryrun or dtype == VOL:
        zpool_open(st, name.split('/', 1)[0])
        real = valid_proplist(dtype, props, None, errbuf)
    if dtype == VOL:
        vbs = real.get('volblocksize', ZVOL_DEFAULT_BLOCKSIZE)
        if volsize % vbs:
            volsize = (volsize + vbs - 1) // vbs * vbs
            props['volsize'] = volsize
        if not noreserve and 'refreservation' not in props:
            props['refreservation'] = resv_for(volsize, vbs)
    if parents and validate_name(name, dtype, False) is None:
        if name in st.ds:
            return 0
        if verbose:
            print(('create_ancestors\t%s' if parseable else
                   'would create ancestors of %s' if dryrun else
                   'create ancestors of %s') % name)
        if not dryrun:
            create_ancestors(st, name)
    if verbose:
        print(('create\t%s' if parseable else 'would create %s' if dryrun
               else 'create %s') % name)
        for k, v in props.items():
            print(('property\t%s\t%s' if parseable else '\t%s=%s') % (k, v))
    if dryrun:
        return 0
    zfs_create(st, name, dtype, props)
    return 0


# ---------------------------------------------------------------------------
# Encryption (lib/libzfs/libzfs_crypto.c: zfs_crypto_create): a dataset's
# record holds 'crypt' = {'alg', 'keyformat', 'root'} when it is encrypted;
# snapshots have their dataset's, clones their origin's, children their
# parent's unless they are a new encryption root.  Keys are always loaded;
# the key material is read and checked, not kept.

WRAPPING_KEY_LEN = 32
MIN_PASSPHRASE_LEN, MAX_PASSPHRASE_LEN = 8, 512
CRYPT_PROPS = ('encryption', 'keyformat', 'keylocation', 'pbkdf2iters')


def crypt_of(st, name):
    """The 'crypt' of a dataset or snapshot, or None (unencrypted)."""
    d = st.ds.get(name.split('@')[0]) if name else None
    return d.get('crypt') if d else None


def key_material(keyformat, keylocation, errbuf):
    """get_key_material(): reads the key (prompt: a non-terminal stdin;
    file:///PATH) and checks it as validate_key() does."""
    if keylocation == 'prompt':
        if os.isatty(0):
            err('zfs test double: prompting for a key on a terminal is not implemented')
            raise Exit(2)
        f = open(0, 'rb', closefd=False)
    elif keylocation.startswith('file://'):
        try:
            f = open(keylocation[len('file://'):], 'rb')
        except OSError as e:
            raise ZError(errbuf, 'Failed to open key material file: %s' % os.strerror(e.errno))
    else:
        err("zfs test double: keylocation '%s' is not implemented" % keylocation)
        raise Exit(2)
    with f:
        if keyformat == 'raw':      # raw keys may hold newlines: no getline()
            key = f.read(WRAPPING_KEY_LEN + 1)
        else:
            key = f.readline()
            if key.endswith(b'\n'):
                key = key[:-1]
    n = len(key)
    if keyformat == 'raw' and n != WRAPPING_KEY_LEN:
        raise ZError(errbuf, 'Raw key too %s (expected %u).'
                     % ('short' if n < WRAPPING_KEY_LEN else 'long', WRAPPING_KEY_LEN))
    if keyformat == 'hex':
        if n != 2 * WRAPPING_KEY_LEN:
            raise ZError(errbuf, 'Hex key too %s (expected %u).'
                         % ('short' if n < 2 * WRAPPING_KEY_LEN else 'long', WRAPPING_KEY_LEN))
        if any(c not in b'0123456789abcdefABCDEF' for c in key):
            raise ZError(errbuf, 'Invalid hex character detected.')
    if keyformat == 'passphrase':
        if n > MAX_PASSPHRASE_LEN:
            raise ZError(errbuf, 'Passphrase too long (max %u).' % MAX_PASSPHRASE_LEN)
        if n < MIN_PASSPHRASE_LEN:
            raise ZError(errbuf, 'Passphrase too short (min %u).' % MIN_PASSPHRASE_LEN)


def crypt_create(st, name, real, errbuf):
    """zfs_crypto_create(): takes the encryption properties out of real (the
    checked -o values; keylocation stays there, set on a new encryption
    root) and returns the new dataset's 'crypt', or None."""
    pcrypt = crypt_of(st, parent_name(name))
    enc = real.pop('encryption', None)
    keyformat = real.pop('keyformat', None)
    iters = real.pop('pbkdf2iters', None)
    if enc == 'off' and pcrypt is not None:
        raise ZError(errbuf, 'Invalid encryption value. Dataset must be encrypted.')
    if enc is None and pcrypt is not None and keyformat is None:
        if 'keylocation' in real:
            err('zfs test double: keylocation of a dataset that inherits its key is not implemented')
            raise Exit(2)
        return dict(pcrypt)
    alg = enc if enc is not None else (pcrypt['alg'] if pcrypt else 'off')
    if alg == 'off':
        if keyformat is not None or iters is not None or 'keylocation' in real:
            raise ZError(errbuf, 'Encryption must be turned on to set encryption properties.')
        return None
    if alg == 'on':
        alg = 'aes-256-gcm'
    if keyformat is None or keyformat == 'none':
        if pcrypt is None:
            raise ZError(errbuf, 'Keyformat required for new encryption root.')
        if 'keylocation' in real or iters is not None:
            err('zfs test double: key properties of a dataset that inherits its key '
                'are not implemented')
            raise Exit(2)
        return {'alg': alg, 'keyformat': pcrypt['keyformat'], 'root': pcrypt['root']}
    if iters is not None and keyformat != 'passphrase':
        raise ZError(errbuf, 'Encryption property pbkdf2iters only applies to passphrase keys.')
    real.setdefault('keylocation', 'prompt')
    key_material(keyformat, real['keylocation'], errbuf)
    return {'alg': alg, 'keyformat': keyformat, 'root': name,
            'iters': (iters or 350000) if keyformat == 'passphrase' else 0}


def zfs_create(st, name, dtype, props):
    errbuf = "cannot create '%s'" % name
    why = validate_name(name, dtype, True)
    if why:
        raise ZError(errbuf, why)
    if name.count('/') >= MAX_NESTING:
        raise ZError(errbuf, 'maximum name nesting depth exceeded')
    check_parents(st, name)
    if name in st.ds:
        raise ZError(errbuf, 'dataset already exists')
    zpool_open(st, pool_of(name))
    real = valid_proplist(dtype, props, None, errbuf)
    if dtype == VOL:
        size = real.get('volsize')
        if size is None:
            raise ZError(errbuf, 'missing volume size')
        bs = real.get('volblocksize', ZVOL_DEFAULT_BLOCKSIZE)
        if size == 0:
            raise ZError(errbuf, 'volume size cannot be zero')
        if size % bs:
            raise ZError(errbuf, 'volume size must be a multiple of volume block size')
    crypt = crypt_create(st, name, real, errbuf)
    ioctl(errbuf)
    if dtype == VOL:
        local = {k: v for k, v in real.items() if k not in ('volsize', 'volblocksize')}
        if local.get('refreservation') == 'auto':
            local['refreservation'] = resv_for(size, bs)
        d = st.new_ds(name, 'volume', volsize=size, volblocksize=bs, props=local)
    else:
        d = st.new_ds(name, 'filesystem', props=real)
    if crypt:
        d['crypt'] = crypt
    if dtype == VOL:
        make_device(st, name, size)


# ---------------------------------------------------------------------------
# zfs snapshot

def do_snapshot(st, args):
    props = {}
    recursive = multiple = False
    events, argv = getopt(args, 'ro:')
    for c, a in events:
        if c == 'o':
            if not parseprop(props, a):
                raise Exit(1)
        elif c == 'r':
            recursive = multiple = True
        else:
            raise Usage("invalid option '%s'" % a)
    if not argv:
        raise Usage('missing snapshot argument')
    if len(argv) > 1:
        multiple = True
    snaps = []
    for arg in argv:
        if '@' not in arg:
            raise Usage()
        ds, snapname = arg.split('@', 1)
        try:
            zfs_open(st, ds, FS | VOL)
        except ZError as e:
            err(str(e))
            raise Usage()
        todo = [ds]
        while todo:
            cur = todo.pop(0)
            snaps.append(cur + '@' + snapname)
            if recursive:
                todo = st.children(cur) + todo
    try:
        ret = snapshot_nvl(st, snaps, props)
    except ZError as e:
        err(str(e))
        ret = 1
    if ret and multiple:
        err('no snapshots were created')
    return 1 if ret else 0


def snapshot_nvl(st, snaps, props):
    for s in snaps:
        why = validate_name(s, SNAP, True)
        if why:
            raise ZError("cannot create snapshot '%s'" % s, why)
    zpool_open(st, pool_of(snaps[0]))
    real = valid_proplist(SNAP, props, None, 'cannot create snapshots ') if props else {}
    bases = [s.split('@')[0] for s in snaps]
    if len(set(bases)) != len(bases):
        raise ZError('cannot create snapshots ', 'multiple snapshots of same fs not allowed')
    if len({pool_of(s) for s in snaps}) > 1:
        raise ZError('cannot create snapshots ', 'operation crosses datasets or pools')
    failed = False
    for s in snaps:
        if INJECT:
            err("cannot create snapshot '%s': %s" % (s, KINDS[INJECT]))
            failed = True
        elif s in st.ds:
            err("cannot create snapshot '%s': dataset already exists" % s)
            failed = True
    if failed:
        return 1
    for s in snaps:
        base = s.split('@')[0]
        bd = st.ds[base]
        fields = {'props': dict(real)}
        if bd['type'] == 'volume':
            guid = guid_bits(48)
            rel = os.path.join('snapdata', '%x.img' % guid)
            dst = os.path.join(snapdir(st), '%x.img' % guid)
            src = volume_source(st, base)
            if src:
                copy_sparse(src, dst)
                with open(dst, 'r+b') as f:
                    f.truncate(bd['volsize'])
            else:
                with open(dst, 'wb') as f:
                    f.truncate(bd['volsize'])
            fields.update(data=rel, volsize=bd['volsize'],
                          volblocksize=bd['volblocksize'])
        st.new_ds(s, 'snapshot', **fields)
    return 0


# ---------------------------------------------------------------------------
# zfs clone

def do_clone(st, args):
    props = {}
    parents = False
    events, argv = getopt(args, 'o:p')
    for c, a in events:
        if c == 'o':
            if not parseprop(props, a):
                raise Exit(1)
        elif c == 'p':
            parents = True
        else:
            raise Usage("invalid option '%s'" % a)
    if len(argv) < 1:
        raise Usage('missing source dataset argument')
    if len(argv) < 2:
        raise Usage('missing target dataset argument')
    if len(argv) > 2:
        raise Usage('too many arguments')
    src, target = argv
    snap = zfs_open(st, src, SNAP)
    if parents and validate_name(target, FS | VOL, False) is None:
        if target in st.ds and st.typebit(target) & (FS | VOL):
            return 0
        create_ancestors(st, target)
    errbuf = "cannot create '%s'" % target
    why = validate_name(target, FS, True)
    if why:
        raise ZError(errbuf, why)
    check_parents(st, target)
    origin_type = st.ds[src.split('@')[0]]['type']
    dtype = VOL if origin_type == 'volume' else FS
    real = valid_proplist(dtype, props, snap, errbuf) if props else {}
    if real.get('refreservation') == 'auto':
        real['refreservation'] = resv_for(real.get('volsize', snap.get('volsize', 0)),
                                          snap.get('volblocksize', ZVOL_DEFAULT_BLOCKSIZE))
    if pool_of(target) != pool_of(src):
        raise ZError(errbuf, 'source and target pools differ')
    ioctl(errbuf)
    if target in st.ds:
        raise ZError(errbuf, 'dataset already exists')
    if any(k in real for k in CRYPT_PROPS):
        err('zfs test double: encryption properties of a clone are not implemented')
        raise Exit(2)
    crypt = crypt_of(st, src)      # a clone shares its origin's key
    if dtype == VOL:
        size = real.pop('volsize', snap['volsize'])
        d = st.new_ds(target, 'volume', volsize=size, volblocksize=snap['volblocksize'],
                      origin=src, seed=snap['data'], props=real)
        make_device(st, target, size, os.path.join(st.dir, snap['data']))
    else:
        d = st.new_ds(target, 'filesystem', origin=src, props=real)
    if crypt:
        d['crypt'] = dict(crypt)
    return 0


# ---------------------------------------------------------------------------
# zfs destroy

def iter_dependents(st, name):
    """zfs_iter_dependents(): post-order, the dataset itself excluded."""
    out = []

    def visit(n, first):
        t = st.ds[n]['type']
        if t in ('filesystem', 'volume'):
            for c in st.children(n):
                visit(c, False)
            for s in st.snapshots(n):
                visit(s, False)
        else:
            for c in st.clones(n):
                visit(c, False)
        if not first and n not in out:
            out.append(n)
    visit(name, True)
    return out


def check_dependents(st, target, recurse):
    """destroy_check_dependent(): False (after printing) if refused."""
    first = True
    ok = True
    ttype = st.ds[target]['type']
    for n in iter_dependents(st, target):
        direct = n.startswith(target) and len(n) > len(target) and n[len(target)] in '/@'
        if direct:
            if recurse:
                continue
            if first:
                err("cannot destroy '%s': %s has children" % (target, ttype))
                err("use '-r' to destroy the following datasets:")
                first = False
                ok = False
            err(n)
        else:
            if not recurse and ttype != 'snapshot':
                continue
            if first:
                err("cannot destroy '%s': %s has dependent clones" % (target, ttype))
                err("use '-R' to destroy the following datasets:")
                first = False
                ok = False
            err(n)
    return ok


def destroy_one(st, name):
    d = st.ds.pop(name)
    st.dirty = True
    if d['type'] == 'volume' and not d.get('recv'):
        remove_device(name)
    for f in (d.get('data'), (d.get('recv') or {}).get('data')):
        if f:
            try:
                os.unlink(os.path.join(st.dir, f))
            except OSError:
                pass
    # a hidden partial receive (X/%recv) goes with its dataset
    if name + '/%recv' in st.ds:
        destroy_one(st, name + '/%recv')


def destroy_snaps(st, snaps):
    """zfs_destroy_snaps_nvl(): returns 0 or 1 after printing."""
    if not snaps:
        return 0
    ret = 0
    for s in snaps:
        if INJECT:
            err('cannot destroy snapshot %s: %s' % (s, KINDS[INJECT]))
            ret = 1
        elif st.clones(s):
            err('cannot destroy snapshot %s: snapshot is cloned' % s)
            ret = 1
    if ret:
        return ret
    for s in snaps:
        destroy_one(st, s)
    return 0


def do_destroy(st, args):
    verbose = parsable = dryrun = defer = recurse = doclones = False
    events, argv = getopt(args, 'vpndfrR')
    for c, a in events:
        if c == 'v':
            verbose = True
        elif c == 'p':
            verbose = parsable = True
        elif c == 'n':
            dryrun = True
        elif c == 'd':
            defer = True
        elif c == 'f':
            pass
        elif c == 'r':
            recurse = True
        elif c == 'R':
            recurse = doclones = True
        else:
            raise Usage("invalid option '%s'" % a)
    if not argv:
        raise Usage('missing dataset argument')
    if len(argv) > 1:
        raise Usage('too many arguments')
    arg = argv[0]

    def announce(n):
        if verbose:
            if parsable:
                print('destroy\t%s' % n)
            elif dryrun:
                print('would destroy %s' % n)
            else:
                print('will destroy %s' % n)

    if '@' in arg:
        ds, spec = arg.split('@', 1)
        zfs_open(st, ds, FS | VOL)
        found = []
        bad = False

        def gather(cur):
            nonlocal bad
            snaps = st.snapshots(cur)
            short = [s.split('@', 1)[1] for s in snaps]
            for part in spec.split(','):
                if '%' in part:
                    lo, hi = part.split('%', 1)
                    i0 = short.index(lo) if lo in short else (0 if lo == '' else None)
                    i1 = short.index(hi) if hi in short else \
                        (len(short) - 1 if hi == '' else None)
                    if i0 is None or i1 is None:
                        continue
                    names = snaps[i0:i1 + 1]
                else:
                    names = [cur + '@' + part] if cur + '@' + part in st.ds else []
                for s in names:
                    if not doclones and not defer:
                        if not check_dependents(st, s, recurse):
                            bad = True
                    if s not in found:
                        found.append(s)
            if recurse:
                for c in st.children(cur):
                    gather(c)
        gather(ds)
        if bad:
            return 1
        if not found:
            err('could not find any snapshots to destroy; check snapshot names.')
            return 1
        for s in found:
            announce(s)
        if verbose:
            print('reclaim\t0' if parsable else
                  ('would reclaim 0B' if dryrun else 'will reclaim 0B'))
        if dryrun:
            return 0
        if doclones:
            batched = []
            for s in found:
                for dep in iter_dependents(st, s):
                    if st.ds[dep]['type'] == 'snapshot':
                        batched.append(dep)
                        continue
                    if destroy_snaps(st, batched):
                        return 1
                    batched = []
                    try:
                        ioctl("cannot destroy '%s'" % dep)
                    except ZError as e:
                        err(str(e))
                        return 1
                    destroy_one(st, dep)
            if destroy_snaps(st, batched):
                return 1
        return destroy_snaps(st, found)

    d = zfs_open(st, arg, FS | VOL)
    if not recurse and '/' not in arg and d['type'] == 'filesystem':
        err("cannot destroy '%s': operation does not apply to pools" % arg)
        err("use 'zfs destroy -r %s' to destroy all datasets in the pool" % arg)
        err("use 'zpool destroy %s' to destroy the pool itself" % arg)
        return 1
    if not doclones and not check_dependents(st, arg, recurse):
        return 1
    error = False
    batched = []

    def callback(n):
        nonlocal batched, error
        announce(n)
        if '/' not in n and st.ds[n]['type'] == 'filesystem':
            return True
        if dryrun:
            return True
        if st.ds[n]['type'] == 'snapshot':
            batched.append(n)
            return True
        rc = destroy_snaps(st, batched)
        batched = []
        if rc == 0:
            try:
                ioctl("cannot destroy '%s'" % n)
                destroy_one(st, n)
                return True
            except ZError as e:
                err(str(e))
        if recurse:
            error = True
            return True
        return False

    for dep in iter_dependents(st, arg):
        if dep in st.ds and not callback(dep):
            return 1
    if not callback(arg):
        return 1
    if destroy_snaps(st, batched):
        return 1
    return 1 if error else 0


# ---------------------------------------------------------------------------
# zfs list / zfs get

def parse_types(arg):
    types = 0
    for t in arg.split(','):
        if t == 'filesystem':
            types |= FS
        elif t == 'volume':
            types |= VOL
        elif t in ('snapshot', 'snap'):
            types |= SNAP
        elif t == 'bookmark':
            pass
        elif t == 'all':
            types = DATASET
        else:
            raise Usage("invalid type '%s'" % t)
    return types


def parse_depth(arg):
    try:
        depth = int(arg, 0)
    except ValueError:
        raise Usage('%s is not an integer' % arg)
    if depth < 0:
        raise Usage('Depth can not be negative.')
    return depth


def sort_key(st, name):
    ds = name.split('@')[0]
    snap = '@' in name
    return (ds, snap, st.ds[name]['createtxg'] if snap else 0)


def for_each(st, argv, types, recurse, depth, listsnaps):
    """zfs_for_each() + zfs_callback(): returns (names, ret).

    listsnaps is ZFS_ITER_PROP_LISTSNAPS (zfs list without -t): recursion
    then skips snapshots, as the pool property listsnapshots is off."""
    names = []
    ret = 0

    def walk(n, level, rec):
        t = st.typebit(n)
        if t & types and n not in names:
            names.append(n)
        if not rec or (depth is not None and level >= depth) or not t & (FS | VOL):
            return
        for c in st.children(n):
            walk(c, level + 1, rec)
        if types & SNAP and not listsnaps:
            for s in st.snapshots(n):
                walk(s, level + 1, rec)

    if not argv:
        for pool in sorted(st.data['pools']):
            if INJECT:
                err("cannot open '%s': %s" % (pool, KINDS[INJECT]))
                ret = 1
            elif pool in st.ds:
                walk(pool, 0, True)
        return names, ret
    argtype = types
    if recurse:
        argtype |= FS
        if types & SNAP:
            argtype |= VOL
    for a in argv:
        try:
            why = validate_name(a, argtype, False)
            if why:
                raise ZError("cannot open '%s'" % a, why)
            if INJECT:   # the kernel refuses the open, existing or not
                raise ZError("cannot open '%s'" % a, KINDS[INJECT])
            zfs_open(st, a, argtype)
        except ZError as e:
            err(str(e))
            ret = 1
            continue
        walk(a, 0, recurse)
    return names, ret


def parse_proplist(fields):
    """zprop_get_list(): list of property names, or None for 'all'."""
    if fields == 'all':
        return None
    if fields == '':
        err('bad property list: no properties specified')
        raise Usage()
    out = []
    for f in fields.split(','):
        if f == 'space':
            out += ['name', 'available', 'used', 'usedbysnapshots', 'usedbydataset',
                    'usedbyrefreservation', 'usedbychildren']
            continue
        p = prop_lookup(f)
        if p is not None:
            out.append(p.name)
        elif prop_user(f) or prop_userquota(f) or f.startswith(('written@', 'written#')):
            out.append(f)
        else:
            err("bad property list: invalid property '%s'" % f)
            raise Usage()
    return out


def do_list(st, args):
    types = DATASET
    types_given = False
    fields = None
    literal = scripted = recurse = False
    depth = None
    sortcols = []
    events, argv = getopt(args, 'HS:d:o:prs:t:')
    for c, a in events:
        if c == 'o':
            fields = a
        elif c == 'p':
            literal = True
        elif c == 'd':
            depth = parse_depth(a)
            recurse = True
        elif c == 'r':
            recurse = True
        elif c == 'H':
            scripted = True
        elif c in ('s', 'S'):
            p = prop_lookup(a)
            if p is None and not prop_user(a):
                raise Usage("invalid property '%s'" % a)
            sortcols.append((p.name if p else a, c == 'S'))
        elif c == 't':
            types = parse_types(a)
            types_given = True
        elif c == ':':
            raise Usage("missing argument for '%s' option" % a)
        else:
            raise Usage("invalid option '%s'" % a)
    if fields is None:
        fields = 'name,used,available,referenced,mountpoint'
    if fields == 'space' and not types_given:
        types &= ~SNAP
    if types in (SNAP,) and argv and not recurse and depth is None:
        recurse, depth = True, 1
    cols = parse_proplist(fields)
    if cols is None:
        cols = ['name'] + [p.name for p in PROPS if not p.hidden]
    names, ret = for_each(st, argv, types, recurse, depth, not types_given)
    names.sort(key=lambda n: sort_key(st, n))
    for pname, reverse in reversed(sortcols):
        names.sort(key=lambda n: sortable(st, n, pname), reverse=not reverse)
    rows = []
    for n in names:
        row = []
        for pname in cols:
            if pname == 'name':
                row.append(n)
                continue
            r = get_prop(st, n, pname, literal)
            row.append('-' if r is None else r[0])
        rows.append(row)
    if scripted:
        for row in rows:
            print('\t'.join(row))
    elif rows:
        headers = []
        for pname in cols:
            p = PROP.get(pname)
            headers.append(p.col if p else pname.upper())
        widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
        right = [bool(PROP.get(c) and PROP[c].right) for c in cols]

        def line(vals):
            out = []
            for i, v in enumerate(vals):
                last = i == len(vals) - 1
                if right[i]:
                    out.append(v.rjust(widths[i]))
                elif last:
                    out.append(v)
                else:
                    out.append(v.ljust(widths[i]))
            return '  '.join(out)
        print(line(headers))
        for r in rows:
            print(line(r))
    if ret == 0 and not rows and not scripted:
        err('no datasets available')
    return ret


def sortable(st, n, pname):
    if pname == 'name':
        return sort_key(st, n)
    r = get_prop(st, n, pname, True)
    v = '-' if r is None else r[0]
    p = PROP.get(pname)
    if p is not None and p.kind == 'number':
        try:
            return (0, int(v), '')
        except ValueError:
            return (1, 0, v)
    return (0, 0, v)


def do_get(st, args):
    literal = scripted = recurse = False
    depth = None
    columns = ['name', 'property', 'value', 'source']
    sources = None
    types = DATASET
    events, argv = getopt(args, ':d:o:s:rt:Hp')
    for c, a in events:
        if c == 'p':
            literal = True
        elif c == 'd':
            depth = parse_depth(a)
            recurse = True
        elif c == 'r':
            recurse = True
        elif c == 'H':
            scripted = True
        elif c == ':':
            raise Usage("missing argument for '%s' option" % a)
        elif c == 'o':
            columns = []
            for f in a.split(','):
                if f in ('name', 'property', 'value', 'received', 'source'):
                    columns.append(f)
                elif f == 'all':
                    if columns:
                        raise Usage('"all" conflicts with specific fields given to -o option')
                    columns = ['name', 'property', 'value', 'received', 'source']
                else:
                    raise Usage("invalid column name '%s'" % f)
        elif c == 's':
            sources = set()
            for f in a.split(','):
                if f not in ('local', 'default', 'inherited', 'received',
                             'temporary', 'none'):
                    raise Usage("invalid source '%s'" % f)
                sources.add(f)
        elif c == 't':
            types = parse_types(a)
        else:
            raise Usage("invalid option '%s'" % a)
    if not argv:
        raise Usage('missing property argument')
    fields = argv[0]
    argv = argv[1:]
    if types in (SNAP,) and argv and not recurse and depth is None:
        recurse, depth = True, 1
    plist = parse_proplist(fields)
    names, ret = for_each(st, argv, types, recurse, depth, False)
    names.sort(key=lambda n: sort_key(st, n))
    rows = []
    for n in names:
        if plist is None:
            want = [p.name for p in PROPS if not p.hidden]
            user = sorted(k for k in all_user_props(st, n))
            items = [(w, True) for w in want] + [(u, True) for u in user]
        else:
            items = [(w, False) for w in plist]
        for pname, from_all in items:
            r = get_prop(st, n, pname, literal)
            if r is None:
                if from_all:
                    continue
                r = ('-', '-')
            value, source = r
            if source is None:
                source = '-'
            if sources is not None:
                kind = ('none' if source == '-' else
                        'inherited' if source.startswith('inherited') else source)
                if kind not in sources:
                    continue
            cells = {'name': n, 'property': pname, 'value': value,
                     'received': received_value(st, n, pname, literal), 'source': source}
            rows.append([cells[c] for c in columns])
    if scripted:
        for r in rows:
            print('\t'.join(r))
    elif rows:
        titles = {'name': 'NAME', 'property': 'PROPERTY', 'value': 'VALUE',
                  'received': 'RECEIVED', 'source': 'SOURCE'}
        widths = [max([len(titles[c])] + [len(r[i]) for r in rows])
                  for i, c in enumerate(columns)]

        def line(vals):
            return '  '.join(v if i == len(vals) - 1 else v.ljust(widths[i])
                             for i, v in enumerate(vals))
        print(line([titles[c] for c in columns]))
        for r in rows:
            print(line(r))
    return ret


def received_value(st, name, pname, literal):
    """The RECEIVED column of zfs get: what zfs receive set, or '-'."""
    recvd = st.ds[name].get('recvd') or {}
    if pname not in recvd:
        return '-'
    v = recvd[pname]
    if isinstance(v, int) and not literal:
        if pname in NONE_WHEN_ZERO and v == 0:
            return 'none'
        if pname in SIZE_PROPS:
            return nicebytes(v)
    return str(v)


def all_user_props(st, name):
    out = set()
    cur = name
    while cur is not None:
        d = st.ds.get(cur)
        if d:
            out.update(k for k in d['props'] if PROP.get(k) is None)
            out.update(k for k in d.get('recvd', ()) if PROP.get(k) is None)
        cur = parent_name(cur)
    return out


# ---------------------------------------------------------------------------
# zfs set / zfs inherit

def do_set(st, args):
    if args and args[0].startswith('-') and len(args[0]) > 1:
        raise Usage("invalid option '%s'" % args[0][1])
    if len(args) < 1:
        raise Usage('missing arguments')
    if len(args) < 2:
        if '=' not in args[0]:
            raise Usage('missing property=value argument(s)')
        raise Usage('missing dataset name(s)')
    ds_start = None
    for i, a in enumerate(args):
        if '=' in a:
            if ds_start is not None:
                raise Usage('invalid argument order')
        elif ds_start is None:
            ds_start = i
    if ds_start is None:
        raise Usage('missing dataset name(s)')
    props = {}
    for a in args[:ds_start]:
        if not parseprop(props, a):
            return 1
    ret = 0
    for n in args[ds_start:]:
        try:
            d = zfs_open(st, n, DATASET)
            errbuf = "cannot set property for '%s'" % n
            t = TYPE_BITS[d['type']]
            real = valid_proplist(t, props, d, errbuf)
            ioctl(errbuf)
            for k, v in real.items():
                if k == 'volsize':
                    d['volsize'] = v
                    path = device_path(n)
                    if os.path.isfile(path):
                        try:
                            with open(path, 'r+b') as f:
                                f.truncate(v)
                        except (OSError, OverflowError) as e:
                            # zfs did it; the device here cannot follow
                            err('zfs double: device %s keeps its size: %d bytes cannot be '
                                'a file here (%s)' % (path, v, e))
                    continue
                if v == 'auto' and k == 'refreservation':
                    v = resv_for(d['volsize'], d['volblocksize'])
                d['props'][k] = v
            st.dirty = True
        except ZError as e:
            err(str(e))
            ret = 1
    return ret


def do_inherit(st, args):
    recurse = received = False
    events, argv = getopt(args, 'rS')
    for c, a in events:
        if c == 'r':
            recurse = True
        elif c == 'S':
            received = True
        else:
            raise Usage("invalid option '%s'" % a)
    if len(argv) < 1:
        raise Usage('missing property argument')
    if len(argv) < 2:
        raise Usage('missing dataset argument')
    pname, names = argv[0], argv[1:]
    p = prop_lookup(pname)
    if p is not None:
        if p.readonly:
            err('%s property is read-only' % pname)
            return 1
        if not p.inheritable and not received:
            err("'%s' property cannot be inherited" % pname)
            if p.name in ('quota', 'reservation', 'refquota', 'refreservation'):
                err("use 'zfs set %s=none' to clear" % pname)
                err("use 'zfs inherit -S %s' to revert to received value" % pname)
            return 1
        pname = p.name
    elif not prop_user(pname):
        raise Usage("invalid property '%s'" % pname)
    ret = 0
    for n in names:
        try:
            zfs_open(st, n, DATASET)
            todo = [n]
            if recurse:
                todo = [n] + [x for x in sorted(st.ds) if x.startswith(n + '/')]
            for x in todo:
                ioctl("cannot inherit %s for '%s'" % (pname, x))
                d = st.ds[x]
                d['props'].pop(pname, None)
                if received:        # -S: back to the received value
                    if pname in d.get('xinherit', ()):
                        d['xinherit'].remove(pname)
                elif pname in (d.get('recvd') or {}) and pname not in d.get('xinherit', []):
                    d.setdefault('xinherit', []).append(pname)
                st.dirty = True
        except ZError as e:
            err(str(e))
            ret = 1
    return ret


# ---------------------------------------------------------------------------
# zfs send / zfs receive (zfs-send(8), zfs-receive(8), libzfs_sendrecv.c)
#
# The stream is the double's own format, not OpenZFS's DMU replay records, with
# the same parts: a BEGIN record (magic, feature flags, a payload with the
# snapshot's name and guid, the volume's size and block size, and with -p the
# properties), DATA records (offset, length, bytes) for the data regions only
# (ZFS sends no records for unallocated blocks), and an END record with the
# number of data bytes and a CRC-32 of every stream byte before it.  Streams
# are volume snapshots only: filesystems have no content in the double.
#
# A receive keeps its partial state in the destination's record (a new
# dataset, inconsistent until the END record: it is listed but has no device,
# as an inconsistent zvol has no minor) or, when -F overwrites an existing
# dataset, in the hidden X/%recv, as OpenZFS does.  The data goes to a sparse
# file in the state directory; the state lock is held only at the start and
# the end, never while the stream is read, so a send and a receive on one
# state cannot block each other.

STREAM_MAGIC = b'ZDBLSND\x01'
SF_RESUME, SF_LARGE, SF_EMBED, SF_COMPRESS, SF_PROPS, SF_RAW = 1, 2, 4, 8, 16, 32
SEND_CHUNK = 1 << 20            # the largest DATA record: big writes, and
                                # what a resumed transfer sends again at most
TOKEN_FLAGS = ((SF_LARGE, 'largeblockok'), (SF_EMBED, 'embedok'),
               (SF_COMPRESS, 'compressok'), (SF_RAW, 'rawok'))
struct = zlib = None            # imported by stream_modules(): only send/recv pay


def stream_modules():
    global struct, zlib, BEGIN_REC, REC
    if struct is None:
        import struct as s
        import zlib as z
        struct, zlib = s, z
        BEGIN_REC = s.Struct('<8sIIQ')   # magic, version, flags, payload length
        REC = s.Struct('<4sIQQ')         # tag, 0, a, b


def kv_pack(d):
    """A flat, typed key/value encoding (the double's nvlist)."""
    out = bytearray()
    for k in sorted(d):
        v = d[k]
        if isinstance(v, dict):
            t, vb = b'd', kv_pack(v)
        elif isinstance(v, int):
            t, vb = b'i', str(v).encode()
        else:
            t, vb = b's', str(v).encode('utf-8', 'surrogateescape')
        kb = k.encode('utf-8', 'surrogateescape')
        out += struct.pack('<H', len(kb)) + kb + t + struct.pack('<I', len(vb)) + vb
    return bytes(out)


def kv_unpack(b, depth=0):
    """kv_pack's inverse; ValueError for anything that is not its output."""
    d = {}
    i = 0
    try:
        while i < len(b):
            (kl,) = struct.unpack_from('<H', b, i)
            i += 2
            key = b[i:i + kl]
            t = b[i + kl:i + kl + 1]
            (vl,) = struct.unpack_from('<I', b, i + kl + 1)
            i += kl + 5
            vb = b[i:i + vl]
            if len(key) != kl or len(vb) != vl:
                raise ValueError('short')
            i += vl
            k = key.decode('utf-8', 'surrogateescape')
            if t == b'd' and depth < 2:
                d[k] = kv_unpack(vb, depth + 1)
            elif t == b'i' and 0 < vl <= 20 and vb.isdigit():
                d[k] = int(vb)
            elif t == b's':
                d[k] = vb.decode('utf-8', 'surrogateescape')
            else:
                raise ValueError('bad type')
    except struct.error:
        raise ValueError('short')
    return d


def token_make(rec):
    """A receive_resume_token: OpenZFS's shape, "1-<checksum>-<length of the
    packed payload>-<hex of the zlib-compressed payload>", with the double's
    payload (object, offset, bytes, toguid, toname and the stream's flags)."""
    stream_modules()
    info = {'object': 1, 'offset': rec['offset'], 'bytes': rec['bytes'],
            'toguid': rec['toguid'], 'toname': rec['toname']}
    for bit, name in TOKEN_FLAGS:
        if rec['flags'] & bit:
            info[name] = 1
    packed = kv_pack(info)
    comp = zlib.compress(packed)
    return '1-%x-%x-%s' % (zlib.crc32(comp), len(packed), comp.hex())


def token_parse(token):
    """zfs_send_resume_token_to_nvlist(): the payload, or ZError with its
    wording."""
    stream_modules()
    errbuf = 'cannot resume send'
    parts = token.split('-', 3)
    hexd = '0123456789abcdefABCDEF'
    if len(parts) < 4 or not parts[0].isdigit() or \
            not all(p and all(c in hexd for c in p) for p in parts[1:3]):
        raise ZError(errbuf, 'resume token is corrupt (invalid format)')
    if int(parts[0]) != 1:
        raise ZError(errbuf, 'resume token is corrupt (invalid version %d)'
                     % (int(parts[0]) & 0xffffffff))
    payload = token.rsplit('-', 1)[1]
    payload = payload[:len(payload) // 2 * 2]
    if not all(c in hexd for c in payload):
        raise ZError(errbuf, 'resume token is corrupt (payload is not hex-encoded)')
    comp = bytes.fromhex(payload)
    if zlib.crc32(comp) != int(parts[1], 16):
        raise ZError(errbuf, 'resume token is corrupt (incorrect checksum)')
    try:
        packed = zlib.decompress(comp)
    except zlib.error:
        packed = None
    if packed is None or len(packed) != int(parts[2], 16):
        raise ZError(errbuf, 'resume token is corrupt (decompression failed)')
    try:
        info = kv_unpack(packed)
    except ValueError:
        raise ZError(errbuf, 'resume token is corrupt (nvlist_unpack failed)')
    if not isinstance(info.get('toname'), str) or \
            not all(isinstance(info.get(k), int)
                    for k in ('object', 'offset', 'bytes', 'toguid')):
        raise ZError(errbuf, 'resume token is corrupt')
    return info


def partial_of(st, name):
    """The record holding name's partially received state, or None."""
    for n in (name + '/%recv', name):
        d = st.ds.get(n)
        if d is not None and d.get('recv'):
            return n, d
    return None, None


def resume_token_of(st, name):
    n, d = partial_of(st, name)
    if d is None or not d['recv'].get('resumable'):
        return None
    return token_make(d['recv'])


def receiving(rec):
    """Is a zfs receive still writing this partial state?"""
    pid = rec.get('active')
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        pass
    return True


def data_regions(fd, size, start=0):
    """[(offset, length)] of the data (non-hole) regions of fd from start."""
    out = []
    off = start
    while off < size:
        try:
            data = os.lseek(fd, off, os.SEEK_DATA)
        except OSError as e:
            if e.errno == errno.ENXIO:
                break
            raise
        if data >= size:
            break
        end = min(os.lseek(fd, data, os.SEEK_HOLE), size)
        out.append((data, end - data))
        off = end
    return out


def stream_size(payload_len, regions):
    n = BEGIN_REC.size + payload_len + REC.size
    for _, ln in regions:
        n += ln + REC.size * ((ln + SEND_CHUNK - 1) // SEND_CHUNK)
    return n


def nicenum(num):
    """zfs_nicenum(): zfs_nicebytes() without the B of plain bytes."""
    s = nicebytes(num)
    return s[:-1] if s.endswith('B') else s


def env_bytes(var):
    v = os.environ.get(var, '')
    if not v:
        return None
    try:
        return nicestrtonum(v)
    except ValueError:
        err('zfs double: ignoring %s=%s' % (var, v))
        return None


class SendOut:
    """Writes the stream to stdout: all of it, with the CRC, the progress lines
    of -v and the ZFS_DOUBLE_SEND_STOP_AFTER / _RATE test hooks."""

    def __init__(self, snap, progress, parsable, verbosity):
        self.crc = 0
        self.sent = 0
        self.snap = snap
        self.progress, self.parsable, self.verbosity = progress, parsable, verbosity
        self.stop = env_bytes('ZFS_DOUBLE_SEND_STOP_AFTER')
        self.rate = env_bytes('ZFS_DOUBLE_SEND_RATE')
        self.start = self.last = time.monotonic()
        self.first = True

    def write(self, *bufs):
        for b in bufs:
            self.crc = zlib.crc32(b, self.crc)
        if self.stop is not None and self.sent + sum(len(b) for b in bufs) > self.stop:
            left = self.stop - self.sent
            whole = b''.join(bufs)[:left]
            self._out([whole])
            sys.stderr.flush()
            import signal
            os.kill(os.getpid(), signal.SIGKILL)    # as if killed
        self._out(list(bufs))

    def _out(self, bufs):
        bufs = [memoryview(b) for b in bufs if len(b)]
        while bufs:
            if self.rate:       # small writes, so that the pace is even
                step = max(4096, self.rate // 10)
                n = os.write(1, bufs[0][:step])
            else:
                n = os.writev(1, bufs)
            self.sent += n
            while bufs and n >= len(bufs[0]):
                n -= len(bufs[0])
                bufs.pop(0)
            if bufs and n:
                bufs[0] = bufs[0][n:]
            self.pace()

    def pace(self):
        now = time.monotonic()
        if self.rate:
            ahead = self.sent / self.rate - (now - self.start)
            if ahead > 0:
                time.sleep(ahead)
                now = time.monotonic()
        if self.progress and now - self.last >= 1.0:
            self.last = now
            self.report()

    def report(self):
        """send_progress_thread()'s lines, on stderr."""
        tm = time.strftime('%H:%M:%S')
        if self.first and not self.parsable:
            err('TIME       %s   %sSNAPSHOT %s' % (' SENT', '   BLOCKS    '
                                                  if self.verbosity >= 2 else '', self.snap))
        self.first = False
        if self.parsable:
            err('%s\t%d\t%s' % (tm, self.sent, self.snap))
        else:
            err('%s   %5s   %s' % (tm, nicebytes(self.sent), self.snap))
        sys.stderr.flush()


def send_print_verbose(fout, snap, size, parsable):
    if parsable:
        fout.write('full\t%s\t%d\n' % (snap, size))
        fout.write('size\t%d\n' % size)
    else:
        fout.write('full send of %s estimated size is %s\n' % (snap, nicebytes(size)))
        fout.write('total estimated size is %s\n' % nicenum(size))
    fout.flush()


SEND_LONG = {'--replicate': '-R', '--skip-missing': '-s', '--redact': '-d', '--props': '-p',
             '--parsable': '-P', '--dedup': '-D', '--proctitle': '-V', '--verbose': '-v',
             '--dryrun': '-n', '--large-block': '-L', '--embed': '-e', '--resume': '-t',
             '--compressed': '-c', '--raw': '-w', '--backup': '-b', '--holds': '-h',
             '--saved': '-S', '--exclude': '-X'}


def send_long_options(args):
    """zfs send's getopt_long() options as their short forms."""
    out = []
    for i, a in enumerate(args):
        if a == '--':
            return out + args[i:]
        name, eq, val = a.partition('=')
        if name in SEND_LONG:
            out.append(SEND_LONG[name])
            if eq:
                out.append(val)
        elif a.startswith('--'):
            raise Usage("invalid option '%s'" % a)
        else:
            out.append(a)
    return out


def do_send(st, args):
    stream_modules()
    sflags = 0
    props = dryrun = parsable = progress = raw = False
    verbosity = 0
    token = None
    events, argv = getopt(send_long_options(args), ':i:I:RsDpVvnPLeht:cwbd:SX:')
    for c, a in events:
        if c == 'p':
            props = True
        elif c == 'P':
            parsable = True
        elif c == 'v':
            verbosity += 1
            progress = True
        elif c == 'n':
            dryrun = True
        elif c == 'L':
            sflags |= SF_LARGE
        elif c == 'e':
            sflags |= SF_EMBED
        elif c == 'c':
            sflags |= SF_COMPRESS
        elif c == 'w':
            # raw: of an unencrypted dataset, what -Lec sends (zfs-send(8));
            # of an encrypted one also its blocks as they are (below)
            sflags |= SF_LARGE | SF_EMBED | SF_COMPRESS
            raw = True
        elif c == 't':
            token = a
        elif c == 'V':
            pass
        elif c == 'D':
            err('WARNING: deduplicated send is no longer supported.  A regular,\n'
                'non-deduplicated stream will be generated.\n')
        elif c == ':':
            raise Usage("missing argument for '%s' option" % a)
        elif c == '?':
            raise Usage("invalid option '%s'" % a)
        else:
            err("zfs test double: 'zfs send -%s' is not implemented" % c)
            raise Exit(2)
    if parsable and verbosity == 0:
        verbosity = 1
    if token is not None:
        if props:
            raise Usage('invalid flags combined with -t')
        if argv:
            raise Usage('too many arguments')
    else:
        if not argv:
            raise Usage('missing snapshot argument')
        if len(argv) > 1:
            raise Usage('too many arguments')
    if not dryrun and os.isatty(1):
        err('Error: Stream can not be written to a terminal.\n'
            'You must redirect standard output.')
        return 1
    fout = sys.stdout if dryrun else sys.stderr
    st.lock()
    try:
        setup_injection(st, 'send')
        if token is not None:
            info = token_parse(token)
            if verbosity:
                fout.write('resume token contents:\nnvlist version: 0\n')
                for k in ('object', 'offset', 'bytes', 'toguid'):
                    fout.write('\t%s = 0x%x\n' % (k, info[k]))
                fout.write('\ttoname = %s\n' % info['toname'])
                for _, name in TOKEN_FLAGS:
                    if name in info:
                        fout.write('\t%s\n' % name)
                fout.flush()
            # the token, not -w, decides whether the rest is raw
            sflags &= ~SF_RAW
            raw = False
            for bit, name in TOKEN_FLAGS:
                if name in info:
                    sflags |= bit
            snap = info['toname']
            d = st.get(snap) if '@' in snap else None
            if d is None or d['guid'] != info['toguid']:
                what = ("'%s' is no longer the same snapshot used in the initial send"
                        if snap in st.ds else
                        "'%s' used in the initial send no longer exists")
                raise ZError('cannot resume send', what % snap)
            start = info['offset']
        else:
            snap = argv[0]
            d = zfs_open(st, snap, DATASET)
            if d['type'] != 'snapshot':
                err("zfs test double: sending a filesystem or volume (not a "
                    "snapshot) is not implemented")
                raise Exit(2)
            start = 0
        if not d.get('data'):
            err("zfs test double: only volume snapshots can be sent")
            raise Exit(2)
        if INJECT:      # zfs_send_one() words the errno of the send ioctl
            raise ZError("warning: cannot send '%s'" % snap,
                         os.strerror(errno.EIO) if INJECT == 'io' else KINDS[INJECT])
        base = snap.split('@')[0]
        head = {'toname': snap, 'toguid': d['guid'], 'type': 'volume',
                'volsize': d['volsize'], 'volblocksize': d['volblocksize'],
                'creation': d['creation']}
        crypt = crypt_of(st, snap)
        if raw and crypt:
            sflags |= SF_RAW
        if sflags & SF_RAW and crypt:
            # the blocks encrypted, the key's wrapping parameters with them
            head['crypt'] = {'alg': crypt['alg'], 'keyformat': crypt['keyformat']}
        if token is not None:
            sflags |= SF_RESUME
            head['resume_offset'] = start
        if props:
            sflags |= SF_PROPS
            head['props'] = stream_props(st, base, st.ds.get(base))
            head['snapprops'] = stream_props(st, snap, d)
        fd = os.open(os.path.join(st.dir, d['data']), os.O_RDONLY | os.O_CLOEXEC)
    finally:
        st.unlock()
    try:
        regions = data_regions(fd, d['volsize'], start)
        payload = kv_pack(head)
        size = stream_size(len(payload), regions)
        if verbosity:
            send_print_verbose(fout, snap, size, parsable)
        if dryrun:
            return 0
        out = SendOut(snap, progress, parsable, verbosity)
        try:
            out.write(BEGIN_REC.pack(STREAM_MAGIC, 1, sflags, len(payload)), payload)
            total = 0
            for off, ln in regions:
                end = off + ln
                while off < end:
                    n = min(SEND_CHUNK, end - off)
                    data = os.pread(fd, n, off)
                    if len(data) != n:     # the file shrank: zeros, as ZFS would read
                        data += bytes(n - len(data))
                    out.write(REC.pack(b'DATA', 0, off, n), data)
                    total += n
                    off += n
            out.write(REC.pack(b'END\0', 0, total, out.crc))
        except OSError as e:
            raise ZError("warning: cannot send '%s'" % snap, os.strerror(e.errno))
    finally:
        os.close(fd)
    return 0


def stream_props(st, name, d):
    """send_iterate_prop(): what zfs send -p sends, the properties set on the
    dataset itself (locally or received) that can be set; volsize travels in
    the stream's header."""
    out = {}
    if d is None:
        return out
    names = set(d['props']) | set(d.get('recvd') or ())
    for k in sorted(names):
        p = PROP.get(k)
        if p is not None and (p.readonly or k == 'volsize'):
            continue
        v, how = own_value(d, k)
        if how is not None and v is not None:
            out[k] = v
    return out


class StreamEnd(Exception):
    """The stream ended early (truncated) or did not check (corrupt)."""

    def __init__(self, corrupt):
        super().__init__(corrupt)
        self.corrupt = corrupt


class Interrupted(Exception):
    pass


def recv_checkprops(props):
    """zfs_receive_checkprops()."""
    for name in props:
        p = prop_lookup(name)
        if p is None:
            if not prop_user(name):
                raise ZError('cannot receive', "invalid property '%s'" % name)
            continue
        if p.name in ('origin', 'encryption', 'keylocation', 'keyformat', 'pbkdf2iters'):
            continue
        if p.readonly or p.name in ('version', 'volsize'):
            raise ZError('cannot receive', "invalid property '%s'" % name)


def do_receive(st, args):
    stream_modules()
    props = {}
    isprefix = istail = dryrun = verbose = force = resumable = abort = False
    events, argv = getopt(args, ':o:x:dehMnuvFsAc')
    for c, a in events:
        if c == 'o':
            if not parseprop(props, a):
                raise Usage()
        elif c == 'x':
            if a in props:
                err("property '%s' specified multiple times" % a)
                raise Usage()
            props[a] = None
        elif c == 'd':
            if istail:
                raise Usage('invalid option combination: -d and -e are mutually exclusive')
            isprefix = True
        elif c == 'e':
            if isprefix:
                raise Usage('invalid option combination: -d and -e are mutually exclusive')
            isprefix = istail = True
        elif c == 'n':
            dryrun = True
        elif c == 'v':
            verbose = True
        elif c == 'F':
            force = True
        elif c == 's':
            resumable = True
        elif c == 'A':
            abort = True
        elif c in 'huM':
            pass
        elif c == 'c':
            err("zfs test double: 'zfs receive -c' is not implemented")
            raise Exit(2)
        elif c == ':':
            raise Usage("missing argument for '%s' option" % a)
        else:
            raise Usage("invalid option '%s'" % a)
    if not argv:
        raise Usage('missing snapshot argument')
    if len(argv) > 1:
        raise Usage('too many arguments')
    target = argv[0]
    if abort:
        if isprefix or dryrun or resumable:
            raise Usage('invalid option')
        return recv_abort(st, target)
    if os.isatty(0):
        err('Error: Backup stream can not be read from a terminal.\n'
            'You must redirect standard input.')
        return 1
    recv_checkprops(props)
    if props.get('origin') is not None:
        err("zfs test double: 'zfs receive -o origin=' is not implemented")
        raise Exit(2)
    if isprefix:
        st.lock()
        exists = target in st.ds
        st.unlock()
        if not exists:
            raise ZError('cannot receive', 'specified fs (%s) does not exist' % target)
    inp = open(0, 'rb', buffering=1 << 20, closefd=False)
    # the BEGIN record, read without the lock: the sender may need it
    raw = inp.read(BEGIN_REC.size)
    if len(raw) < BEGIN_REC.size:
        raise ZError('cannot receive', 'failed to read from stream')
    magic, version, sflags, plen = BEGIN_REC.unpack(raw)
    if magic != STREAM_MAGIC:
        raise ZError('cannot receive', 'invalid stream (bad magic number)')
    if version != 1 or sflags >= 64 or plen > (1 << 20):
        raise ZError('cannot receive', 'stream has unsupported feature, feature flags = %x'
                     % sflags)
    payload = inp.read(plen)
    if len(payload) < plen:
        raise ZError('cannot receive', 'failed to read from stream')
    try:
        head = kv_unpack(payload)
        toname, toguid = head['toname'], head['toguid']
        volsize, vbs = head['volsize'], head['volblocksize']
        if not (isinstance(toname, str) and isinstance(toguid, int) and
                isinstance(volsize, int) and isinstance(vbs, int)):
            raise KeyError(toname)
    except (ValueError, KeyError):
        raise ZError('cannot receive', 'invalid stream (checksum mismatch)')
    if '@' not in toname:
        raise ZError('cannot receive', 'invalid stream (bad snapshot name)')
    crc = zlib.crc32(payload, zlib.crc32(raw))
    resuming = bool(sflags & SF_RESUME)
    destsnap = recv_destsnap(target, toname, isprefix, istail)
    name = destsnap.split('@')[0]
    errbuf = ('cannot receive resume stream' if resuming
              else 'cannot receive new filesystem stream')
    st.lock()
    try:
        setup_injection(st, 'receive')
        holder, rec = recv_begin(st, name, destsnap, head, sflags, props, errbuf,
                                 force, resumable, dryrun, isprefix and not istail,
                                 verbose)
        st.save()
    finally:
        sys.stdout.flush()
        st.unlock()
    start = time.time()
    if dryrun:
        try:
            recv_data(inp, None, head, crc)
        except StreamEnd:
            pass
        return 0
    fd = os.open(os.path.join(st.dir, rec['data']), os.O_WRONLY | os.O_CLOEXEC)
    progress = {'offset': rec['offset'], 'bytes': 0}
    # a signal that ends zfs receive interrupts the kernel's receive, which
    # then keeps (-s) or discards the partial state: the double does that
    # before it dies of the signal; not while it changes the state
    import signal
    armed = [True]
    pending = []

    def interrupted(signum, frame):
        pending.append(signum)
        if armed[0]:
            raise Interrupted(signum)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, interrupted)
    failure = None
    try:
        try:
            recv_data(inp, fd, head, crc, progress)
        finally:
            armed[0] = False
    except StreamEnd as e:
        failure = 'checksum mismatch' if e.corrupt else 'incomplete stream'
    except Interrupted:
        failure = 'incomplete stream'
    finally:
        os.close(fd)
    try:
        recv_end(st, holder, name, destsnap, head, plen, progress, failure,
                 resumable, errbuf, start, verbose)
    finally:
        if pending:
            sys.stdout.flush()
            sys.stderr.flush()
            signal.signal(pending[0], signal.SIG_DFL)
            os.kill(os.getpid(), pending[0])
    return 0


def recv_end(st, holder, name, destsnap, head, plen, progress, failure, resumable,
             errbuf, start, verbose):
    """The stream ended: complete the receive, or keep or discard its partial
    state."""
    toguid = head['toguid']
    st.lock()
    try:
        d = st.get(holder)
        if d is None or d.get('recv') is None or d['recv']['toguid'] != toguid:
            raise ZError(errbuf, 'dataset does not exist')
        rec = d['recv']
        rec['bytes'] += BEGIN_REC.size + plen + progress['bytes']
        if failure is None:
            recv_finish(st, holder, name, destsnap, head)
        else:
            rec.pop('active', None)
            rec['offset'] = max(progress['offset'], rec['offset'])
            rec['resumable'] = rec.get('resumable') or resumable
            st.dirty = True
            if not rec['resumable']:
                destroy_one(st, holder)
            elif resumable:
                failure = ('checksum mismatch or incomplete stream.\n'
                           'Partially received snapshot is saved.\n'
                           'A resuming stream can be generated on the sending system '
                           'by running:\n    zfs send -t %s' % token_make(rec))
        st.save()
    finally:
        st.unlock()
    if failure is not None:
        raise ZError(errbuf, failure)
    if verbose:
        nbytes = BEGIN_REC.size + plen + progress['bytes']
        delta = max(1, int(time.time() - start))
        print('received %s stream in %d seconds (%s/sec)'
              % (nicebytes(nbytes), delta, nicebytes(nbytes // delta)))


def recv_destsnap(target, toname, isprefix, istail):
    """zfs_receive_one(): the snapshot the stream becomes."""
    sendfs = toname.split('@')[0]
    if istail:
        if '@' in target:
            raise ZError('cannot receive', 'invalid argument - snapshot not allowed with -e')
        i = sendfs.rfind('/')
        chop = toname[i:] if i >= 0 else '/' + toname
    elif isprefix:
        if '@' in target:
            raise ZError('cannot receive', 'invalid argument - snapshot not allowed with -d')
        i = toname.find('/')
        chop = toname[i:] if i >= 0 else toname[toname.find('@'):]
    elif '@' not in target:
        chop = toname[len(sendfs):]
    else:
        chop = ''
    destsnap = target + chop
    if validate_name(destsnap, SNAP, True):
        raise ZError('cannot receive', 'invalid name')
    return destsnap


def recv_begin(st, name, destsnap, head, sflags, props, errbuf, force, resumable,
               dryrun, mkparents, verbose):
    """The checks of zfs_receive_one() and the kernel's receive begin; returns
    (name of the record holding the partial state, its 'recv' dict)."""
    resuming = bool(sflags & SF_RESUME)
    for n in (name + '/%recv', name):
        pd = st.get(n)
        if pd is not None and pd.get('recv') and not pd['recv'].get('resumable') and \
                not receiving(pd['recv']):
            destroy_one(st, n)     # a killed receive's: the kernel discards it
    d = st.get(name) if '%' not in name else None
    if resuming:
        if d is None:
            raise ZError(errbuf, "destination '%s' does not exist" % name)
    elif d is not None:
        if not force:
            raise ZError(errbuf, "destination '%s' exists\nmust specify -F to overwrite it"
                         % name)
        snaps = st.snapshots(name)
        if snaps:
            raise ZError(errbuf, 'destination has snapshots (eg. %s)\n'
                         'must destroy them to overwrite it' % snaps[0])
        if '/' not in name:
            raise ZError(errbuf, 'destination %s is the root dataset\n'
                         'cannot overwrite with a ZVOL' % name)
        kids = st.children(name)
        if kids:
            raise ZError(errbuf, 'destination has children (eg. %s)\n'
                         'cannot overwrite with a ZVOL' % kids[0])
        if d.get('origin'):
            raise ZError(errbuf, "destination '%s' is a clone\n"
                         'must destroy it to overwrite it' % name)
    else:
        parent = parent_name(name)
        if '/' not in name:
            raise ZError(errbuf, "destination '%s' does not exist" % name)
        if mkparents and not dryrun and parent not in st.ds:
            try:
                create_ancestors(st, name)
            except ZError as e:
                err(str(e))
                raise ZError(errbuf, 'unable to restore to destination')
        try:
            zfs_open(st, parent, DATASET)
        except ZError as e:
            err(str(e))
            raise ZError(errbuf, 'unable to restore to destination')
        if st.ds[parent]['type'] != 'filesystem':
            raise ZError(errbuf, "parent '%s' is not a filesystem" % parent)
    if verbose:
        print('%s full stream of %s into %s'
              % ('would receive' if dryrun else 'receiving', head['toname'], destsnap))
        sys.stdout.flush()
    recvd = dict(head.get('props') or {})
    local, xinherit = {}, []
    for k, v in props.items():
        p = prop_lookup(k)
        if v is None:           # -x: not the stream's value
            if p is not None and not p.types & VOL:
                err("Warning: %s: property '%s' does not apply to datasets of this type"
                    % (name, k))
                continue
            k = p.name if p else k
            if p is not None and not p.inheritable:
                recvd.pop(k, None)
            else:
                xinherit.append(k)
        else:
            if p is not None and not p.types & VOL:
                raise ZError(errbuf, "property '%s' does not apply to datasets of this type"
                             % k)
            local[k] = v
    local = valid_proplist(VOL, local, None, errbuf)
    if local.get('refreservation') == 'auto':
        local['refreservation'] = resv_for(head['volsize'], head['volblocksize'])
    if dryrun:
        return None, None
    ioctl(errbuf)
    if resuming:
        holder, pd = partial_of(st, name)
        rec = pd['recv'] if pd else None
        if rec is None or rec['toguid'] != head['toguid'] or \
                head.get('resume_offset', 0) > rec['offset']:
            raise ZError(errbuf, 'kernel modules must be upgraded to receive this stream.'
                         if resumable else 'invalid backup stream')
        if receiving(rec):
            raise ZError(errbuf, 'destination %s contains partially-complete state '
                         'from "zfs receive -s".' % name)
        pd['props'].update(local)
        for k in xinherit:
            if k not in pd.setdefault('xinherit', []):
                pd['xinherit'].append(k)
        rec['active'] = os.getpid()
        rec['offset'] = head.get('resume_offset', 0)
        st.dirty = True
        return holder, rec
    if partial_of(st, name)[1] is not None:
        raise ZError(errbuf, 'destination %s contains partially-complete state from '
                     '"zfs receive -s".' % name)
    holder = name + '/%recv' if d is not None else name
    vbs, size = head['volblocksize'], head['volsize']
    if not is_p2(vbs) or not SPA_MINBLOCKSIZE <= vbs <= SPA_MAXBLOCKSIZE or \
            size <= 0 or size % vbs:
        raise ZError(errbuf, 'invalid backup stream')
    guid = guid_bits(48)
    rel = os.path.join('recvdata', '%x.img' % guid)
    os.makedirs(os.path.join(st.dir, 'recvdata'), exist_ok=True)
    with open(os.path.join(st.dir, rel), 'wb') as f:
        f.truncate(size)
    rec = {'toname': head['toname'], 'toguid': head['toguid'], 'offset': 0, 'bytes': 0,
           'flags': sflags & (SF_LARGE | SF_EMBED | SF_COMPRESS | SF_RAW), 'data': rel,
           'resumable': resumable, 'active': os.getpid(),
           'creation': head.get('creation', int(time.time())),
           'snapprops': dict(head.get('snapprops') or {})}
    pd = st.new_ds(holder, 'volume', volsize=size, volblocksize=vbs, props=local,
                   recvd=recvd, xinherit=xinherit, recv=rec)
    # a raw stream's dataset is encrypted as sent, its own encryption root
    # (its key not loaded there); any other is its parent's
    hc = head.get('crypt') if sflags & SF_RAW else None
    crypt = ({'alg': hc['alg'], 'keyformat': hc['keyformat'], 'root': name}
             if isinstance(hc, dict) else crypt_of(st, parent_name(name)))
    if crypt:
        pd['crypt'] = dict(crypt)
    return holder, rec


def recv_data(inp, fd, head, crc, progress=None):
    """Reads DATA records up to the END record, writing them to fd (None: a
    dry run).  Raises StreamEnd when the stream stops early or does not
    check."""
    volsize = head['volsize']
    low = head.get('resume_offset', 0)
    total = 0
    while True:
        hdr = inp.read(REC.size)
        if len(hdr) < REC.size:
            raise StreamEnd(False)
        tag, _, a, b = REC.unpack(hdr)
        if tag == b'END\0':
            if a != total or b != crc:
                raise StreamEnd(True)
            return
        if tag != b'DATA' or b > SEND_CHUNK or a < low or a + b > volsize:
            raise StreamEnd(True)
        data = inp.read(b)
        if len(data) < b:
            raise StreamEnd(False)
        crc = zlib.crc32(data, zlib.crc32(hdr, crc))
        # zero blocks stay holes, as ZFS with compression writes them
        if fd is not None and not (data[:1] == b'\0' and data[-1:] == b'\0' and
                                   data == bytes(b)):
            os.pwrite(fd, data, a)
        total += b
        low = a + b
        if progress is not None:
            progress['offset'] = low
            progress['bytes'] += REC.size + b


def recv_finish(st, holder, name, destsnap, head):
    """The END record checked: the partial state becomes the dataset and its
    snapshot, and the device appears."""
    d = st.ds[holder]
    rec = d.pop('recv')
    st.dirty = True
    size = d['volsize']
    rel = os.path.join('snapdata', '%x.img' % guid_bits(48))
    snapdir(st)
    os.rename(os.path.join(st.dir, rec['data']), os.path.join(st.dir, rel))
    if holder != name:          # -F: the received state replaces the dataset
        old = st.ds[name]
        remove_device(name)
        st.ds.pop(holder)
        for k in ('volsize', 'volblocksize', 'recvd', 'xinherit', 'crypt'):
            old[k] = d.get(k)
        old['props'].update(d['props'])
        old.pop('seed', None)
        old.pop('origin', None)
    st.new_ds(destsnap, 'snapshot', data=rel, volsize=size,
              volblocksize=d['volblocksize'], props={}, recvd=rec['snapprops'],
              guid=rec['toguid'], creation=rec['creation'])
    make_device(st, name, size, os.path.join(st.dir, rel))


def recv_abort(st, name):
    """zfs receive -A: destroy the saved partial state."""
    st.lock()
    try:
        setup_injection(st, 'receive')
        hidden = name + '/%recv'
        if hidden in st.ds:
            victim = hidden
        else:
            try:
                d = zfs_open(st, name, FS | VOL)
            except ZError as e:
                err(str(e))
                raise Usage()
            if not d.get('recv') or not d['recv'].get('resumable'):
                err("'%s' does not have any resumable receive state to abort" % name)
                return 1
            victim = name
        if receiving(st.ds[victim]['recv']):
            raise ZError("cannot destroy '%s'" % victim, 'dataset is busy')
        ioctl("cannot destroy '%s'" % victim)
        destroy_one(st, victim)
        st.save()
    finally:
        st.unlock()
    return 0


# ---------------------------------------------------------------------------
# usage

ZFS_USAGE = {
    'version': '\tversion [-j]\n',
    'create': '\tcreate [-Pnpuv] [-o property=value] ... <filesystem>\n'
              '\tcreate [-Pnpsv] [-b blocksize] [-o property=value] ... '
              '-V <size> <volume>\n',
    'destroy': '\tdestroy [-fnpRrv] <filesystem|volume>\n'
               '\tdestroy [-dnpRrv] <filesystem|volume>@<snap>[%<snap>][,...]\n'
               '\tdestroy <filesystem|volume>#<bookmark>\n',
    'snapshot': '\tsnapshot [-r] [-o property=value] ... '
                '<filesystem|volume>@<snap> ...\n',
    'clone': '\tclone [-p] [-o property=value] ... <snapshot> <filesystem|volume>\n',
    'list': '\tlist [-Hp] [-r|-d max] [-o property[,...]] [-s property]...\n'
            '\t    [-S property]... [-t type[,...]] [filesystem|volume|snapshot] ...\n',
    'set': '\tset <property=value> ... <filesystem|volume|snapshot> ...\n',
    'get': '\tget [-rHp] [-d max] [-o "all" | field[,...]]\n'
           '\t    [-t type[,...]] [-s source[,...]]\n'
           '\t    <"all" | property[,...]> [filesystem|volume|snapshot|bookmark] ...\n',
    'inherit': '\tinherit [-rS] <property> <filesystem|volume|snapshot> ...\n',
    'send': '\tsend [-DLPbcehnpsVvw] [-i|-I snapshot]\n'
            '\t    [-R [-X dataset[,dataset]...]]     <snapshot>\n'
            '\tsend [-DnVvPLecw] [-i snapshot|bookmark] <filesystem|volume|snapshot>\n'
            '\tsend [-DnPpVvLec] [-i bookmark|snapshot] --redact <bookmark> <snapshot>\n'
            '\tsend [-nVvPe] -t <receive_resume_token>\n'
            '\tsend [-PnVv] --saved filesystem\n',
    'receive': '\treceive [-vMnsFhu] [-o <property>=<value>] ...\n'
               '\t    [-x <property>] ... <filesystem|volume|snapshot>\n'
               '\treceive [-vMnsFhu] [-o <property>=<value>] ...\n'
               '\t    [-x <property>] ... [-d | -e] <filesystem>\n'
               '\treceive -A <filesystem|volume>\n',
}
ZFS_ORDER = ['version', None, 'create', 'destroy', None, 'snapshot', 'clone', None,
             'list', None, 'set', 'get', 'inherit', None, 'send', 'receive']


def zfs_usage(cmd, requested):
    out = sys.stdout if requested else sys.stderr
    if cmd is None:
        out.write("usage: zfs command args ...\n"
                  "where 'command' is one of the following:\n\n")
        for c in ZFS_ORDER:
            out.write('\n' if c is None else ZFS_USAGE[c])
        out.write('\nEach dataset is of the form: pool/[dataset/]*dataset[@name]\n')
    else:
        out.write('usage:\n' + ZFS_USAGE[cmd])
    if cmd in ('set', 'get', 'inherit', 'list'):
        out.write('\nThe following properties are supported:\n')
        out.write('\n\t%-14s %s  %s   %s\n\n' % ('PROPERTY', 'EDIT', 'INHERIT', 'VALUES'))
        for p in sorted((p for p in PROPS if not p.hidden), key=lambda p: p.name):
            out.write('\t%-15s %s%s%s\n' % (p.name, ' NO    ' if p.readonly else 'YES    ',
                                           '  YES   ' if p.inheritable else '   NO   ',
                                           p.values or '-'))
        out.write('\nSizes are specified in bytes with standard units such as K, M, G, etc.\n')
        out.write('\nUser-defined properties can be specified by using a name '
                  'containing a colon (:).\n')
    else:
        out.write('\nFor the property list, run: zfs set|get\n')
        out.write('\nFor the delegated permission list, run: zfs allow|unallow\n')
    out.flush()


ZFS_COMMANDS = {
    'create': do_create, 'destroy': do_destroy, 'snapshot': do_snapshot,
    'clone': do_clone, 'list': do_list, 'get': do_get, 'set': do_set,
    'inherit': do_inherit, 'send': do_send, 'receive': do_receive,
}
# they take the state lock themselves, and not while the stream flows
SELF_LOCKING = {'send', 'receive'}
ZFS_KNOWN = {'rollback', 'promote', 'rename', 'bookmark', 'program', 'upgrade',
             'userspace', 'groupspace', 'projectspace', 'project', 'mount',
             'unmount', 'share', 'unshare', 'allow', 'unallow',
             'hold', 'holds', 'release', 'diff', 'load-key', 'unload-key',
             'change-key', 'redact', 'wait'}
VERSION = 'zfs-2.2.2-double\nzfs-kmod-2.2.2-double\n'


def state_or_die():
    sdir = os.environ.get('ZFS_DOUBLE_STATE')
    if not sdir:
        err('The ZFS modules are not loaded.')
        err("Try running '/sbin/modprobe zfs' as root to load them.")
        err('(zfs test double: ZFS_DOUBLE_STATE is not set)')
        raise Exit(1)
    return State(sdir)


def log_invocation(argv):
    path = os.environ.get('ZFS_DOUBLE_LOG')
    if not path:
        return
    import shlex
    line = (shlex.join(argv) + '\n').encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def zfs_main(argv):
    log_invocation(argv)
    if not argv:
        err('missing command')
        zfs_usage(None, False)
        return 2
    cmd = argv[0]
    cmd = {'umount': 'unmount', 'recv': 'receive', 'snap': 'snapshot'}.get(cmd, cmd)
    if cmd in ('-?', '--help'):
        zfs_usage(None, True)
        return 0
    if cmd in ('-V', '--version', 'version'):
        sys.stdout.write(VERSION)
        return 0
    st = state_or_die()
    if '=' in cmd and cmd not in ZFS_COMMANDS:
        argv = ['set'] + argv
        cmd = 'set'
    if cmd not in ZFS_COMMANDS:
        if cmd in ZFS_KNOWN:
            err("zfs test double: '%s' is not implemented" % cmd)
            return 2
        err("unrecognized command '%s'" % cmd)
        zfs_usage(None, False)
        return 2
    selflock = cmd in SELF_LOCKING
    if not selflock:
        st.lock()
    try:
        if not selflock:
            setup_injection(st, cmd)
        try:
            ret = ZFS_COMMANDS[cmd](st, argv[1:])
        except ZError as e:
            err(str(e))
            ret = 1
        except Usage as u:
            if u.msg:
                err(u.msg)
            zfs_usage(cmd, False)
            ret = 2
        except Exit as x:
            ret = x.code
        if not selflock:
            st.save()
    finally:
        sys.stdout.flush()
        st.unlock()
    return ret


# ---------------------------------------------------------------------------
# zpool

ZPOOL_USAGE = {
    'create': '\tcreate [-fnd] [-o property=value] ... \n'
              '\t    [-O file-system-property=value] ... \n'
              '\t    [-m mountpoint] [-R root] <pool> <vdev> ...\n',
    'destroy': '\tdestroy [-f] <pool>\n',
    'list': '\tlist [-gHLpPv] [-o property[,...]] [-T d|u] [pool] ... \n'
            '\t    [interval [count]]\n',
}


def zpool_usage(cmd, requested):
    out = sys.stdout if requested else sys.stderr
    if cmd is None:
        out.write("usage: zpool command args ...\n"
                  "where 'command' is one of the following:\n\n")
        for c in ('create', 'destroy', None, 'list'):
            out.write('\n' if c is None else ZPOOL_USAGE[c])
    else:
        out.write('usage:\n' + ZPOOL_USAGE[cmd])
    out.flush()


def zpool_create(st, args):
    fsprops = {}
    mountpoint = None
    events, argv = getopt(args, ':fndR:m:o:O:t:')
    for c, a in events:
        if c == 'O':
            if not parseprop(fsprops, a):
                raise Exit(1)
        elif c == 'm':
            mountpoint = a
        elif c in 'fndRot':
            pass
        elif c == ':':
            raise Usage("missing argument for '%s' option" % a)
        else:
            raise Usage("invalid option '%s'" % a)
    if not argv:
        raise Usage('missing pool name argument')
    pool = argv[0]
    errbuf = "cannot create '%s'" % pool
    why = pool_namecheck(pool, False)
    if why:
        raise ZError(errbuf, why)
    if pool in st.data['pools']:
        raise ZError(errbuf, 'pool already exists')
    real = valid_proplist(FS, fsprops, None, errbuf)
    if mountpoint is not None:
        real['mountpoint'] = mountpoint
    st.data['pools'][pool] = {'created': int(time.time())}
    st.new_ds(pool, 'filesystem', props=real)
    return 0


def zpool_destroy(st, args):
    events, argv = getopt(args, 'f')
    for c, a in events:
        if c != 'f':
            raise Usage("invalid option '%s'" % a)
    if not argv:
        raise Usage('missing pool argument')
    if len(argv) > 1:
        raise Usage('too many arguments')
    pool = argv[0]
    zpool_open(st, pool)
    for n in sorted(st.ds, key=len, reverse=True):
        if pool_of(n) == pool:
            destroy_one(st, n)
    del st.data['pools'][pool]
    st.dirty = True
    return 0


def zpool_list(st, args):
    scripted = literal = False
    fields = 'name,size,allocated,free,checkpoint,expandsize,fragmentation,' \
             'capacity,dedupratio,health,altroot'
    events, argv = getopt(args, ':gHLo:pPT:v')
    for c, a in events:
        if c == 'H':
            scripted = True
        elif c == 'p':
            literal = True
        elif c == 'o':
            fields = a
        elif c in 'gLPTv':
            pass
        elif c == ':':
            raise Usage("missing argument for '%s' option" % a)
        else:
            raise Usage("invalid option '%s'" % a)
    heads = {'allocated': 'ALLOC', 'checkpoint': 'CKPOINT', 'expandsize': 'EXPANDSZ',
             'fragmentation': 'FRAG', 'capacity': 'CAP', 'dedupratio': 'DEDUP'}
    aliases = {'alloc': 'allocated', 'cap': 'capacity', 'ckpoint': 'checkpoint',
               'expandsz': 'expandsize', 'frag': 'fragmentation', 'dedup': 'dedupratio'}
    cols = []
    for f in fields.split(','):
        f = aliases.get(f, f)
        if f not in ('name', 'size', 'allocated', 'free', 'checkpoint', 'expandsize',
                     'fragmentation', 'capacity', 'dedupratio', 'health', 'altroot',
                     'guid', 'readonly'):
            err("property '%s' is not a valid pool or vdev property" % f)
            raise Usage()
        cols.append(f)
    pools = argv or sorted(st.data['pools'])
    ret = 0
    rows = []
    for pool in pools:
        try:
            zpool_open(st, pool)
        except ZError as e:
            err(str(e))
            ret = 1
            continue
        alloc = pool_used(st, pool)
        vals = {'name': pool, 'size': POOL_SIZE, 'allocated': alloc,
                'free': POOL_SIZE - alloc, 'checkpoint': '-', 'expandsize': '-',
                'fragmentation': '0%', 'capacity': '%d%%' % (alloc * 100 // POOL_SIZE),
                'dedupratio': '1.00x', 'health': 'ONLINE', 'altroot': '-',
                'guid': str(st.ds[pool]['guid']), 'readonly': 'off'}
        row = []
        for c in cols:
            v = vals[c]
            if isinstance(v, int):
                v = str(v) if literal else nicebytes(v)
            row.append(v)
        rows.append(row)
    if not rows and not argv:
        err('no pools available')
    if scripted:
        for r in rows:
            print('\t'.join(r))
    elif rows:
        heads = [heads.get(c, c.upper()) for c in cols]
        widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(heads)]
        for r in [heads] + rows:
            print('  '.join(v.ljust(widths[i]) if i < len(r) - 1 else v
                            for i, v in enumerate(r)))
    return ret


ZPOOL_COMMANDS = {'create': zpool_create, 'destroy': zpool_destroy, 'list': zpool_list}


def zpool_main(argv):
    if not argv:
        err('missing command')
        zpool_usage(None, False)
        return 2
    cmd = argv[0]
    if cmd in ('-?', '--help'):
        zpool_usage(None, True)
        return 0
    if cmd in ('-V', '--version', 'version'):
        sys.stdout.write(VERSION)
        return 0
    if cmd not in ZPOOL_COMMANDS:
        err("unrecognized command '%s'" % cmd)
        zpool_usage(None, False)
        return 2
    st = state_or_die()
    st.lock()
    try:
        try:
            ret = ZPOOL_COMMANDS[cmd](st, argv[1:])
        except ZError as e:
            err(str(e))
            ret = 1
        except Usage as u:
            if u.msg:
                err(u.msg)
            zpool_usage(cmd, False)
            ret = 2
        st.save()
    finally:
        sys.stdout.flush()
        st.unlock()
    return ret


def main():
    try:
        if PROG == 'zpool':
            return zpool_main(sys.argv[1:])
        return zfs_main(sys.argv[1:])
    except Exit as x:
        return x.code
    except BrokenPipeError:
        return 1


if __name__ == '__main__':
    sys.exit(main())
