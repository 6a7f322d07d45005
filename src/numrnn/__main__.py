"""python -m numrnn: the numrnn command line (see numrnn.cli)."""
import sys

from .cli.main import main

sys.exit(main())
