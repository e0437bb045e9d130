"""Group rules enforced (群规): detectors that find what a rule forbids, and the ladder
(warn → mute → remove) that answers each member's strikes."""
