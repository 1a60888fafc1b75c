"""`python -m provisioning` and the `provisioning` command: the command line.

Both come here first, so that without the extra `provisioning[cli]` they say
so in one line instead of a traceback.
"""

from __future__ import annotations

import sys


def console() -> None:
    """The `provisioning` console script."""
    sys.exit(_main())


def _main() -> int:
    try:
        from provisioning.cli import main  # noqa: PLC0415 - the extra may be missing
    except ImportError as missing:
        print(  # noqa: T201 - the one line a missing extra gets
            f"provisioning: the command line needs the extra `provisioning[cli]` ({missing.name})",
            file=sys.stderr,
        )
        return 2
    main(prog_name="provisioning")
    return 0


if __name__ == "__main__":
    sys.exit(_main())
