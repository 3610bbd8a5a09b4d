"""``python -m remission``: the ``remission`` command line (remission.cli)."""

from remission.cli import main

if __name__ == "__main__":
    main()
