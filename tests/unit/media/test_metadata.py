"""Metadata limits, normalisation and moderation, without any network."""

from __future__ import annotations

import pytest

from media_svc.domain.metadata import (
    Blocklist,
    MetadataInvalid,
    MetadataPolicy,
    MetadataRefused,
    ModerationMode,
    RawMetadata,
    VideoMetadata,
    normalise,
    normalise_description,
    normalise_hashtags,
    normalise_sound_id,
    normalise_title,
)
from media_svc.domain.videos import InvalidArgument


def test_title_is_trimmed_and_whitespace_collapsed() -> None:
    assert normalise_title("  My \t first\n\nclip  ") == "My first clip"


@pytest.mark.parametrize("raw", [None, "", "   ", "\n\t"])
def test_title_is_required(raw: str | None) -> None:
    with pytest.raises(MetadataInvalid, match="title: is required") as caught:
        normalise_title(raw)
    assert caught.value.field == "title"
    assert isinstance(caught.value, InvalidArgument)


def test_title_length_counts_characters_after_trimming() -> None:
    assert normalise_title("  " + "é" * 150 + "  ") == "é" * 150
    with pytest.raises(MetadataInvalid, match="151 characters; at most 150"):
        normalise_title("x" * 151)


@pytest.mark.security
def test_control_and_bidi_override_characters_are_removed() -> None:
    # U+202E would display "txt.exe" reversed; NUL and BEL have no business in a title.
    assert normalise_title("evil\u202eexe.txt\x00\x07clip") == "evilexe.txt clip"
    assert normalise_description("line one\r\nline\x00two") == "line one\nline two"


def test_description_keeps_line_breaks_and_is_bounded() -> None:
    assert normalise_description("  first line\nsecond line \n") == "first line\nsecond line"
    assert normalise_description("d" * 2200) == "d" * 2200
    with pytest.raises(MetadataInvalid, match="description: has 2201 characters"):
        normalise_description("d" * 2201)


def test_hashtags_are_split_lowercased_stripped_and_deduplicated() -> None:
    tags = normalise_hashtags(["#Dance, #dance  #FUN", "fun", "##Summer_2026", "#", "Été"])
    assert tags == ("dance", "fun", "summer_2026", "été")


def test_hashtag_limits() -> None:
    assert len(normalise_hashtags([f"tag{i}" for i in range(30)])) == 30
    # Duplicates do not count twice against the limit.
    assert len(normalise_hashtags([f"tag{i}" for i in range(30)] + ["#TAG0"])) == 30
    with pytest.raises(MetadataInvalid, match="31 distinct hashtags; at most 30"):
        normalise_hashtags([f"tag{i}" for i in range(31)])
    assert normalise_hashtags(["a" * 50]) == ("a" * 50,)
    with pytest.raises(MetadataInvalid, match="longer than 50"):
        normalise_hashtags(["#" + "a" * 51])


@pytest.mark.parametrize("bad", ["rock&roll", "c++", "<script>", "drop;table"])
def test_hashtags_hold_only_letters_digits_and_underscores(bad: str) -> None:
    with pytest.raises(MetadataInvalid, match="only letters, digits and underscores"):
        normalise_hashtags([bad])


def test_sound_id_format() -> None:
    assert normalise_sound_id("") is None
    assert normalise_sound_id("  snd_123-abc ") == "snd_123-abc"
    for bad in ("-leading", "has space", "../etc/passwd", "x" * 65, "ünï"):
        with pytest.raises(MetadataInvalid, match="sound_id"):
            normalise_sound_id(bad)


def test_normalise_builds_the_stored_form() -> None:
    stored = normalise(
        RawMetadata(title=" Hi ", description=" d ", hashtags=["#A", "b"], sound_id="s1")
    )
    assert stored == VideoMetadata("Hi", "d", ("a", "b"), "s1")


POLICY_TERMS = ["spam", "#scam", "buy followers"]


def _policy(mode: ModerationMode) -> MetadataPolicy:
    return MetadataPolicy(Blocklist(POLICY_TERMS), mode)


@pytest.mark.security
@pytest.mark.parametrize(
    ("raw", "field", "term"),
    [
        (RawMetadata(title="Great SPAM offer"), "title", "spam"),
        (
            RawMetadata(title="ok", description="Buy   Followers now"),
            "description",
            "buy followers",
        ),
        (RawMetadata(title="ok", hashtags=["#Scam"]), "hashtags", "#scam"),
        (RawMetadata(title="ok", hashtags=["spam"]), "hashtags", "spam"),
        # Full-width look-alikes fold onto plain letters.
        (RawMetadata(title="\uff53\uff50\uff41\uff4d here"), "title", "spam"),
        (RawMetadata(title="see #scam inside"), "title", "#scam"),
    ],
)
def test_refuse_mode_names_the_term_and_field(raw: RawMetadata, field: str, term: str) -> None:
    with pytest.raises(MetadataRefused) as caught:
        _policy(ModerationMode.REFUSE).check(raw)
    assert (caught.value.field, caught.value.term) == (field, term)
    assert field in str(caught.value) and repr(term) in str(caught.value)
    assert isinstance(caught.value, InvalidArgument)


def test_terms_match_whole_words_only() -> None:
    checked = _policy(ModerationMode.REFUSE).check(
        RawMetadata(title="spammer scampi", description="the scam word", hashtags=["spamalot"])
    )
    # "#scam" is a hashtag term: the plain word "scam" in the text does not match it.
    assert checked.flags == ()


def test_flag_mode_accepts_and_records_every_match_with_a_reason() -> None:
    checked = _policy(ModerationMode.FLAG).check(
        RawMetadata(title="spam spam", description="buy followers", hashtags=["scam", "fun"])
    )
    assert checked.metadata.title == "spam spam"
    assert [(f.field, f.term) for f in checked.flags] == [
        ("title", "spam"),
        ("description", "buy followers"),
        ("hashtags", "#scam"),
    ]
    assert all("moderation blocklist" in f.reason for f in checked.flags)
    assert checked.flags[0].as_json() == {
        "field": "title",
        "term": "spam",
        "reason": checked.flags[0].reason,
    }


def test_empty_blocklist_flags_nothing() -> None:
    policy = MetadataPolicy(Blocklist([]), ModerationMode.REFUSE)
    assert policy.check(RawMetadata(title="spam")).flags == ()


def test_precheck_refuses_early_but_waits_for_a_missing_title() -> None:
    policy = _policy(ModerationMode.REFUSE)
    policy.precheck(RawMetadata(title=None, hashtags=["fine"]))  # the title may come later
    with pytest.raises(MetadataRefused):
        policy.precheck(RawMetadata(title=None, description="spam"))
    with pytest.raises(MetadataInvalid, match="hashtags"):
        policy.precheck(RawMetadata(title=None, hashtags=[f"t{i}" for i in range(31)]))
    with pytest.raises(MetadataInvalid, match="title"):
        policy.precheck(RawMetadata(title=""))
