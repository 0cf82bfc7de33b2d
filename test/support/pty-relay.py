# Stands in for a virtio-serial port in tests: opens a pty in raw mode, prints the slave's
# path on stderr, and relays the master side to stdin/stdout (bytes untouched).
import os, pty, select, sys, tty

master, slave = pty.openpty()
tty.setraw(slave)
sys.stderr.write(os.ttyname(slave) + "\n")
sys.stderr.flush()
stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()
while True:
    ready, _, _ = select.select([master, stdin], [], [])
    if stdin in ready:
        data = os.read(stdin, 65536)
        if not data:
            break
        os.write(master, data)
    if master in ready:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        os.write(stdout, data)
