"""``python -m jdyn`` is the ``jdyn`` command."""

import sys

from .cli import main

sys.exit(main())
