"""Allow ``python -m bot`` as an alias of the ``qunbot`` command."""

from bot.cli import main

main()
