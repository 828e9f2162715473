"""``python -m gridledger.cli``: the same as the ``gridledger`` command."""

import sys

from gridledger.cli import main

if __name__ == "__main__":  # importing the module (pkgutil.walk_packages) must not run the CLI
    sys.exit(main())
