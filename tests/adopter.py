"""Run a command as the child of a subreaper, as a CI harness or a container's init may be.

Processes orphaned below the command are adopted by this process rather than by init (pid 1),
so a kernel that only watches for init adoption never sees its parent die. The command's exit
status is not waited on past its end: this process stays until it is killed. Linux only.

Usage: ``python tests/adopter.py COMMAND...``
"""

import ctypes
import signal
import subprocess
import sys

PR_SET_CHILD_SUBREAPER = 36

if __name__ == "__main__":
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1)
    subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL)
    signal.pause()
