"""``python -m descent.cli``: the same command line as the ``descent`` script."""

from . import main

main(prog_name="descent")
