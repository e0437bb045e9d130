"""Run a module or code as ``__main__`` and write this process's peak RSS when it ends.

Usage: ``python -m bench.rss_child OUT_FILE -m MODULE ARGS…`` or ``… OUT_FILE -c CODE ARGS…``.

The peak is ``VmHWM`` from ``/proc/self/status``: the high-water mark of this process's
own memory map. ``ru_maxrss`` would not do: Linux carries the parent's peak over ``fork``
and ``exec``, so every child of a big benchmark process would report at least its size.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path


def peak_kb() -> int:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> None:
    out, mode, target, *rest = sys.argv[1:]
    code: int | str | None = 0
    try:
        if mode == "-m":
            sys.argv = [target, *rest]
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        elif mode == "-c":
            sys.argv = ["-c", *rest]
            exec(compile(target, "<string>", "exec"), {"__name__": "__main__"})
        else:
            raise SystemExit(f"usage: {__doc__}")
    except SystemExit as stop:
        code = stop.code
    finally:
        Path(out).write_text(str(peak_kb()), encoding="ascii")
    sys.exit(code)


if __name__ == "__main__":
    main()
