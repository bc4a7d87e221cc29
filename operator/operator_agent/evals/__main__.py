"""`python -m operator_agent.evals run SUITE ...`: the same as `operator eval ...`."""

import sys

from .commands import main

sys.exit(main())
