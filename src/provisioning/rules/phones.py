"""A phone plan's limits: the account's region and its range of extensions."""

from __future__ import annotations

from typing import Final

from provisioning.errors import Issue, codes
from provisioning.rules._tx import Tx, error

__all__ = ["extension_range_issues", "region_issues"]

CODES: Final = codes(
    invalid=(
        "extension.range_invalid",
        "phone.region_unknown",
    ),
    state=("extension.range_in_use",),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""


def region_issues(region: object) -> list[Issue]:
    """`phone.region_unknown` unless `region` is a region the numbering plans know (or None)."""
    import phonenumbers  # noqa: PLC0415 - its metadata loads when first used

    if region is None or (isinstance(region, str) and region in phonenumbers.SUPPORTED_REGIONS):
        return []
    return [
        error(
            "phone.region_unknown",
            f"{region!r} is no region a numbering plan knows: use its ISO 3166 code, such as CH",
            field="phone_region",
        )
    ]


def extension_range_issues(tx: Tx, account_id: str, low: int, high: int) -> list[Issue]:
    """An account's extension lengths: 1 to 15 digits, lowest first, fitting those in use."""
    if not 1 <= low <= high <= _LONGEST_EXTENSION:
        return [
            error(
                "extension.range_invalid",
                f"extensions have 1 to {_LONGEST_EXTENSION} digits, the fewest first,"
                f" not {low} to {high}",
                field="extension_min",
            )
        ]
    outside = sorted(
        seat.extension
        for seat in tx.uow.seats.of_account(account_id)
        if seat.extension is not None and not low <= len(seat.extension) <= high
    )
    if outside:
        return [
            error(
                "extension.range_in_use",
                f"{len(outside)} extension(s) in use would not fit, such as {outside[0]}",
                field="extension_min",
            )
        ]
    return []


_LONGEST_EXTENSION = 15  # digits: E.164's longest number, far beyond any dial plan's extensions
