import sys

from wvzscan.cli import main

sys.exit(main())
