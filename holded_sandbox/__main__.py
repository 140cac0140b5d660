"""`python -m holded_sandbox`: serve the sandbox in the foreground."""

import sys

from .cli import main

sys.exit(main())
