"""``python -m analytics``: see :mod:`analytics.cli`."""

import sys

from analytics.cli import main

if __name__ == "__main__":  # not when a child process re-imports the main module
    sys.exit(main())
