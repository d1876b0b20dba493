"""Whole epochs at the homework's true scale, the course's loops against the project's, and the
whole study's time (see homework1/benchmark). From the repository root, in the environment of
requirements.txt:

    PYTHONPATH=src python scripts/benchmark.py            # every family of the configured study, 3 rounds
    PYTHONPATH=src python scripts/benchmark.py --quick    # 1 round
    PYTHONPATH=src python scripts/benchmark.py --cores 8 --configfile my_config.yaml
    PYTHONPATH=src python scripts/benchmark.py --families q2 --device cuda
"""

import sys

from homework1.benchmark import pin_threads

pin_threads(sys.argv[1:])  # before numpy and torch load: their BLAS reads the thread count then

from homework1.benchmark.cli import main  # noqa: E402

main()
