"""Run the command line as ``python -m cio_pipeline._cli``."""

import sys

from cio_pipeline._cli import main

sys.exit(main())
