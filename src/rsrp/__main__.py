"""``python -m rsrp`` is the ``rsrp`` command."""

from rsrp.cli.main import main

main()
