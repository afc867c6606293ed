"""``python -m dcbench`` runs the CLI."""

import sys

from dcbench.cli.main import main

sys.exit(main())
