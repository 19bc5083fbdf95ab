#!/usr/bin/python3
"""Interactivity of the playground, measured in a pseudo-terminal.

Starts `./tempest --speed max` (full generation speed) on the bundled model
in a 100x30 pseudo-terminal (the pty module, no tmux) and measures:

  (a) launch to first drawn frame: fork to the first time `T=` (the status
      line) appears in the output;                      goal <= 50 ms
  (b) key press to redrawn screen at full speed: send `T` (temperature
      +0.05) and time until the screen shows T=0.85, then `t` back to 0.80;
      median and max of ~20 presses;                   goal <= 10 ms
  (c) CPU use while paused (space), from /proc/PID/stat over 3 s; goal ~0
  (d) peak memory, VmHWM from /proc/PID/status;        goal <= model + 16 MB
  (e) full-speed throughput: the status line's step= counter over 2 s before
      the presses, so a faster key path can be checked not to cost tokens

ncurses redraws only the cells that change, so (b) keeps a small model of
the screen (cursor moves, erases, text) and reads the status line from it.
At full speed the playground checks for a key between tokens (at most about
2 ms of tokens between checks) and draws a key's change at once; redraws for
new tokens stay at most about 60 a second.

    /usr/bin/python3 bench/interactive.py [--presses N] [--model PATH] [--binary PATH]

--binary runs another build (e.g. an older one) in the same conditions.
"""
import argparse
import fcntl
import os
import pty
import re
import select
import signal
import statistics
import struct
import termios
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROWS, COLS = 30, 100
CSI = re.compile(rb"\x1b\[([0-9;?>=]*)([ -/]*)([@-~])")


class Screen:
    """Just enough of a VT100/xterm to follow ncurses' output."""

    def __init__(self):
        self.cells = [[" "] * COLS for _ in range(ROWS)]
        self.row = self.col = 0
        self.pending = b""

    def _put(self, ch):
        if self.col >= COLS:
            self.col, self.row = 0, min(self.row + 1, ROWS - 1)
        self.cells[self.row][self.col] = ch
        self.col += 1
        self.last = ch

    def _csi(self, params, final):
        nums = [int(p) if p.isdigit() else 0 for p in params.lstrip("?>=").split(";")]
        n = nums[0] or 1
        if final == "H" or final == "f":
            self.row = min(max((nums[0] or 1) - 1, 0), ROWS - 1)
            self.col = min(max(((nums[1] if len(nums) > 1 else 1) or 1) - 1, 0), COLS - 1)
        elif final == "d":
            self.row = min(n - 1, ROWS - 1)
        elif final == "G":
            self.col = min(n - 1, COLS - 1)
        elif final == "C":
            self.col = min(self.col + n, COLS - 1)
        elif final == "D":
            self.col = max(self.col - n, 0)
        elif final == "A":
            self.row = max(self.row - n, 0)
        elif final == "B":
            self.row = min(self.row + n, ROWS - 1)
        elif final == "K":
            mode = nums[0]
            lo, hi = (self.col, COLS) if mode == 0 else (0, self.col + 1) if mode == 1 \
                else (0, COLS)
            for c in range(lo, hi):
                self.cells[self.row][c] = " "
        elif final == "J" and nums[0] == 2:
            self.cells = [[" "] * COLS for _ in range(ROWS)]
        elif final == "X":
            for c in range(self.col, min(self.col + n, COLS)):
                self.cells[self.row][c] = " "
        elif final == "b":
            for _ in range(n):
                self._put(getattr(self, "last", " "))

    def feed(self, data):
        data = self.pending + data
        self.pending = b""
        i = 0
        while i < len(data):
            b = data[i]
            if b == 0x1b:
                m = CSI.match(data, i)
                if m:
                    if not m.group(2):
                        self._csi(m.group(1).decode(), m.group(3).decode())
                    i = m.end()
                    continue
                if i + 1 >= len(data) or (data[i + 1] in b"()" and i + 2 >= len(data)) or \
                        data[i + 1:i + 2] == b"[":
                    self.pending = data[i:]
                    return
                i += 3 if data[i + 1] in b"()" else 2
            elif b == 0x0d:
                self.col = 0
                i += 1
            elif b == 0x0a:
                self.row = min(self.row + 1, ROWS - 1)
                i += 1
            elif b == 0x08:
                self.col = max(self.col - 1, 0)
                i += 1
            elif b < 0x20:
                i += 1
            else:
                n = 1 if b < 0x80 else 2 if b < 0xe0 else 3 if b < 0xf0 else 4
                if i + n > len(data):
                    self.pending = data[i:]
                    return
                self._put(data[i:i + n].decode("utf-8", "replace"))
                i += n

    def text(self):
        return "\n".join("".join(r) for r in self.cells)


class Playground:
    def __init__(self, model, binary):
        self.t0 = time.perf_counter()
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ.update(TERM="xterm-256color", LINES=str(ROWS), COLUMNS=str(COLS))
            os.execv(binary,
                     ["tempest", "--speed", "max", "--model", model])
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.raw = b""
        self.screen = Screen()

    def pump(self, timeout):
        """Read what is there (waiting up to timeout); False at EOF."""
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return True
        try:
            data = os.read(self.fd, 1 << 16)
        except OSError:
            return False
        self.raw += data
        self.screen.feed(data)
        return bool(data)

    def wait_for(self, test, limit):
        end = time.perf_counter() + limit
        while time.perf_counter() < end:
            if test():
                return time.perf_counter()
            if not self.pump(0.002):
                break
        return None

    def drain(self, seconds):
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            self.pump(0.005)

    def key(self, k):
        os.write(self.fd, k)
        return time.perf_counter()

    def stat_cpu(self):
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def vm(self, name):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1]) * 1024
        return 0

    def close(self):
        try:
            os.write(self.fd, b"q")
            time.sleep(0.2)
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass
        os.waitpid(self.pid, 0)


def steps_shown(app):
    m = re.findall(r"step=(\d+)", app.screen.text())
    return int(m[-1]) if m else None


def throughput(app, seconds):
    """Tokens per second from the status line's step counter."""
    app.drain(0.05)
    s0, t0 = steps_shown(app), time.perf_counter()
    app.drain(seconds)
    s1, t1 = steps_shown(app), time.perf_counter()
    return None if s0 is None or s1 is None else (s1 - s0) / (t1 - t0)


def status_shows(app, value):
    return f"T={value}" in app.screen.text()


def verdict(ok):
    return "met" if ok else "NOT met"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--presses", type=int, default=20)
    ap.add_argument("--model", default=os.path.join(ROOT, "models/shakespeare.safetensors"))
    ap.add_argument("--binary", default=os.path.join(ROOT, "tempest"))
    args = ap.parse_args()
    app = Playground(args.model, os.path.abspath(args.binary))
    try:
        first = app.wait_for(lambda: b"T=" in app.raw, 5.0)
        if first is None:
            raise SystemExit("interactive.py: the playground drew no status line in 5 s")
        launch_ms = (first - app.t0) * 1e3
        app.drain(0.5)  # let it reach full speed
        rate = throughput(app, 2.0)
        lat, arrows = [], []
        for i in range(args.presses):
            key, want = (b"T", "0.85") if i % 2 == 0 else (b"t", "0.80")
            mark = len(app.raw)
            sent = app.key(key)
            arrow = app.wait_for(lambda: "\u2192".encode() in app.raw[mark:], 2.0)
            seen = app.wait_for(lambda: status_shows(app, want), 2.0)
            if arrow is not None:
                arrows.append((arrow - sent) * 1e3)
            if seen is None:
                raise SystemExit(f"interactive.py: T={want} not shown 2 s after '{key.decode()}'")
            lat.append((seen - sent) * 1e3)
            app.drain(0.05)
        app.key(b" ")
        app.drain(0.3)
        c0, w0 = app.stat_cpu(), time.perf_counter()
        app.drain(3.0)
        cpu_pct = 100 * (app.stat_cpu() - c0) / (time.perf_counter() - w0)
        hwm = app.vm("VmHWM")
    finally:
        app.close()
    size = os.path.getsize(args.model)
    budget = size + 16 * 2**20
    print(f"playground, {COLS}x{ROWS} pty, --speed max, model {os.path.basename(args.model)} "
          f"({size / 2**20:.2f} MiB)")
    print(f"(a) launch to first frame    {launch_ms:7.1f} ms          goal <= 50 ms: "
          f"{verdict(launch_ms <= 50)}")
    print(f"(b) key to redrawn screen    median {statistics.median(lat):5.1f} ms, max "
          f"{max(lat):5.1f} ms ({len(lat)} presses)  goal <= 10 ms: "
          f"{verdict(max(lat) <= 10)} (median {verdict(statistics.median(lat) <= 10)})")
    if arrows:
        print(f"    first byte of the redraw   median {statistics.median(arrows):5.1f} ms, max "
              f"{max(arrows):5.1f} ms (the 'last change: T a->b' note, raw output)")
    print(f"(c) CPU while paused         {cpu_pct:7.2f} % of a core   goal ~0: "
          f"{verdict(cpu_pct < 1)}")
    print(f"(d) peak memory (VmHWM)      {hwm / 2**20:7.2f} MiB        goal <= "
          f"{budget / 2**20:.2f} MiB (model + 16): {verdict(hwm <= budget)}")
    print(f"(e) full-speed throughput    " +
          (f"{rate:7.0f} tokens/s (step= over 2 s)" if rate is not None else "no step= shown"))


if __name__ == "__main__":
    main()
