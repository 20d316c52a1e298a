"""What the benchmarks share: one measured run of the scanner."""

import subprocess
import time


def measure(args, env, stderr=subprocess.DEVNULL):
    """Runs `args`; returns its wall seconds and peak RSS in MiB: the high-water mark of
    its own address space (VmHWM, sampled every 2 ms; wait4's ru_maxrss would include the
    Python parent's size, which a child inherits until it execs)."""
    start = time.monotonic()
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=stderr, env=env)
    peak = 0
    while p.poll() is None:
        try:
            with open(f"/proc/{p.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError):
            pass
        time.sleep(0.002)
    return time.monotonic() - start, peak / 1024
