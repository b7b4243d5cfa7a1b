"""Run the whole test suite (pytest underneath).

    python test.py            # everything: core, CLI, API, README commands, notebook
    python test.py -k cli     # any pytest arguments pass through
"""

import sys

import pytest

if __name__ == "__main__":
    sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", *sys.argv[1:]]))
