"""Command line of the GenAI carbon calculator: ``python interface.py --help``.

    python interface.py --in_tok 2000 --out_tok 500 --region usa

A thin entry point: the commands are in ``genai_carbon/cli/``.
"""

import sys

from genai_carbon.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
