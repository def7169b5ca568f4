"""Names claimed by browsers (`runs.claims`, SQLite and PostgreSQL) and who may act for an owner (`owners`)."""

from datetime import UTC, datetime, timedelta

import pytest

from mnist_dash import owners
from mnist_dash.owners import named
from mnist_dash.runs import RunStore
from mnist_dash.runs.claims import NEW_NAMES_PER_HOUR, Claims, NameRefused

ADA_PHONE, ADA_LAPTOP, MALLORY = "browser:ada-phone", "browser:ada-laptop", "browser:mallory"


def test_the_first_browser_to_use_a_name_holds_it_and_another_is_refused(database_url):
    claims = RunStore(database_url).claims
    assert claims.claim(named("Ada"), ADA_PHONE) == named("Ada")
    assert claims.claim(named("ADA"), ADA_PHONE).name == "Ada"  # the same browser again: its first spelling
    for impostor in ("Ada", "ada", " ada ", "Аda", "ＡＤＡ", "Αda"):  # case, width, Cyrillic А, Greek Α
        with pytest.raises(NameRefused, match="in use on another device") as refused:
            claims.claim(named(impostor), MALLORY)
        assert refused.value.taken
    assert claims.held_by(MALLORY) == [] and claims.held_by(ADA_PHONE) == [named("Ada")]
    assert claims.holds(ADA_PHONE, named("Ada")) and not claims.holds(MALLORY, named("Ada"))


def test_claims_survive_a_restart(database_url):
    RunStore(database_url).claims.claim(named("Ada"), ADA_PHONE)
    again = RunStore(database_url).claims  # a new server on the same database
    assert again.held_by(ADA_PHONE) == [named("Ada")]
    with pytest.raises(NameRefused):
        again.claim(named("ada"), MALLORY)


def test_the_claim_code_lets_a_second_device_of_the_holder_in_and_a_wrong_one_does_not(database_url):
    claims = RunStore(database_url).claims
    claims.claim(named("Ada"), ADA_PHONE)
    code = claims.code(named("Ada"), ADA_PHONE)
    assert code is not None and len(code.split("-")) == 3 and all(w in owners.CODE_WORDS for w in code.split("-"))
    assert claims.code(named("Ada"), MALLORY) is None  # only a holder sees it
    assert not claims.join(named("Ada"), MALLORY, "maple-otter-prism" if code != "maple-otter-prism" else "a-b-c")
    assert not claims.join(named("Ada"), MALLORY, "")
    assert claims.join(named("Ada"), ADA_LAPTOP, code.upper().replace("-", " "))  # however it is typed
    assert claims.claim(named("Ada"), ADA_LAPTOP) == named("Ada")
    assert [claim.browsers for claim in claims.everyone()] == [2]
    with pytest.raises(NameRefused):
        claims.claim(named("Ada"), MALLORY)


def test_the_teacher_releases_a_name_and_the_next_browser_holds_it(database_url):
    claims = RunStore(database_url).claims
    claims.claim(named("Ada"), ADA_PHONE)
    assert claims.release(named("Ada").key) and not claims.release(named("Ada").key)
    assert claims.held_by(ADA_PHONE) == []
    assert claims.claim(named("ada"), ADA_LAPTOP).name == "ada"  # a lost phone: the new device holds it now
    with pytest.raises(NameRefused):
        claims.claim(named("Ada"), ADA_PHONE)


def test_a_browser_starts_at_most_three_new_names_an_hour(database_url):
    now = [datetime(2026, 12, 3, 9, 0, tzinfo=UTC)]
    claims = Claims(RunStore(database_url).engine, clock=lambda: now[0])
    for number in range(NEW_NAMES_PER_HOUR):
        claims.claim(named(f"student {number}"), MALLORY)
        now[0] += timedelta(minutes=5)
    with pytest.raises(NameRefused, match="3 new names in the last hour") as refused:
        claims.claim(named("student 99"), MALLORY)
    assert not refused.value.taken
    assert claims.claim(named("student 1"), MALLORY).name == "student 1"  # its own names: yes
    assert claims.held_by(MALLORY)[0].name == "student 1"  # the one it chose last comes first
    claims.claim(named("Bo"), ADA_PHONE)  # another browser is not held back
    now[0] += timedelta(minutes=50)
    assert claims.claim(named("student 99"), MALLORY).name == "student 99"  # an hour after the first


def test_only_the_owner_and_the_teacher_may_act_for_an_owner():
    ada, bo = named("Ada"), named("Bo")
    assert owners.may_act_for(ada, ada.key) and not owners.may_act_for(bo, ada.key)
    assert owners.may_act_for(bo, ada.key, teacher=True)
    assert not owners.may_act_for(ada, None) and owners.may_act_for(ada, None, teacher=True)


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ("Ada", "ada", True),
        ("Ada", "Аda", True),  # Cyrillic А
        ("Ada", "Αda", True),  # Greek Α
        ("ada", "ａｄａ", True),  # fullwidth
        ("Olga", "Оlgа", True),
        ("José", "Jose", False),  # an accent is a different name, not a look-alike of another script
        ("Мария", "Maria", False),  # a name wholly in Cyrillic stays itself
        ("Bo", "Bob", False),
    ],
)
def test_names_differing_only_by_look_alike_letters_of_another_script_are_one_name(one, other, same):
    assert (named(one).key == named(other).key) is same


def test_a_claim_code_is_compared_however_it_is_typed():
    assert owners.same_code(" Maple  Otter-PRISM ", "maple-otter-prism")
    assert not owners.same_code("maple-otter", "maple-otter-prism") and not owners.same_code("", "")
