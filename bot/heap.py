"""The long-lived heap kept out of the cycle collector's walks.

A bot builds its rules, templates, SQL and library state once, then allocates small
short-lived objects per message. Every older-generation collection walked that whole
startup heap again: about a tenth of a check-in (measured on the check-in bench).
Freezing it after one full collection leaves the collector only what messages allocate;
objects still die by reference counting as before.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Freeze what lives now, after collecting what an earlier freeze kept (a reload's
    replaced rules, an earlier run's leftovers in the same process)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
