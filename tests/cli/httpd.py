#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# A small HTTP server for qvm's download tests, on 127.0.0.1 only:
#   httpd.py DIR PORTFILE
# serves the files of DIR, writes the port it listens on to PORTFILE, and
# understands these path prefixes:
#   /redirect/NAME   302 to /NAME
#   /cut/NAME        announces the whole length, sends half, closes
#   /nolength/NAME   no Content-Length (the end is the connection's end)
#   /slow/NAME       sends 64 KiB, then waits 30 s before the rest
#   /throttle/NAME   sends 64 KiB every 40 ms (1.6 MiB/s)
#   /norange/NAME    ignores Range headers (the whole file, 200)
#   /badlength/NAME  announces a Content-Length no 64-bit number holds
#   /                a directory listing, as an HTML page (200)
# Otherwise a "Range: bytes=FIRST-LAST" request (one range) gets 206 and
# those bytes, and every range request is logged to DIR/../ranges.log.
# It stops by itself after 10 minutes.
import http.server, os, sys, threading, time

root, portfile = sys.argv[1], sys.argv[2]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        sys.stderr.write('httpd: ' + (fmt % args) + '\n')

    def do_GET(self):
        path = self.path.split('?', 1)[0]
        mode = None
        if path == '/':
            page = ('<!DOCTYPE html>\n<html><head><title>Index of /</title></head><body><ul>\n' +
                    ''.join('<li><a href="%s">%s</a></li>\n' % (n, n) for n in sorted(os.listdir(root))) +
                    '</ul></body></html>\n').encode()
            self.send_response(200)
            self.send_header('Content-Type', 'text/html')
            self.send_header('Content-Length', str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            return
        for m in ('redirect', 'cut', 'nolength', 'slow', 'throttle', 'norange', 'badlength'):
            if path.startswith('/' + m + '/'):
                mode, path = m, path[len(m) + 1:]
                break
        if mode == 'redirect':
            self.send_response(302)
            self.send_header('Location', path)
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        name = os.path.join(root, os.path.basename(path))
        if not os.path.isfile(name):
            self.send_error(404)
            return
        size = os.path.getsize(name)
        start, end = 0, size
        rng = self.headers.get('Range')
        if rng and mode != 'norange':
            with open(os.path.join(root, '..', 'ranges.log'), 'a') as log:
                log.write('%s %s\n' % (path, rng))
            first, _, last = rng.replace('bytes=', '', 1).partition('-')
            start, end = int(first), min(int(last) + 1, size)
            if start >= size or end <= start:
                self.send_response(416)
                self.send_header('Content-Range', 'bytes */%d' % size)
                self.send_header('Content-Length', '0')
                self.end_headers()
                return
            self.send_response(206)
            self.send_header('Content-Range', 'bytes %d-%d/%d' % (start, end - 1, size))
            size = end - start
        else:
            self.send_response(200)
        self.send_header('Content-Type', 'application/octet-stream')
        if mode in ('nolength', 'badlength'):
            self.send_header('Connection', 'close')
            self.close_connection = True
            if mode == 'badlength':
                self.send_header('Content-Length', '99999999999999999999')
        else:
            self.send_header('Content-Length', str(size))
        self.end_headers()
        # the file is sent in 64 KiB pieces, never held whole in memory
        end = size // 2 if mode == 'cut' else size
        try:
            with open(name, 'rb') as f:
                f.seek(start)
                sent = 0
                while sent < end:
                    piece = f.read(min(65536, end - sent))
                    if not piece:
                        break
                    self.wfile.write(piece)
                    sent += len(piece)
                    if mode == 'slow' and sent == len(piece):
                        self.wfile.flush()
                        time.sleep(30)
                    elif mode == 'throttle':
                        self.wfile.flush()
                        time.sleep(0.04)
            self.wfile.flush()
            if mode == 'cut':
                self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            pass


server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
server.daemon_threads = True
with open(portfile + '.tmp', 'w') as f:
    f.write('%d\n' % server.server_address[1])
os.rename(portfile + '.tmp', portfile)
threading.Timer(600, server.shutdown).start()
server.serve_forever()
