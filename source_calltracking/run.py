"""The `source-calltracking` command (Airbyte protocol); see entrypoint.py."""

import sys

from source_calltracking.entrypoint import launch


def run() -> None:
    launch(sys.argv[1:])


if __name__ == "__main__":
    run()
