import sys

from wsapp.cli import main

sys.exit(main())
