"""`python -m plugin.cli`: the command line, as the `customer-value` script runs it."""

from plugin.cli import main

main()
