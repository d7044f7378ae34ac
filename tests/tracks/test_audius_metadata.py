"""Audius metadata on tracks: attributes, access gates, DDEX credits, remixes and stems, filters.

Written from the API contract only: tracks are created and read back through the API.
"""

import pytest

from tests.assertions import errors_by_pointer, ids
from tests.factories import make_product, track_document
from tracks.models import Track

pytestmark = pytest.mark.django_db

TRACKS = "/api/v1/tracks"

GENRES = [
    "Electronic", "Rock", "Metal", "Alternative", "Hip-Hop/Rap", "Experimental", "Punk", "Folk",
    "Pop", "Ambient", "Soundtrack", "World", "Jazz", "Acoustic", "Funk", "R&B/Soul",
    "Devotional", "Classical", "Reggae", "Podcasts", "Country", "Spoken Word", "Comedy", "Blues",
    "Kids", "Audiobooks", "Latin", "Lo-Fi", "Hyperpop", "Dancehall", "Techno", "Trap", "House",
    "Tech House", "Deep House", "Disco", "Electro", "Jungle", "Progressive House", "Hardstyle",
    "Glitch Hop", "Trance", "Future Bass", "Future House", "Tropical House", "Downtempo",
    "Drum & Bass", "Dubstep", "Jersey Club", "Vaporwave", "Moombahton",
]  # fmt: skip
MOODS = [
    "Peaceful", "Romantic", "Sentimental", "Tender", "Easygoing", "Yearning", "Sophisticated",
    "Sensual", "Cool", "Gritty", "Melancholy", "Serious", "Brooding", "Fiery", "Defiant",
    "Aggressive", "Rowdy", "Excited", "Energizing", "Empowering", "Stirring", "Upbeat", "Other",
]  # fmt: skip
TONICS = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
KEYS = [f"{tonic} {mode}" for tonic in TONICS for mode in ("major", "minor")]
STEM_CATEGORIES = [
    "instrumental", "lead_vocals", "melodic_lead", "pad", "snare", "kick", "hihat",
    "percussion", "sample", "backing_vocals", "bass", "other",
]  # fmt: skip
PARENTAL_WARNINGS = [
    "Explicit",
    "NotExplicit",
    "ExplicitContentEdited",
    "NoAdviceAvailable",
    "Unknown",
]
CID_MEMBERS = ["track-cid", "orig-file-cid", "cover-art-cid", "preview-cid", "cover-art-sizes"]
CID_V0 = "QmWATWQ7fVPP2EFGu71UkfnqhYXDYH566qy47CnJDgvs8u"
CID_V1 = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"
FLAGS = [
    "is-downloadable",
    "is-unlisted",
    "is-stream-gated",
    "is-download-gated",
    "is-owned-by-user",
    "no-ai-use",
]
CONTRIBUTOR_MEMBERS = ["artists", "resource-contributors", "indirect-resource-contributors"]
COPYRIGHT_MEMBERS = ["copyright-line", "producer-copyright-line"]
# (conditions member, the flag that requires it)
GATES = [("stream-conditions", "is-stream-gated"), ("download-conditions", "is-download-gated")]

TIP = {"tip-user-id": 7}
FOLLOW = {"follow-user-id": 3}
PURCHASE = {
    "usdc-purchase": {
        "price": 1.99,
        "splits": [{"user-id": 1, "percentage": 60}, {"user-id": 2, "percentage": 40}],
    }
}
TOKEN = {
    "token-gate": {"token-mint": "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "token-amount": 1}
}
CONTRIBUTORS = [
    {"name": "Ana", "roles": ["MainArtist"], "sequence-number": 0},
    {"name": "Bo", "roles": ["FeaturedArtist", "Composer"], "sequence-number": 1},
]

# Members that read back as null when absent (the flags default to false instead).
NULLABLE_MEMBERS = [
    "description", "genre", "mood", "bpm", "musical-key", "tags", "license", "iswc-code",
    "release-date", *CID_MEMBERS, "orig-filename", "preview-start-seconds", "duration",
    "stream-conditions", "download-conditions", "field-visibility", "placement-hosts",
    "stem-category", "ddex-app", "ddex-release-ids", *CONTRIBUTOR_MEMBERS, "rights-controller",
    *COPYRIGHT_MEMBERS, "parental-warning-type", "cover-original-song-title",
    "cover-original-artist", "territory-codes",
]  # fmt: skip


@pytest.fixture
def product():
    return make_product()


def ref(track_id):
    return {"type": "tracks", "id": str(track_id)}


def create(api, product, relationships=None, **attributes):
    """POST a valid track with ``attributes`` (dasherized) and return the created resource."""
    document = track_document(product, **attributes)
    document["data"]["relationships"].update(relationships or {})
    response = api.post_doc(TRACKS, document)
    assert response.status_code == 201, response.document
    return response.document["data"]


def read(api, track_id, params=None):
    response = api.get(f"{TRACKS}/{track_id}", params or {})
    assert response.status_code == 200, response.document
    return response.document


def post_invalid(api, document, pointer, code=None, status=422):
    """POST ``document``, expect an error at ``pointer`` (with ``code``) and no track written."""
    count = Track.objects.count()
    response = api.post_doc(TRACKS, document)
    errors = errors_by_pointer(response, status)
    assert pointer in errors, errors
    assert errors[pointer]["status"] == str(status)
    if code is not None:
        assert errors[pointer]["code"] == code, errors[pointer]
    assert Track.objects.count() == count
    return errors[pointer]


def post_invalid_under(api, document, prefix, code):
    """Like post_invalid when the contract fixes only the start of the pointer."""
    count = Track.objects.count()
    response = api.post_doc(TRACKS, document)
    errors = errors_by_pointer(response, 422)
    matching = [e for p, e in errors.items() if p == prefix or p.startswith(prefix + "/")]
    assert matching, errors
    assert any(e["code"] == code for e in matching), matching
    assert Track.objects.count() == count


def patch(api, track_id, attributes=None, relationships=None):
    data = {"type": "tracks", "id": str(track_id)}
    if attributes is not None:
        data["attributes"] = attributes
    if relationships is not None:
        data["relationships"] = relationships
    return api.patch_doc(f"{TRACKS}/{track_id}", {"data": data})


def patch_invalid(api, track_id, pointer, code, attributes=None, relationships=None, status=422):
    """PATCH, expect an error at ``pointer`` with ``code`` and the resource unchanged."""
    before = read(api, track_id)["data"]
    response = patch(api, track_id, attributes, relationships)
    errors = errors_by_pointer(response, status)
    assert pointer in errors, errors
    assert errors[pointer]["code"] == code, errors[pointer]
    assert read(api, track_id)["data"] == before
    return errors[pointer]


def relationship_ids(api, track_id, name):
    response = api.get(f"{TRACKS}/{track_id}/relationships/{name}")
    assert response.status_code == 200, response.document
    data = response.document["data"]
    if isinstance(data, list):
        assert all(item["type"] == "tracks" for item in data)
        return sorted(item["id"] for item in data)
    return data


# Defaults.


def test_absent_members_read_back_as_null_and_flags_as_false(api, product):
    created = create(api, product)
    for document in ({"data": created}, read(api, created["id"])):
        attributes = document["data"]["attributes"]
        assert {m: attributes[m] for m in NULLABLE_MEMBERS} == dict.fromkeys(NULLABLE_MEMBERS)
        assert {m: attributes[m] for m in FLAGS} == dict.fromkeys(FLAGS, False)
        assert document["data"]["relationships"]["stem-of"]["data"] is None
    # To-many linkage is not inlined without include (as for `records`); ask the endpoint.
    assert relationship_ids(api, created["id"], "remix-of") == []


# Valid values round-trip: created via POST, read back via GET, exact value.

VALID = [
    ("description", "x" * 1000, "x" * 1000),
    ("description", "A slow-burning track.", "A slow-burning track."),
    *[("genre", genre, genre) for genre in GENRES],
    *[("mood", mood, mood) for mood in MOODS],
    ("bpm", 128, 128),
    ("bpm", 120.5, 120.5),
    *[("musical-key", key, key) for key in KEYS],
    ("tags", "rock, indie ,, live ", "rock,indie,live"),
    ("tags", "ambient", "ambient"),
    ("license", "CC BY-NC 4.0", "CC BY-NC 4.0"),
    ("iswc-code", "T-034.524.680-1", "T-034524680-1"),
    ("iswc-code", "T0345246801", "T-034524680-1"),
    ("iswc-code", "T-034524680-1", "T-034524680-1"),
    ("release-date", "2024-03-15", "2024-03-15"),
    *[(member, cid, cid) for member in CID_MEMBERS for cid in (CID_V0, CID_V1)],
    ("orig-filename", "master final (v2).wav", "master final (v2).wav"),
    ("preview-start-seconds", 30, 30),
    ("preview-start-seconds", 0, 0),
    ("preview-start-seconds", 12.5, 12.5),
    ("duration", 215.25, 215.25),
    ("duration", 0, 0),
    *[(flag, True, True) for flag in FLAGS if flag not in ("is-stream-gated", "is-download-gated")],
    *[(flag, False, False) for flag in FLAGS],
    ("stream-conditions", None, None),
    ("download-conditions", None, None),
    (
        "field-visibility",
        {
            "genre": True,
            "mood": False,
            "tags": True,
            "share": False,
            "play-count": True,
            "remixes": False,
        },
        {
            "genre": True,
            "mood": False,
            "tags": True,
            "share": False,
            "play-count": True,
            "remixes": False,
        },
    ),
    ("field-visibility", {"genre": False}, {"genre": False}),
    ("placement-hosts", "host-a.example,host-b.example", "host-a.example,host-b.example"),
    ("ddex-app", "ddex-ingest", "ddex-ingest"),
    (
        "ddex-release-ids",
        {"upc": "036000291452", "icpn": "5901234123457"},
        {"upc": "036000291452", "icpn": "5901234123457"},
    ),
    *[(member, CONTRIBUTORS, CONTRIBUTORS) for member in CONTRIBUTOR_MEMBERS],
    *[(member, None, None) for member in CONTRIBUTOR_MEMBERS],
    (
        "rights-controller",
        {"name": "Label Ltd", "roles": ["RightsController"], "rights-share-unknown": False},
        {"name": "Label Ltd", "roles": ["RightsController"], "rights-share-unknown": False},
    ),
    ("rights-controller", None, None),
    *[
        (
            member,
            {"year": "2024", "text": "2024 Label Ltd"},
            {"year": "2024", "text": "2024 Label Ltd"},
        )
        for member in COPYRIGHT_MEMBERS
    ],
    *[(member, None, None) for member in COPYRIGHT_MEMBERS],
    *[("parental-warning-type", value, value) for value in PARENTAL_WARNINGS],
    ("cover-original-song-title", "Yesterday", "Yesterday"),
    ("cover-original-artist", "The Beatles", "The Beatles"),
    ("territory-codes", ["US", "GB"], ["US", "GB"]),
    ("territory-codes", None, None),
]


@pytest.mark.parametrize(("member", "value", "expected"), VALID)
def test_valid_member_round_trips(api, product, member, value, expected):
    created = create(api, product, **{member: value})
    assert created["attributes"][member] == expected
    assert read(api, created["id"])["data"]["attributes"][member] == expected


@pytest.mark.parametrize("member", CONTRIBUTOR_MEMBERS)
def test_contributor_without_sequence_number_is_accepted(api, product, member):
    created = create(api, product, **{member: [{"name": "Ana", "roles": ["Producer"]}]})
    [contributor] = read(api, created["id"])["data"]["attributes"][member]
    assert (contributor["name"], contributor["roles"]) == ("Ana", ["Producer"])
    assert contributor.get("sequence-number") is None


@pytest.mark.parametrize(("member", "flag"), GATES)
@pytest.mark.parametrize("conditions", [TIP, FOLLOW, PURCHASE, TOKEN])
def test_gated_track_round_trips_conditions(api, product, member, flag, conditions):
    created = create(api, product, **{flag: True, member: conditions})
    for document in ({"data": created}, read(api, created["id"])):
        attributes = document["data"]["attributes"]
        assert attributes[flag] is True
        assert attributes[member] == conditions


# Invalid values: 422 at the member, with the contract's code, nothing written.

INVALID = [
    ("description", "x" * 1001, "max_length"),
    ("genre", "rock", "invalid_choice"),
    ("genre", "Polka", "invalid_choice"),
    ("mood", "upbeat", "invalid_choice"),
    ("mood", "Happy", "invalid_choice"),
    ("bpm", 0, "not_positive"),
    ("bpm", -5, "not_positive"),
    ("bpm", "120", "invalid_type"),
    ("musical-key", "Db major", "invalid_choice"),
    ("musical-key", "H minor", "invalid_choice"),
    ("iswc-code", "T-034.524.680-2", "invalid_iswc"),
    ("iswc-code", "X-034524680-1", "invalid_iswc"),
    ("iswc-code", "T-12345", "invalid_iswc"),
    *[
        (member, bad, "invalid_cid")
        for member in CID_MEMBERS
        for bad in ("Qmnotacid", "bafy123", "hello")
    ],
    ("preview-start-seconds", -1, "negative"),
    ("duration", -1, "negative"),
    *[(flag, "true", "invalid_type") for flag in FLAGS],
    ("field-visibility", {"colour": True}, "invalid_visibility"),
    ("field-visibility", {"playCount": True}, "invalid_visibility"),
    ("field-visibility", {"genre": "yes"}, "invalid_visibility"),
    ("field-visibility", {"genre": 1}, "invalid_visibility"),
    ("field-visibility", "genre", "invalid_visibility"),
    ("field-visibility", ["genre"], "invalid_visibility"),
    ("parental-warning-type", "explicit", "invalid_choice"),
    ("parental-warning-type", "Clean", "invalid_choice"),
]


@pytest.mark.parametrize(("member", "value", "code"), INVALID)
def test_invalid_member_is_422(api, product, member, value, code):
    document = track_document(product, **{member: value})
    post_invalid(api, document, f"/data/attributes/{member}", code)


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("description", 5),
        ("license", 5),
        ("tags", ["rock"]),
        ("orig-filename", 1),
        ("placement-hosts", True),
        ("release-date", "2024-02-30"),
        ("release-date", "15/03/2024"),
        ("stem-category", "vocals"),
        ("ddex-app", 3),
        ("cover-original-artist", ["x"]),
    ],
)
def test_wrongly_typed_member_is_422(api, product, member, value):
    document = track_document(product, **{member: value})
    post_invalid(api, document, f"/data/attributes/{member}")


# Access gates.

CONDITION_ERRORS = [
    ({"tip-user-id": 1, "follow-user-id": 2}, ""),
    ({"nft-collection": {"chain": "eth"}}, ""),
    ("tip-user-id", ""),
    ([{"tip-user-id": 1}], ""),
    ({}, ""),
    (
        {"usdc-purchase": {"price": 0, "splits": [{"user-id": 1, "percentage": 100}]}},
        "/usdc-purchase/price",
    ),
    ({"usdc-purchase": {"price": 1, "splits": []}}, "/usdc-purchase/splits"),
    (
        {
            "usdc-purchase": {
                "price": 1,
                "splits": [{"user-id": 1, "percentage": 50}, {"user-id": 2, "percentage": 40}],
            }
        },
        "/usdc-purchase/splits",
    ),
    ({"token-gate": {"token-mint": "abc", "token-amount": 0}}, "/token-gate/token-amount"),
    ({"tip-user-id": 0}, "/tip-user-id"),
    ({"tip-user-id": "5"}, "/tip-user-id"),
    ({"follow-user-id": 0}, "/follow-user-id"),
]


@pytest.mark.parametrize(("member", "flag"), GATES)
@pytest.mark.parametrize(("conditions", "suffix"), CONDITION_ERRORS)
def test_invalid_conditions_are_422(api, product, member, flag, conditions, suffix):
    document = track_document(product, **{flag: True, member: conditions})
    post_invalid(api, document, f"/data/attributes/{member}{suffix}", "invalid_condition")


@pytest.mark.parametrize(("member", "flag"), GATES)
@pytest.mark.parametrize(
    ("gated", "conditions", "code"),
    [
        (True, "absent", "conditions_required"),
        (True, None, "conditions_required"),
        (False, TIP, "conditions_forbidden"),
        ("absent", TIP, "conditions_forbidden"),
        ("absent", PURCHASE, "conditions_forbidden"),
    ],
)
def test_gate_flag_and_conditions_must_agree(api, product, member, flag, gated, conditions, code):
    attributes = {}
    if gated != "absent":
        attributes[flag] = gated
    if conditions != "absent":
        attributes[member] = conditions
    document = track_document(product, **attributes)
    post_invalid(api, document, f"/data/attributes/{member}", code)


@pytest.mark.parametrize(("member", "flag"), GATES)
def test_patch_gate_flag_without_stored_conditions_is_409(api, product, member, flag):
    """The document is valid; the stored track (no conditions) is what forbids it."""
    track = create(api, product)
    patch_invalid(
        api, track["id"], f"/data/attributes/{member}", "state_conflict", {flag: True}, status=409
    )


@pytest.mark.parametrize(("member", "flag"), GATES)
def test_patch_gate_flag_with_null_conditions_is_422(api, product, member, flag):
    """Both members sent and inconsistent: the document itself is invalid."""
    track = create(api, product)
    patch_invalid(
        api,
        track["id"],
        f"/data/attributes/{member}",
        "conditions_required",
        {flag: True, member: None},
    )


@pytest.mark.parametrize(("member", "flag"), GATES)
def test_patch_removing_conditions_of_gated_track_is_409(api, product, member, flag):
    track = create(api, product, **{flag: True, member: TIP})
    patch_invalid(
        api, track["id"], f"/data/attributes/{member}", "state_conflict", {member: None}, status=409
    )


@pytest.mark.parametrize(("member", "flag"), GATES)
def test_patch_ungating_clears_both(api, product, member, flag):
    track = create(api, product, **{flag: True, member: TIP})
    response = patch(api, track["id"], {flag: False, member: None})
    assert response.status_code == 200, response.document
    attributes = read(api, track["id"])["data"]["attributes"]
    assert (attributes[flag], attributes[member]) == (False, None)


@pytest.mark.parametrize(("member", "flag"), GATES)
def test_patch_gating_with_conditions(api, product, member, flag):
    track = create(api, product)
    response = patch(api, track["id"], {flag: True, member: PURCHASE})
    assert response.status_code == 200, response.document
    attributes = read(api, track["id"])["data"]["attributes"]
    assert (attributes[flag], attributes[member]) == (True, PURCHASE)


def test_patch_tags_are_normalised(api, product):
    track = create(api, product, tags="a")
    response = patch(api, track["id"], {"tags": " x ,y,, z"})
    assert response.status_code == 200, response.document
    assert response.document["data"]["attributes"]["tags"] == "x,y,z"
    assert read(api, track["id"])["data"]["attributes"]["tags"] == "x,y,z"


# DDEX.


@pytest.mark.parametrize(
    "value", [{"upc": 36000291452}, {"upc": None}, {"grid": ["A1"]}, "036000291452", ["x"]]
)
def test_invalid_ddex_release_ids_is_422(api, product, value):
    document = track_document(product, **{"ddex-release-ids": value})
    post_invalid_under(api, document, "/data/attributes/ddex-release-ids", "invalid_ddex")


@pytest.mark.parametrize("member", CONTRIBUTOR_MEMBERS)
@pytest.mark.parametrize(
    ("value", "suffix"),
    [
        ([{"name": "", "roles": ["Composer"]}], "/0/name"),
        ([{"roles": ["Composer"]}], "/0/name"),
        ([{"name": 5, "roles": ["Composer"]}], "/0/name"),
        ([{"name": "Ana", "roles": []}], "/0/roles"),
        ([{"name": "Ana"}], "/0/roles"),
        ([{"name": "Ana", "roles": "Composer"}], "/0/roles"),
        ([{"name": "Ana", "roles": ["Composer"], "sequence-number": -1}], "/0/sequence-number"),
        ([{"name": "Ana", "roles": ["Composer"], "sequence-number": "1"}], "/0/sequence-number"),
        ([CONTRIBUTORS[0], {"name": "", "roles": ["Composer"]}], "/1/name"),
    ],
)
def test_invalid_contributor_is_422(api, product, member, value, suffix):
    document = track_document(product, **{member: value})
    post_invalid(api, document, f"/data/attributes/{member}{suffix}", "invalid_contributor")


@pytest.mark.parametrize("member", CONTRIBUTOR_MEMBERS)
@pytest.mark.parametrize(
    "value",
    [
        [{"name": "Ana", "roles": [""]}],
        "Ana",
        ["Ana"],
        {"name": "Ana", "roles": ["Composer"]},
    ],
)
def test_malformed_contributors_are_422(api, product, member, value):
    document = track_document(product, **{member: value})
    post_invalid_under(api, document, f"/data/attributes/{member}", "invalid_contributor")


@pytest.mark.parametrize(
    ("value", "suffix"),
    [
        ({"name": "", "roles": ["RightsController"]}, "/name"),
        ({"roles": ["RightsController"]}, "/name"),
        ({"name": "Label", "roles": []}, "/roles"),
        ({"name": "Label"}, "/roles"),
        (
            {"name": "Label", "roles": ["RightsController"], "rights-share-unknown": "yes"},
            "/rights-share-unknown",
        ),
    ],
)
def test_invalid_rights_controller_is_422(api, product, value, suffix):
    document = track_document(product, **{"rights-controller": value})
    post_invalid(
        api, document, f"/data/attributes/rights-controller{suffix}", "invalid_contributor"
    )


@pytest.mark.parametrize("member", COPYRIGHT_MEMBERS)
@pytest.mark.parametrize(
    ("value", "suffix"),
    [
        ({"year": "24", "text": "Label"}, "/year"),
        ({"year": 2024, "text": "Label"}, "/year"),
        ({"year": "20245", "text": "Label"}, "/year"),
        ({"year": "2024", "text": ""}, "/text"),
    ],
)
def test_invalid_copyright_line_is_422(api, product, member, value, suffix):
    document = track_document(product, **{member: value})
    post_invalid(api, document, f"/data/attributes/{member}{suffix}", "invalid_copyright")


@pytest.mark.parametrize("codes", [["US", "XX"], ["US", "us"], ["GB", "USA"]])
def test_invalid_territory_code_is_422(api, product, codes):
    document = track_document(product, **{"territory-codes": codes})
    post_invalid(api, document, "/data/attributes/territory-codes/1", "invalid_territory")


# Remixes and stems.


def test_remix_of_round_trips_and_is_listed(api, product):
    first, second = create(api, product), create(api, product)
    remix = create(api, product, {"remix-of": {"data": [ref(first["id"]), ref(second["id"])]}})
    expected = sorted([first["id"], second["id"]])
    assert relationship_ids(api, remix["id"], "remix-of") == expected
    document = read(api, remix["id"], {"include": "remix-of"})
    linkage = document["data"]["relationships"]["remix-of"]["data"]
    assert sorted(item["id"] for item in linkage) == expected


def test_include_remix_of(api, product):
    parent = create(api, product, title="Original")
    remix = create(api, product, {"remix-of": {"data": [ref(parent["id"])]}})
    document = read(api, remix["id"], {"include": "remix-of"})
    assert document["data"]["relationships"]["remix-of"]["data"] == [ref(parent["id"])]
    included = {(r["type"], r["id"]): r for r in document["included"]}
    assert set(included) == {("tracks", parent["id"])}
    assert included[("tracks", parent["id"])]["attributes"]["title"] == "Original"


def test_empty_remix_of_is_422(api, product):
    document = track_document(product)
    document["data"]["relationships"]["remix-of"] = {"data": []}
    post_invalid(api, document, "/data/relationships/remix-of")


def test_remix_of_unknown_track_is_404(api, product):
    document = track_document(product)
    document["data"]["relationships"]["remix-of"] = {"data": [ref(999999)]}
    post_invalid(api, document, "/data/relationships/remix-of", "does_not_exist", status=404)


@pytest.mark.parametrize("category", STEM_CATEGORIES)
def test_stem_of_round_trips(api, product, category):
    parent = create(api, product)
    stem = create(
        api, product, {"stem-of": {"data": ref(parent["id"])}}, **{"stem-category": category}
    )
    for document in ({"data": stem}, read(api, stem["id"])):
        assert document["data"]["relationships"]["stem-of"]["data"] == ref(parent["id"])
        assert document["data"]["attributes"]["stem-category"] == category
    assert relationship_ids(api, stem["id"], "stem-of") == ref(parent["id"])


def test_stem_of_null_without_category_is_accepted(api, product):
    track = create(api, product, {"stem-of": {"data": None}})
    document = read(api, track["id"])
    assert document["data"]["relationships"]["stem-of"]["data"] is None
    assert document["data"]["attributes"]["stem-category"] is None


def test_stem_category_without_stem_of_is_422(api, product):
    document = track_document(product, **{"stem-category": "bass"})
    post_invalid(api, document, "/data/attributes/stem-category", "stem_category")


def test_stem_of_without_stem_category_is_422(api, product):
    parent = create(api, product)
    document = track_document(product)
    document["data"]["relationships"]["stem-of"] = {"data": ref(parent["id"])}
    post_invalid(api, document, "/data/attributes/stem-category", "stem_category")


def test_track_cannot_remix_itself(api, product):
    track = create(api, product)
    relationships = {"remix-of": {"data": [ref(track["id"])]}}
    patch_invalid(
        api,
        track["id"],
        "/data/relationships/remix-of",
        "self_reference",
        relationships=relationships,
        status=409,
    )
    assert relationship_ids(api, track["id"], "remix-of") == []


def test_track_cannot_be_its_own_stem(api, product):
    track = create(api, product)
    patch_invalid(
        api,
        track["id"],
        "/data/relationships/stem-of",
        "self_reference",
        {"stem-category": "bass"},
        {"stem-of": {"data": ref(track["id"])}},
        status=409,
    )
    assert relationship_ids(api, track["id"], "stem-of") is None


def test_remix_cycle_is_409(api, product):
    b = create(api, product)
    a = create(api, product, {"remix-of": {"data": [ref(b["id"])]}})
    relationships = {"remix-of": {"data": [ref(a["id"])]}}
    patch_invalid(
        api,
        b["id"],
        "/data/relationships/remix-of",
        "cycle",
        relationships=relationships,
        status=409,
    )
    assert relationship_ids(api, b["id"], "remix-of") == []


def test_longer_remix_cycle_is_409(api, product):
    c = create(api, product)
    b = create(api, product, {"remix-of": {"data": [ref(c["id"])]}})
    a = create(api, product, {"remix-of": {"data": [ref(b["id"])]}})
    relationships = {"remix-of": {"data": [ref(a["id"])]}}
    patch_invalid(
        api,
        c["id"],
        "/data/relationships/remix-of",
        "cycle",
        relationships=relationships,
        status=409,
    )


def test_remix_of_two_parents_sharing_an_ancestor_is_not_a_cycle(api, product):
    root = create(api, product)
    left = create(api, product, {"remix-of": {"data": [ref(root["id"])]}})
    right = create(api, product, {"remix-of": {"data": [ref(root["id"])]}})
    remix = create(api, product, {"remix-of": {"data": [ref(left["id"]), ref(right["id"])]}})
    assert relationship_ids(api, remix["id"], "remix-of") == sorted([left["id"], right["id"]])


def test_stem_cycle_is_409(api, product):
    b = create(api, product)
    a = create(api, product, {"stem-of": {"data": ref(b["id"])}}, **{"stem-category": "kick"})
    patch_invalid(
        api,
        b["id"],
        "/data/relationships/stem-of",
        "cycle",
        {"stem-category": "bass"},
        {"stem-of": {"data": ref(a["id"])}},
        status=409,
    )
    assert relationship_ids(api, b["id"], "stem-of") is None


def test_longer_stem_cycle_is_409(api, product):
    c = create(api, product)
    b = create(api, product, {"stem-of": {"data": ref(c["id"])}}, **{"stem-category": "pad"})
    a = create(api, product, {"stem-of": {"data": ref(b["id"])}}, **{"stem-category": "kick"})
    patch_invalid(
        api,
        c["id"],
        "/data/relationships/stem-of",
        "cycle",
        {"stem-category": "bass"},
        {"stem-of": {"data": ref(a["id"])}},
        status=409,
    )


# Filters and sorting.


def make_tracks(api, product, *attribute_sets):
    return [create(api, product, **attributes)["id"] for attributes in attribute_sets]


def listed(api, params):
    response = api.get(TRACKS, params)
    assert response.status_code == 200, response.document
    return sorted(ids(response))


@pytest.mark.parametrize(
    ("attribute_sets", "param", "value", "matching"),
    [
        ([{"genre": "Rock"}, {"genre": "Pop"}, {}], "filter[genre]", "Rock", [0]),
        ([{"genre": "Rock"}, {"genre": "Pop"}, {}], "filter[genre]", "Jazz", []),
        ([{"mood": "Upbeat"}, {"mood": "Peaceful"}, {}], "filter[mood]", "Upbeat", [0]),
        ([{"mood": "Upbeat"}, {"mood": "Peaceful"}, {}], "filter[mood]", "Fiery", []),
        (
            [{"musical-key": "C# minor"}, {"musical-key": "C minor"}, {}],
            "filter[musical-key]",
            "C# minor",
            [0],
        ),
        (
            [{"musical-key": "C# minor"}, {"musical-key": "C minor"}],
            "filter[musical-key]",
            "D major",
            [],
        ),
        ([{"bpm": 90}, {"bpm": 100}, {"bpm": 128}, {}], "filter[bpm.gte]", "100", [1, 2]),
        ([{"bpm": 90}, {"bpm": 100}, {"bpm": 128}], "filter[bpm.gte]", "200", []),
        ([{"bpm": 90}, {"bpm": 130}, {"bpm": 140}, {}], "filter[bpm.lte]", "130", [0, 1]),
        ([{"bpm": 90}, {"bpm": 130}, {"bpm": 140}], "filter[bpm.lte]", "50", []),
        ([{"is-unlisted": True}, {"is-unlisted": False}, {}], "filter[is-unlisted]", "true", [0]),
        (
            [{"is-unlisted": True}, {"is-unlisted": False}, {}],
            "filter[is-unlisted]",
            "false",
            [1, 2],
        ),
        (
            [{"tags": "rock, indie"}, {"tags": "indie-pop"}, {"tags": "indie"}, {}],
            "filter[tag]",
            "indie",
            [0, 2],
        ),
        ([{"tags": "rock,indie"}, {"tags": "indie-pop"}], "filter[tag]", "pop", []),
        ([{"tags": "rock,indie"}, {"tags": "indie-pop"}], "filter[tag]", "ind", []),
        (
            [{"territory-codes": ["US", "GB"]}, {"territory-codes": ["GB"]}, {}],
            "filter[territory]",
            "US",
            [0],
        ),
        (
            [{"territory-codes": ["US", "GB"]}, {"territory-codes": ["GB"]}],
            "filter[territory]",
            "FR",
            [],
        ),
    ],
)
def test_filter(api, product, attribute_sets, param, value, matching):
    track_ids = make_tracks(api, product, *attribute_sets)
    assert listed(api, {param: value}) == sorted(track_ids[i] for i in matching)


def test_bpm_range_filters_combine(api, product):
    track_ids = make_tracks(api, product, {"bpm": 90}, {"bpm": 100}, {"bpm": 128}, {"bpm": 140})
    assert listed(api, {"filter[bpm.gte]": "100", "filter[bpm.lte]": "130"}) == sorted(
        track_ids[1:3]
    )


@pytest.mark.parametrize(
    ("sort", "values", "order"),
    [
        ("bpm", [128, 90, 140], [1, 0, 2]),
        ("-bpm", [128, 90, 140], [2, 0, 1]),
        ("-release-date", ["2023-05-01", "2024-01-31", "2022-12-31"], [1, 0, 2]),
        ("release-date", ["2023-05-01", "2024-01-31", "2022-12-31"], [2, 0, 1]),
    ],
)
def test_sort(api, product, sort, values, order):
    member = sort.lstrip("-")
    track_ids = make_tracks(api, product, *({member: value} for value in values))
    response = api.get(TRACKS, {"sort": sort})
    assert response.status_code == 200, response.document
    assert ids(response) == [track_ids[i] for i in order]


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("filter[bpm.gte]", "fast"),
        ("filter[bpm.lte]", "slow"),
        ("filter[is-unlisted]", "maybe"),
    ],
)
def test_bad_filter_value_is_400(api, product, param, value):
    make_tracks(api, product, {"bpm": 100})
    response = api.get(TRACKS, {param: value})
    assert response.status_code == 400, response.document
    [error] = response.document["errors"]
    assert error["source"] == {"parameter": param}
    assert error["status"] == "400"
