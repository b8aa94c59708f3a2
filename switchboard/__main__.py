"""``python -m switchboard`` is the ``switchboard`` command."""

import sys

from switchboard.cli import main

sys.exit(main())
