import pytest

from core import uscc
from core.models import Organization


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110108551385082Q"])
def test_uscc_known_codes_valid(code):
    assert uscc.is_valid(code)


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110108551385082Q"])
def test_uscc_any_single_changed_character_invalid(code):
    for i in range(18):
        for c in uscc.ALPHABET:
            if c != code[i]:
                assert not uscc.is_valid(code[:i] + c + code[i + 1:]), (i, c)


@pytest.mark.parametrize("first", ["Y", "N", "A"])
def test_uscc_leading_y_n_a_valid_with_correct_check(first):
    body = first + "1330109MA2H3K4L0"
    assert uscc.is_valid(body + uscc.check_character(body))


def test_uscc_forbidden_letters_and_length_invalid():
    assert not uscc.is_valid("91350100M000100Y4")
    assert not uscc.is_valid("91350100M000100I43")
    assert not uscc.is_valid("")


def test_uscc_lower_case_accepted_and_stored_upper(db):
    org = Organization(kind="enterprise", name="小写测试", uscc="91350100m000100y43")
    org.full_clean()
    org.save()
    org.refresh_from_db()
    assert org.uscc == "91350100M000100Y43"
