"""Who a job or a run belongs to: the owner, and the rules about owners' names and runs.

An owner is, in the order the app can know it: the signed-in user (when the app is
private on Community Cloud or uses `st.login`), a name the student gives and that their
browser holds (claimed in the run store: `mnist_dash.runs.claims`; a reload or a new tab of
that browser keeps it), the browser (a hash of a cookie the server set, so a reload keeps
it), or the browser session alone. Limits are counted per owner, so a reload or a second
tab is the same student. Names are short printable text, shown as text everywhere; names
that differ only in case, width or look-alike letters of another script are one name.
Who may act for an owner (stop, delete, enter, count against a limit) is `may_act_for`.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from confusable_homoglyphs import confusables

NAME_MAX = 24
KINDS = ("user", "name", "browser", "session", "local")


class OwnerNameError(ValueError):
    """A name that cannot be an owner's; the message says what is wrong and how to fix it."""


@dataclass(frozen=True)
class Owner:
    key: str  # what limits and runs are counted by: "name:ada", "user:ada@example.org", "browser:1a2b3c4d5e6f"
    name: str  # what people see
    kind: str  # one of KINDS

    @property
    def anonymous(self) -> bool:
        return self.kind in ("browser", "session")


LOCAL = Owner("local", "you", "local")  # the CLI and scripts on the user's own machine


def clean_name(raw: str) -> str:
    """A name as the owner gave it, tidied: surrounding and repeated spaces removed.

    Raises OwnerNameError when it is empty, longer than NAME_MAX characters, or holds
    anything but printable characters (no control characters, no line breaks).
    """
    if not isinstance(raw, str):
        raise OwnerNameError("a name is text")
    name = " ".join(unicodedata.normalize("NFC", raw).split())
    if not name:
        raise OwnerNameError("the name is empty: type a first name or a nickname")
    if len(name) > NAME_MAX:
        raise OwnerNameError(f"the name has {len(name)} characters; use at most {NAME_MAX}")
    if not name.isprintable():
        raise OwnerNameError("the name holds characters that cannot be shown (control characters): retype it")
    return name


@lru_cache(maxsize=4096)
def _latin(character: str) -> str:
    """The Latin letter `character` looks like when it belongs to another script (Cyrillic 'а': 'a'); else itself."""
    if character.isascii() or not character.isalpha():
        return character
    found = confusables.is_confusable(character, greedy=False, preferred_aliases=["latin"])
    if not found or found[0]["alias"] in ("LATIN", "COMMON"):
        return character
    return found[0]["homoglyphs"][0]["c"].casefold()


def name_key(name: str) -> str:
    """What tells names apart: case, width (NFKC) and look-alike letters of another script do not."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(_latin(character) for character in folded)


def named(raw: str) -> Owner:
    """The owner a given name stands for; names that differ only in case, width or look-alike letters of another
    script ("Аda" with a Cyrillic А) are one owner."""
    name = clean_name(raw)
    return Owner(f"name:{name_key(name)}", name, "name")


def signed_in(email: str) -> Owner:
    email = " ".join(str(email).split())[:254]
    return Owner(f"user:{email.casefold()}", email, "user")


def browser(secret: str) -> Owner:
    """The owner behind a browser's cookie: only a hash of it is kept, never the cookie itself."""
    digest = hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()[:12]
    return Owner(f"browser:{digest}", f"anonymous ({digest[:4]})", "browser")


def session(session_id: str) -> Owner:
    digest = hashlib.sha256(session_id.encode("utf-8", "replace")).hexdigest()[:12]
    return Owner(f"session:{digest}", f"anonymous ({digest[:4]})", "session")


def may_act_for(actor: Owner, owner_key: str | None, *, teacher: bool = False) -> bool:
    """Whether `actor` may act for the owner `owner_key`: stop or cancel their jobs, delete their runs or digits,
    enter their runs in the challenge. Only the owner themself (whose name their browser holds: `runs.claims`)
    and the teacher; nobody acts for a run without an owner but the teacher."""
    return teacher or (owner_key is not None and owner_key == actor.key)


_WORDS = (
    "acorn amber anchor apple apron arrow atlas attic autumn badge bagel bamboo banjo barley basil basket beach "
    "beacon bean berry bison blanket blossom boat bonnet bottle boulder branch bread breeze brick bridge brook "
    "bubble bucket buffalo button cabin cactus camel camera candle canoe canyon carpet carrot castle cedar cello "
    "chalk cherry chess chimney cider circle citrus clock cloud clover cobalt cocoa comet compass copper coral "
    "cotton cousin coyote crane crater crayon cricket crown crystal cupcake daisy dancer delta desert diamond "
    "dinner dolphin donkey dragon drum dune eagle easel echo eclipse elbow ember engine falcon feather fern ferry "
    "fiddle finch flag flame flannel flute forest fossil fountain fox garden garnet geyser ginger giraffe glacier "
    "globe goose granite grape gravel guitar hammer harbor harvest hazel hedge helmet heron hill honey horizon "
    "hornet iceberg igloo island ivory jacket jaguar jasmine jelly jigsaw journal juniper kayak kettle kitten "
    "koala ladder lagoon lantern lemon letter lilac linen lizard lobster locket lotus magnet mango maple marble "
    "meadow melon meteor mitten monkey moose mosaic muffin mural nectar needle nest noodle nutmeg oasis ocean "
    "olive onion orbit orchid otter owl paddle palace panda paper parrot pasta peach pebble pelican pepper piano "
    "pickle pillow pine planet plum pocket pony poppy potato prism puffin pumpkin puzzle quail quartz quill "
    "rabbit radio rainbow raven ribbon river robin rocket saddle salmon sandal satin scarf seal shadow shell "
    "silver sketch sled sparrow spider spoon squash star stone sugar summit sunset swan tablet tangerine teapot "
    "thistle thunder tiger timber toast tomato topaz torch tulip tunnel turtle umbrella valley velvet violin "
    "volcano wagon walnut walrus whale whistle willow window winter wizard yarn zebra"
)
CODE_WORDS = _WORDS.split()  # a claim code is three of these (19 million codes); a browser may try 5 in 10 minutes


def claim_code() -> str:
    """A fresh claim code: three words ("maple-otter-prism"), for a name's holder to type on a second device."""
    return "-".join(secrets.choice(CODE_WORDS) for _ in range(3))


def same_code(typed: str, code: str) -> bool:
    """Whether `typed` is `code`, however it was spaced, cased or joined."""
    words = "-".join(typed.replace("-", " ").replace(",", " ").casefold().split())
    return bool(code) and secrets.compare_digest(words.encode(), code.encode())
