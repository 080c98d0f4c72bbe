"""直播中控台: run ``python main.py --help`` for the sub-commands."""

import sys

from console.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
