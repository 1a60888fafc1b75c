"""The look-alike table: how it is made from Unicode's file, and what it decides.

The bundled `confusables.txt` is written by `scripts/make_confusables.py`
from Unicode's `confusables.txt` (UTS #39). The generator is tested on a
file in Unicode's own format, and the table it wrote is read back by the
library's reader; the names that must pass and the pairs that must not are
tested on the bundled table.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from provisioning.model import local_part_problem, skeleton
from provisioning.model._lookalikes import read_prototypes

SCRIPT = Path(__file__).parent.parent / "scripts" / "make_confusables.py"

SAMPLE = """\ufeff# confusables.txt
# Date: 2023-08-11, 17:46:40 GMT
# © 2023 Unicode®, Inc.
# Unicode and the Unicode Logo are registered trademarks of Unicode, Inc. in the U.S.
# For terms of use, see https://www.unicode.org/terms_of_use.html
#
# Unicode Security Mechanisms for UTS #39
# Version: 15.1.0
#
# For documentation and usage, see https://www.unicode.org/reports/tr39
#
05AD ;\t0596 ;\tMA\t# ( ֭ → ֖ ) HEBREW ACCENT DALETH → HEBREW ACCENT TIPEHA\t#

0430 ;\t0061 ;\tMA\t# CYRILLIC SMALL LETTER A → LATIN SMALL LETTER A\t#
2474 ;\t0028 0031 0029 ;\tMA\t# ( ⑴ → (l) ) PARENTHESIZED DIGIT ONE → LEFT PARENTHESIS, ...\t#
"""


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_confusables", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generator_keeps_unicodes_notice_and_every_mapping(tmp_path: Path) -> None:
    source = tmp_path / "confusables.txt"
    source.write_text(SAMPLE, encoding="utf-8")
    target = tmp_path / "table.txt"
    assert _generator().main(source, target) == 3
    written = target.read_text(encoding="utf-8")
    assert "# Version: 15.1.0" in written
    assert "© 2023 Unicode®, Inc." in written
    assert read_prototypes(written) == {0x05AD: "\u0596", 0x0430: "a", 0x2474: "(1)"}


@pytest.mark.parametrize(
    "text",
    [
        "0430 ;\tzz ;\tMA\t# not hex\n",
        "0430\n",
    ],
)
def test_the_generator_refuses_what_is_not_unicodes_file(tmp_path: Path, text: str) -> None:
    source = tmp_path / "confusables.txt"
    source.write_text(SAMPLE + text, encoding="utf-8")
    with pytest.raises(SystemExit):
        _generator().main(source, tmp_path / "table.txt")


def test_the_generator_wants_the_release_named(tmp_path: Path) -> None:
    source = tmp_path / "confusables.txt"
    source.write_text(SAMPLE.replace("# Version: 15.1.0\n", ""), encoding="utf-8")
    with pytest.raises(SystemExit):
        _generator().main(source, tmp_path / "table.txt")


def test_the_bundled_table_names_its_release() -> None:
    bundled = Path(__file__).parent.parent / "src" / "provisioning" / "model" / "confusables.txt"
    head = bundled.read_text(encoding="utf-8").splitlines()[:14]
    assert any(line.startswith("# Version: ") for line in head)
    assert len(read_prototypes(bundled.read_text(encoding="utf-8"))) > 6000


@pytest.mark.parametrize(
    "local",
    [
        "スーパー",  # katakana with the prolonged sound mark (Hiragana and Katakana both)
        "らーめん",  # hiragana with the same mark
        "山田たろう",  # Han with Hiragana
        "김민준",  # Hangul
        "홍길동kim",  # Hangul with Latin
        "νίκος",  # Greek
        "алексей",  # Cyrillic
        "josé",  # Latin with an accent
    ],
)
def test_names_written_in_one_script_or_a_combination_unicode_allows_pass(local: str) -> None:
    assert local_part_problem(local) is None


@pytest.mark.parametrize(
    "local",
    [
        "p\u0430ypal",  # a Cyrillic a among Latin letters
        "\u03b1lice",  # a Greek alpha among Latin letters
        "иван\u0435x",  # Cyrillic with a Latin x
    ],
)
def test_names_that_mix_scripts_are_refused(local: str) -> None:
    problem = local_part_problem(local)
    assert problem is not None
    assert problem[0] == "address.mixed_script"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("anna", "\u0430nna"),  # a Cyrillic a
        ("paypal", "p\u0430yp\u0430l"),
        ("scope", "\u0455\u0441\u043e\u0440\u0435"),  # all Cyrillic
        ("nikos", "nik\u03bfs"),  # a Greek omicron
        ("ann.lee", "ann.l\u0435e"),
    ],
)
def test_look_alike_pairs_share_a_skeleton(one: str, other: str) -> None:
    assert one != other
    assert skeleton(one) == skeleton(other)


def test_different_names_keep_different_skeletons() -> None:
    names = ["anna", "anne", "ann", "nikos", "scope", "stefan", "スーパー", "らーめん", "김민준"]
    assert len({skeleton(name) for name in names}) == len(names)
