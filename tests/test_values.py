from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provisioning import InvalidValue
from provisioning.model import DomainName, EmailAddress, PhoneNumber, Username
from provisioning.model._converter import storage


@pytest.mark.parametrize(
    ("text", "ascii_", "unicode"),
    [
        ("acme.example", "acme.example", "acme.example"),
        ("  ACME.Example.  ", "acme.example", "acme.example"),
        ("Bücher.example", "xn--bcher-kva.example", "bücher.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example", "bücher.example"),
        ("mail.sub.acme.co.uk", "mail.sub.acme.co.uk", "mail.sub.acme.co.uk"),
    ],
)
def test_domain_names_are_normalised(text: str, ascii_: str, unicode: str) -> None:
    name = DomainName.parse(text)
    assert (name.ascii, name.unicode) == (ascii_, unicode)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "localhost",  # a single label
        "ann@acme.example",
        "-acme.example",  # a label may not start with a hyphen
        "acme-.example",
        "acme..example",
        f"{'a' * 64}.example",  # a label is at most 63 characters
        ".".join(["abcdefghij"] * 25) + ".example",  # over 253 characters
        "acme.invalid",  # special-use
        "acme_mail.example",
        "ab--cd.example",  # hyphens in positions 3-4 are reserved (IDNA)
        "xn--zz.example",  # a broken punycode label
    ],
)
def test_bad_domain_names_are_refused_with_a_code(text: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        DomainName.parse(text)
    assert caught.value.code == "domain.invalid"
    assert caught.value.field == "domain"


def test_domain_equality_uses_the_ascii_form() -> None:
    assert DomainName.parse("bücher.example") == DomainName.parse("XN--BCHER-KVA.example")


@pytest.mark.parametrize(
    ("text", "normalised", "key"),
    [
        ("ann@acme.example", "ann@acme.example", "ann@acme.example"),
        ("  Ann.Lee@ACME.example ", "Ann.Lee@acme.example", "ann.lee@acme.example"),
        ("ann@Bücher.example", "ann@bücher.example", "ann@xn--bcher-kva.example"),
        ("josé@acme.example", "josé@acme.example", "josé@acme.example"),
    ],
)
def test_email_addresses_are_normalised(text: str, normalised: str, key: str) -> None:
    address = EmailAddress.parse(text)
    assert (str(address), address.key) == (normalised, key)


def test_the_ascii_form_of_an_address_exists_only_for_an_ascii_local_part() -> None:
    assert EmailAddress.parse("ann@bücher.example").ascii == "ann@xn--bcher-kva.example"
    assert EmailAddress.parse("josé@acme.example").ascii is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ann",
        "ann@",
        "@acme.example",
        "ann@@acme.example",
        "ann lee@acme.example",
        '"ann"@acme.example',  # quoted local parts are not accepted
        "ann@[192.0.2.1]",  # nor domain literals
        "Ann <ann@acme.example>",  # nor display names
        "ann.@acme.example",
        "ann@acme",
    ],
)
def test_bad_addresses_are_refused_with_a_code(text: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        EmailAddress.parse(text)
    assert caught.value.code == "email.invalid"
    issue = caught.value.issue()
    assert (issue.code, issue.field) == ("email.invalid", "email")


def test_values_that_are_not_text_are_refused_not_crashed_on() -> None:
    for parse, code in [
        (EmailAddress.parse, "email.invalid"),
        (DomainName.parse, "domain.invalid"),
        (Username.parse, "username.invalid"),
        (PhoneNumber.parse, "phone.invalid"),
    ]:
        with pytest.raises(InvalidValue) as caught:
            parse(None)  # type: ignore[arg-type]
        assert caught.value.code == code


def test_usernames_are_fully_qualified() -> None:
    username = Username.parse("Ann@Acme.example")
    assert (username.local, username.domain.ascii, username.key) == (
        "Ann",
        "acme.example",
        "ann@acme.example",
    )
    assert Username.of("bob", DomainName.parse("acme.example")) == Username.parse(
        "bob@acme.example"
    )
    with pytest.raises(InvalidValue) as caught:
        Username.parse("ann")
    assert caught.value.code == "username.invalid"
    assert "fully qualified" in caught.value.reason


@pytest.mark.parametrize(
    ("text", "e164"),
    [("+41 44 668 18 00", "+41446681800"), ("+1 (555) 010-9999", "+15550109999")],
)
def test_phone_numbers_are_kept_in_e164(text: str, e164: str) -> None:
    assert str(PhoneNumber.parse(text)) == e164


@pytest.mark.parametrize(
    "text", ["", "0446681800", "+0446681800", "+12", "+1234567890123456", "+41 44 abc"]
)
def test_bad_phone_numbers_are_refused(text: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        PhoneNumber.parse(text)
    assert caught.value.code == "phone.invalid"


_label = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True).filter(
    lambda label: label[2:4] != "--"
)
_local = st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9._+-]{0,15}[A-Za-z0-9])?", fullmatch=True).filter(
    lambda local: ".." not in local
)
_domains = st.builds(
    lambda labels, tld: ".".join([*labels, tld]),
    st.lists(_label, min_size=1, max_size=3),
    st.sampled_from(["example", "com", "org", "ch", "de"]),
)


@given(local=_local, domain=_domains)
def test_parsed_addresses_round_trip_through_the_converter(local: str, domain: str) -> None:
    address = EmailAddress.parse(f"{local}@{domain}")
    assert EmailAddress.parse(str(address)) == address
    assert storage.structure(storage.unstructure(address), EmailAddress) == address
    username = Username.parse(f"{local}@{domain}")
    assert storage.structure(storage.unstructure(username), Username) == username


_LOCAL = st.text(alphabet="abcXYZ019.!#$%&'*+-/=?^_`{|}~ \"(),:;<>@[\\]ü", min_size=0, max_size=12)
_DOMAINS = st.sampled_from(
    [
        "acme.example",
        "ACME.Example",
        "Bücher.Example",
        "xn--bcher-kva.example",
        "münchen.de",
        "例え.テスト",
        "bad_domain.example",
        "-dash.example",
        "localhost",
        "a" * 64 + ".example",
    ]
)


@given(local=_LOCAL, domain=_DOMAINS)
def test_the_short_road_for_plain_local_parts_answers_as_email_validator_does(
    local: str, domain: str
) -> None:
    """A plain ASCII local part skips email-validator; the answer must not change."""
    from provisioning.model._values import _validated, _validated_fully  # noqa: PLC0415

    text = f"{local}@{domain}"
    try:
        expected = _validated_fully(text, field="username", code="username.invalid")
    except InvalidValue:
        expected = None
    try:
        found = _validated(text, field="username", code="username.invalid")
    except InvalidValue:
        found = None
    assert found == expected


@pytest.mark.parametrize("kind", [EmailAddress, Username])
def test_a_local_part_holds_at_most_64_octets(kind: type[EmailAddress | Username]) -> None:
    assert kind.parse("a" * 64 + "@acme.example").local == "a" * 64
    for local in ("a" * 65, "é" * 33):  # octets, as RFC 5321 counts them
        with pytest.raises(InvalidValue) as refused:
            kind.parse(f"{local}@acme.example")
        assert "64 octets" in refused.value.reason
