"""The startup heap kept out of the cycle collector's walks.

A bot builds its rules, templates, SQL and library state once, then allocates small
short-lived objects per message. Every older-generation collection walked that whole
startup heap again: about a tenth of a check-in (measured on the check-in bench).
Freezing it after one full collection leaves the collector only what messages allocate;
objects still die by reference counting as before.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Freeze what lives now: once per process (a later run shares the first one's heap)."""
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()


def resettle() -> None:
    """After a reload: collect the replaced rules' cycles, then freeze the new ones."""
    if gc.get_freeze_count():
        gc.unfreeze()
        gc.collect()
        gc.freeze()
