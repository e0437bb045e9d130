"""The vocabulary every package shares: events, replies, bundled resources.

The bottom layer: it imports nothing from ``bot``, ``triggers`` or ``storage``, and all
three may import it.
"""
