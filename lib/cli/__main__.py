"""`python -m lib.cli`."""

import sys

from lib.cli.entry import main

sys.exit(main())
