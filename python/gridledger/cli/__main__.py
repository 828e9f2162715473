"""``python -m gridledger.cli``: the same as the ``gridledger`` command."""

import sys

from gridledger.cli import main

sys.exit(main())
