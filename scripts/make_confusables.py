"""Write `src/provisioning/model/confusables.txt` from Unicode's `confusables.txt` (UTS #39).

Usage: python scripts/make_confusables.py path/to/confusables.txt

The library needs only the mapping from each confusable code point to its
prototype; this keeps that, one `source<TAB>target` line each, in hex, with
Unicode's copyright notice and terms of use on top.
"""

from __future__ import annotations

import sys
from pathlib import Path

HEADER_LINES = 10  # Unicode's notice at the top of the file
TARGET = Path(__file__).parent.parent / "src" / "provisioning" / "model" / "confusables.txt"


def main(source: Path) -> None:
    """Convert `source` into the library's table."""
    header: list[str] = []
    pairs: list[str] = []
    for line in source.read_text(encoding="utf-8-sig").splitlines():
        if line.startswith("#") and not pairs and len(header) < HEADER_LINES:
            header.append(line)
            continue
        data = line.partition("#")[0].strip()
        if not data:
            continue
        fields = [field.strip() for field in data.split(";")]
        pairs.append(f"{fields[0]}\t{fields[1].replace(' ', ',')}")
    notice = [
        "# The prototypes of Unicode's confusables.txt, as source<TAB>target code points.",
        "# Derived by scripts/make_confusables.py from the file whose header follows:",
        *header,
    ]
    TARGET.write_text("\n".join([*notice, *pairs, ""]), encoding="utf-8")
    print(f"{len(pairs)} mappings -> {TARGET}")  # noqa: T201 - a script's report


if __name__ == "__main__":
    main(Path(sys.argv[1]))
