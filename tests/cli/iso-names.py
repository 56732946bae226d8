#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# iso-names.py ISO: the file names in the root directory of each tree of an
# ISO 9660 image, read from the directory records themselves (no library
# that would tidy them): one line per tree,
#   iso9660: NAME NAME...      the ECMA-119 names, as written (";1" and all)
#   rockridge: NAME NAME...    the Rock Ridge NM names
#   joliet: NAME NAME...       the Joliet names (UCS-2, big-endian)
import struct, sys

SECTOR = 2048
data = open(sys.argv[1], 'rb').read()


def root(kind):
    for s in range(16, len(data) // SECTOR):
        vd = data[s * SECTOR:(s + 1) * SECTOR]
        if vd[0] == 255:
            break
        if vd[1:6] != b'CD001' or vd[0] != kind:
            continue
        if kind == 2 and not (vd[88:90] == b'%/' and vd[90:91] in (b'@', b'C', b'E')):
            continue
        lba, length = struct.unpack_from('<I', vd, 156 + 2)[0], struct.unpack_from('<I', vd, 156 + 10)[0]
        return data[lba * SECTOR:lba * SECTOR + length]
    return b''


def records(d):
    p = 0
    while p < len(d):
        n = d[p]
        if n == 0:
            p = (p // SECTOR + 1) * SECTOR
            continue
        r = d[p:p + n]
        p += n
        name = r[33:33 + r[32]]
        if name in (b'\0', b'\1'):
            continue
        yield r, name


def rock(r, name):
    su = 33 + len(name) + (1 - len(name) % 2)
    while su + 4 <= len(r):
        ln = r[su + 2]
        if ln < 4:
            break
        if r[su:su + 2] == b'NM':
            return r[su + 5:su + ln].decode('latin-1')
        su += ln
    return '?'


print('iso9660:', ' '.join(n.decode('latin-1') for _, n in records(root(1))))
print('rockridge:', ' '.join(rock(r, n) for r, n in records(root(1))))
print('joliet:', ' '.join(n.decode('utf-16-be') for _, n in records(root(2))))
