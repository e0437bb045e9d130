"""qunbot: the event loop, platform adapters and CLI of the community-operations bot."""
