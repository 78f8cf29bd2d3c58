"""``python -m imports.first FILE DIR [OUTPUT [wait]]``: the stage process
(``imports.first.stage``), started by the writer. Its code lives in a module of its own, so
that what it pickles names that module and not ``__main__``."""

import sys

from imports.first.stage import stage_main

sys.exit(stage_main(*sys.argv[1:5]))
