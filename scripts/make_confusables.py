"""Write `src/provisioning/model/confusables.txt` from Unicode's `confusables.txt` (UTS #39).

Usage: python scripts/make_confusables.py path/to/confusables.txt

Take the file from the latest Unicode release
(https://www.unicode.org/Public/security/latest/confusables.txt); the table
keeps Unicode's header, so the release it came from stays visible.

The library needs only the mapping from each confusable code point to its
prototype; this keeps that, one `source<TAB>target` line each, in hex, with
Unicode's copyright notice and terms of use on top.
"""

from __future__ import annotations

import sys
from pathlib import Path

HEADER_LINES = 10  # Unicode's notice at the top of the file
LAST_CODE_POINT = 0x10FFFF
TARGET = Path(__file__).parent.parent / "src" / "provisioning" / "model" / "confusables.txt"


def main(source: Path, target: Path = TARGET) -> int:
    """Convert `source` into the library's table at `target`; the number of mappings."""
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
        points = [fields[0], *fields[1].split()] if len(fields) > 1 else []
        if not points or not all(_is_hex(point) for point in points):
            raise SystemExit(f"not a line of Unicode's confusables.txt: {line!r}")
        pairs.append(f"{fields[0]}\t{fields[1].replace(' ', ',')}")
    if not any(line.startswith("# Version:") for line in header):
        raise SystemExit("no '# Version:' in the header: is this Unicode's confusables.txt?")
    notice = [
        "# The prototypes of Unicode's confusables.txt, as source<TAB>target code points.",
        "# Derived by scripts/make_confusables.py from the file whose header follows:",
        *header,
    ]
    target.write_text("\n".join([*notice, *pairs, ""]), encoding="utf-8")
    return len(pairs)


def _is_hex(text: str) -> bool:
    try:
        return 0 <= int(text, 16) <= LAST_CODE_POINT
    except ValueError:
        return False


if __name__ == "__main__":
    count = main(Path(sys.argv[1]))
    print(f"{count} mappings -> {TARGET}")  # noqa: T201 - a script's report
