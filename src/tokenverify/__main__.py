"""``python -m tokenverify``: the same command line as the ``tokenverify`` script."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
