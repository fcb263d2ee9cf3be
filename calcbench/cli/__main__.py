"""`python -m calcbench.cli`: the same as the `calcbench` command."""

from calcbench.cli import main

main()
