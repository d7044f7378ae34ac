"""The importers' row validation (config.bulk, config.validation) gives each value the
verdict the API's rules give it, however often the value comes."""

import gc
import pickle

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinValueValidator
from django.db import IntegrityError, connection, models, transaction
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import exceptions
from stdnum import isrc
from stdnum.exceptions import ValidationError as StdnumError

from config.bulk import (
    RowValidator,
    copy_new,
    custom_plans,
    fewer_collections,
    insert,
    set_on_save,
    upsert,
)
from config.jsonapi.serializers import model_errors
from config.validation import FieldVerdicts, _judge_validated, clean_for_write
from products.models import Language, Product
from products.serializers import ProductSerializer
from tests.factories import make_label, make_product, make_track
from tracks.models import Track
from tracks.serializers import TrackSerializer
from tracks.validators import normalize_isrc, validate_isrc


@pytest.mark.parametrize(
    "code",
    ["ESA112310001", "es-a11-23-10001", " ESA112310001 ", "ESA11\u201323\u201310001", "ESA1123"],
)
def test_an_isrc_is_normalised_as_python_stdnum_compacts_it(code):
    assert normalize_isrc(code) == isrc.compact(code)


@pytest.mark.parametrize(
    "code", ["ESA112310001", "QZA110000001", "AAA112310001", "XXA112310001", "ES0000000000"]
)
def test_an_isrc_in_compact_form_gets_python_stdnums_verdict(code):
    """A compact code's verdict is told by its country alone: it is stdnum's own."""
    try:
        isrc.validate(code)
    except StdnumError as exc:
        with pytest.raises(ValidationError) as failure:
            validate_isrc(code)
        assert failure.value.messages == [f"ISRC code is not valid: {exc.message}"]
    else:
        validate_isrc(code)


def test_an_isrc_judged_again_gets_the_same_verdict():
    for _ in range(2):
        validate_isrc("ESA112310001")
        with pytest.raises(ValidationError, match="ISRC code is not valid: The number has"):
            validate_isrc("ESA11231000")


def test_a_list_of_names_read_again_is_a_list_of_its_own():
    """A list's verdict is remembered (a product's tracks repeat its credits), but each row
    gets a list of its own: one row's list changed does not change another's."""
    rows = RowValidator(TrackSerializer)

    first, problems, _ = rows.read({"composer": ["Ann", "Bo"]})
    second, _, _ = rows.read({"composer": ["Ann", "Bo"]})
    first["composer"].append("changed")
    third, _, _ = rows.read({"composer": ["Ann", "Bo"]})

    assert problems == []
    assert second["composer"] == third["composer"] == ["Ann", "Bo"]
    assert second["composer"] is not third["composer"]
    for _ in range(2):
        assert rows.read({"composer": ["Ann", " "]}) == (
            {},
            [("composer", "Must be an array of non-empty strings.")],
            (frozenset(), frozenset(), None),
        )


def test_a_load_collects_garbage_less_often_and_restores_the_collector():
    thresholds = gc.get_threshold()
    with fewer_collections(threshold=50_000):
        assert gc.get_threshold() == (50_000, *thresholds[1:])
        assert gc.get_freeze_count() > 0  # what was alive before: not walked again
        cycle = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1  # cyclic garbage is still collected
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plan cache")
@pytest.mark.django_db
def test_a_load_has_its_statements_planned_for_their_values():
    def plan_cache_mode():
        with connection.cursor() as cursor:
            cursor.execute("SHOW plan_cache_mode")
            return cursor.fetchone()[0]

    with custom_plans():
        assert plan_cache_mode() == "force_custom_plan"
    assert plan_cache_mode() == "auto"


MAX_LENGTH = "Ensure this value has at most 255 characters (it has {})."


def test_values_judged_as_read_get_the_verdicts_judged_on_the_instance():
    """What ``judge`` gives the values a row is given (in the process reading ahead, and
    pickled) is what the fields give them on the instance, errors and cleaned values
    alike; a field holding a value not judged so is judged on the instance."""
    verdicts = FieldVerdicts(Track, exclude=["length"])
    given = {"title": "x" * 300, "isrc_code": "es-a11-23-10001", "artist": ["A"], "bpm": 90.5}
    verdicts_read = pickle.loads(pickle.dumps({n: verdicts.judge(n, v) for n, v in given.items()}))
    attrs = {n: result if valid else given[n] for n, (valid, result) in verdicts_read.items()}
    settled = frozenset(n for n, (valid, _) in verdicts_read.items() if valid)
    failed = {n: (given[n], result) for n, (valid, result) in verdicts_read.items() if not valid}
    assert settled == {"isrc_code", "artist", "bpm"}
    assert verdicts.judge("product", 1) is None  # a relation: judged on the row

    def cleaned(values, judged=None):
        track = Track(**values, volume_number=1, track_number=1)
        try:
            verdicts.clean_fields(track, {"product", "audio_language"}, judged=judged)
        except ValidationError as failure:
            return failure.message_dict, track.isrc_code
        return {}, track.isrc_code

    assert cleaned(attrs, (settled, frozenset(), failed)) == cleaned(given)
    assert cleaned(given) == ({"title": [MAX_LENGTH.format(300)]}, "ESA112310001")
    judged = (settled - {"artist"}, frozenset(), failed)
    assert cleaned({**attrs, "title": "ok", "artist": []}, judged) == (
        {"artist": ["This field cannot be blank."]},
        "ESA112310001",
    )


def test_a_value_its_serializer_field_validated_is_not_run_through_the_same_rules_again():
    """The members whose serializer field runs the model field's validators (or ones of
    the same class and limit) have them run once: the model field then judges only what
    they do not (its type, blank and null), giving the same verdicts."""
    rows = RowValidator(TrackSerializer)
    assert {"isrc_code", "title", "artist"} <= rows._validated
    assert "genre" not in rows._validated  # its MaxLengthValidator: the model's alone
    verdicts = rows.verdicts
    assert verdicts.judge("artist", [], validated=True) == verdicts.judge("artist", [])
    assert verdicts.judge("artist", [], validated=True)[0] is False  # blank: validate()
    assert verdicts.judge("bpm", 90, validated=True) == (True, 90.0)  # to_python's own

    drf_length = MaxLengthValidator(255, message="DRF's words")
    assert verdicts.covers("title", [drf_length])
    assert not verdicts.covers("title", [MaxLengthValidator(256)])
    assert not verdicts.covers("title", [MinValueValidator(255)])
    assert not verdicts.covers("isrc_code", [MaxLengthValidator(12)])  # no validate_isrc
    assert verdicts.covers("isrc_code", [validate_isrc, MaxLengthValidator(12)])
    stricter = type("Stricter", (MaxLengthValidator,), {})  # may judge otherwise, yet equal
    assert not verdicts.covers("title", [stricter(255)])


def test_a_field_running_its_validators_its_own_way_is_not_covered(monkeypatch):
    verdicts = FieldVerdicts(Track, exclude=["length"])
    assert verdicts.covers("title", [MaxLengthValidator(255)])
    monkeypatch.setattr(models.CharField, "run_validators", lambda self, value: None)
    assert not verdicts.covers("title", [MaxLengthValidator(255)])


def test_a_value_its_model_field_converts_is_run_through_the_validators_again():
    """The validators a value passed judged that value: one that ``to_python`` turns into
    another is judged whole, as ``clean`` judges it."""
    field = models.CharField(name="code", max_length=3)
    valid, errors = _judge_validated(field, 12345, None)  # to_python: "12345"
    assert not valid
    assert ValidationError(errors).messages == [
        "Ensure this value has at most 3 characters (it has 5)."
    ]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda items: st.lists(items, max_size=3) | st.dictionaries(st.text(), items, max_size=3),
    max_leaves=6,
)


@pytest.mark.parametrize("serializer_class", [TrackSerializer, ProductSerializer])
@settings(max_examples=150, derandomize=True, deadline=None)
@given(values=st.lists(JSON_VALUES | st.sampled_from(["ESA112310001", "es-a11-23-10001",
                                                       "QZA110000001", "x" * 300, "", " "]),
                       min_size=1, max_size=8))  # fmt: skip
def test_a_value_validated_once_gets_the_verdict_of_both_fields(serializer_class, values):
    """Every member whose rules ``covers`` runs once gets, for any value its serializer
    field reads, the verdict its model field gives when run whole."""
    rows = RowValidator(serializer_class)
    for member, (_, field, source, _) in rows._members.items():
        if source not in rows._validated:
            continue
        for value in values:
            try:
                read = field.run_validation(value)
            except exceptions.ValidationError:  # (refused by the serializer: never judged)
                continue
            once = rows.verdicts.judge(source, read, validated=True)
            whole = rows.verdicts.judge(source, read)
            assert once[0] == whole[0], (member, value)
            if once[0]:
                assert once[1] == whole[1], (member, value)
            else:
                assert ValidationError(once[1]).messages == ValidationError(whole[1]).messages


@pytest.mark.django_db
@pytest.mark.parametrize(
    "members",
    [
        {"title": " Song ", "isrc-code": "es-a11-23-10001", "volume-number": 1,
         "track-number": 2, "artist": ["A", "B"], "genre": "Rock", "bpm": 90.5,
         "composer": ["C"], "explicit-content": False},
        {"title": "T", "isrc-code": "QZA110000001", "volume-number": 1, "track-number": 3,
         "artist": ["A"], "preview-start": 10, "preview-end": 5, "subtitle": None},
        {"title": "T", "isrc-code": "QZA110000001", "volume-number": 1, "track-number": 1,
         "artist": ["A"], "is-stream-gated": True, "mood": "Fiery", "description": ""},
    ],
)  # fmt: skip
def test_a_row_read_and_cleaned_gets_what_django_gives_the_values_the_api_reads(members):
    """A new row read (``RowValidator.read``: the serializer's fields, then the model's,
    remembered) and cleaned (the fields so judged not again) gets the problems and the
    values that Django's own ``clean_fields``, ``clean()`` and constraints give the values
    the serializer's fields read, twice over (the second time from remembered verdicts)."""
    rows = RowValidator(TrackSerializer)
    product, english = make_product(), Language.objects.get(code="en")
    loaded = ("product", "audio_language")

    def reference():
        values = {}
        for member, value in members.items():
            field = rows.fields[TrackSerializer.schema().writable_attributes[member]]
            values[field.source] = field.run_validation(value)
        track = Track(**values, product=product, audio_language=english)
        try:
            clean_for_write(track, rows.derived, loaded)
        except ValidationError as exc:
            return rows.problems(model_errors(exc)), track
        return [], track

    expected, cleaned = reference()
    for _ in range(2):
        attrs, problems, judged = rows.read(members)
        assert problems == []
        track = rows.new(attrs)
        rows.relate(track, "product", product)
        rows.relate(track, "audio_language", english)
        only = frozenset((*attrs, *loaded))
        assert rows.clean(track, loaded, only, judged) == expected
        assert {name: getattr(track, name) for name in attrs} == {
            name: getattr(cleaned, name) for name in attrs
        }


def test_a_value_read_is_held_when_the_conditions_on_its_field_alone_hold():
    """``holds``: the check constraints reading one field alone, decided on a value; a
    row holding values so decided has those constraints not decided again."""
    verdicts = FieldVerdicts(Track, exclude=["length"])
    assert verdicts.holds("isrc_code", "QZA110000001")
    assert not verdicts.holds("isrc_code", "QZA11000000")  # track_isrc_compact
    assert verdicts.holds("bpm", 90.5) and verdicts.holds("bpm", None)
    assert not verdicts.holds("bpm", -1.0)  # track_bpm
    assert verdicts.holds("title", "x" * 300)  # no condition of its own (its length: judge)
    track = Track(title="T", isrc_code="bad", artist=["A"], volume_number=1, track_number=0)

    only = frozenset(("title", "isrc_code", "artist", "volume_number", "track_number"))

    def unsettled(held=None, only=None):
        return sorted(c.name for _, c, _ in verdicts.unsettled(track, set(), only, held))

    for fields in (None, only):  # any row, and a new row setting only these
        assert unsettled(None, fields) == ["track_isrc_compact", "track_number_positive"]
        assert unsettled(frozenset({"isrc_code"}), fields) == ["track_number_positive"]


def test_rows_setting_the_same_fields_each_get_their_own_verdicts_and_errors():
    """What ``clean_fields`` and ``unsettled`` choose once for the rows that set the same
    fields (the defaults' errors, the checks left to decide) gives each row the verdicts
    of its own values, in a dict of errors of its own."""
    rows = RowValidator(TrackSerializer)
    exclude = frozenset({*rows.derived, "product", "audio_language"})
    set_ = frozenset({"title", "isrc_code", "volume_number", "track_number", *exclude})
    given = {"title": "T", "isrc_code": "QZA110000001", "volume_number": 1, "track_number": 1}

    def unsettled(held=frozenset(), **values):
        track = rows.new({**given, **values})
        return sorted(c.name for _, c, _ in rows.verdicts.unsettled(track, exclude, set_, held))

    for _ in range(2):
        assert unsettled() == []
        assert unsettled(track_number=0) == ["track_number_positive"]
        assert unsettled(track_number=0, volume_number=0) == [
            "track_number_positive",
            "track_volume_number_positive",
        ]
        assert unsettled(isrc_code="bad") == ["track_isrc_compact"]
        assert unsettled(frozenset({"isrc_code"}), isrc_code="bad") == []  # held: decided

    only = frozenset({"title", "product", "audio_language"})

    def errors(title):
        with pytest.raises(ValidationError) as refused:
            rows.verdicts.clean_fields(rows.new({"title": title}), exclude, only)
        return sorted(refused.value.error_dict)

    left = ["artist", "isrc_code", "track_number", "volume_number"]  # at their defaults
    for _ in range(2):
        assert errors("x" * 300) == sorted([*left, "title"])
        assert errors("T") == left


@pytest.mark.django_db
def test_a_held_value_clean_changes_has_its_conditions_decided_again(monkeypatch):
    """A value ``clean()`` changes is no longer the one held: its constraints are
    decided on the new value, as Django decides them."""
    rows = RowValidator(TrackSerializer)
    product, english = make_product(), Language.objects.get(code="en")
    loaded = ("product", "audio_language")
    members = {"title": "T", "isrc-code": "QZA110000001", "volume-number": 1,
               "track-number": 1, "artist": ["A"]}  # fmt: skip
    attrs, problems, judged = rows.read(members)
    assert problems == [] and "isrc_code" in judged[1]
    monkeypatch.setattr(Track, "clean", lambda track: setattr(track, "isrc_code", "bad"))

    def track():
        made = rows.new(attrs)
        rows.relate(made, "product", product)
        rows.relate(made, "audio_language", english)
        return made

    with pytest.raises(ValidationError) as refused:
        clean_for_write(track(), rows.derived, loaded)
    expected = rows.problems(model_errors(refused.value))
    assert "track_isrc_compact" in str(expected)
    assert rows.clean(track(), loaded, frozenset((*attrs, *loaded)), judged) == expected


@pytest.mark.django_db
def test_a_new_row_is_the_instance_the_model_makes_of_its_values():
    """``new`` makes what ``Model(**values)`` makes: the values over the defaults, set
    as they are where assigning sets them so, through the descriptor where it has one."""
    rows = RowValidator(TrackSerializer)
    product = make_product()

    def fields(track):
        return {name: value for name, value in track.__dict__.items() if name != "_state"}

    plain = {"title": "T", "isrc_code": "QZA110000001", "artist": ["A"], "bpm": 90.5}
    assert fields(rows.new(plain)) == fields(Track(**plain))
    related = {**plain, "product": product}  # a relation: its descriptor sets product_id
    made, reference = rows.new(related), Track(**related)
    assert fields(made) == fields(reference)
    assert (made.product_id, made.product) == (product.pk, product)
    assert (made._state.adding, made._state.db) == (True, reference._state.db)


@pytest.mark.django_db
def test_a_row_is_related_as_the_descriptor_relates_it(django_assert_num_queries):
    """``relate`` sets a foreign key as assigning it does: the key's value and the related
    instance; an instance of another model is refused as assignment refuses it."""
    rows = RowValidator(TrackSerializer)
    product, english = make_product(), Language.objects.get(code="en")
    track = rows.new({"title": "T"})

    rows.relate(track, "product", product)
    rows.relate(track, "audio_language", english)

    assert (track.product_id, track.audio_language_id) == (product.pk, "en")
    with django_assert_num_queries(0):
        assert track.product is product
        assert track.audio_language is english
    with pytest.raises(ValueError, match='must be a "Product" instance'):
        rows.relate(track, "product", english)


@pytest.mark.django_db
def test_upsert_inserts_new_rows_and_updates_the_ones_it_clashes_with():
    stored = make_track(artist=["Old"], title="Old title")
    created_at = stored.created_at
    rows = RowValidator(TrackSerializer)
    columns = [f.attname for f in Track._meta.concrete_fields if not set_on_save(f)]
    changed = rows.stored(columns, Track.objects.values_list(*columns).get(pk=stored.pk))
    changed.title, changed.artist = "New title", ["New", "Guest"]
    new = rows.new({"title": "Added", "isrc_code": "QZA110000001", "artist": ["A"]})
    new.volume_number, new.track_number = 1, 99
    rows.relate(new, "product", stored.product)
    rows.relate(new, "audio_language", Language.objects.get(code="en"))

    upsert(Track, [changed, new], ["product", "isrc_code"], ["title", "artist", "updated_at"])

    stored.refresh_from_db()
    assert (stored.title, stored.artist, stored.created_at) == (
        "New title",
        ["New", "Guest"],
        created_at,
    )
    assert stored.updated_at > created_at
    added = Track.objects.get(isrc_code="QZA110000001")
    assert (added.title, added.artist, added.product_id) == ("Added", ["A"], stored.product_id)
    assert added.created_at is not None


@pytest.mark.django_db
def test_copy_new_stores_new_rows_as_bulk_create_does_and_refuses_a_clash_whole():
    stored = make_track(isrc_code="QZA110000001", track_number=1)
    rows = RowValidator(TrackSerializer)
    english = Language.objects.get(code="en")

    def new(isrc, number):
        track = rows.new({"title": f"T {isrc}", "isrc_code": isrc, "artist": ["A", "B"]})
        track.volume_number, track.track_number = 1, number
        rows.relate(track, "product", stored.product)
        rows.relate(track, "audio_language", english)
        return track

    with pytest.raises(IntegrityError), transaction.atomic():
        copy_new(Track, [new("QZA110000002", 2), new(stored.isrc_code, 3)])
    assert Track.objects.count() == 1

    copy_new(Track, [new("QZA110000002", 2), new("QZA110000003", 3)])

    added = Track.objects.filter(isrc_code__in=["QZA110000002", "QZA110000003"]).order_by("id")
    assert [(t.title, t.artist, t.track_number) for t in added] == [
        ("T QZA110000002", ["A", "B"], 2),
        ("T QZA110000003", ["A", "B"], 3),
    ]
    assert all(None not in (t.created_at, t.updated_at) for t in added)
    assert all(t.product_id == stored.product_id for t in added)


@pytest.mark.django_db(transaction=True)
def test_insert_gives_new_rows_their_keys_and_refuses_a_clash_whole():
    """``insert`` saves new rows as ``bulk_create`` does (their keys and times set), and
    a row clashing with a stored one refuses the statement, leaving nothing behind for
    the next (outside a transaction too)."""
    label, english = make_label(), Language.objects.get(code="en")
    stored = make_product(upc_code="4006381333931", label=label)

    def new(upc):
        return Product(name=f"P {upc}", upc_code=upc, label=label, language=english)

    clash = [new("0012345678905"), new(stored.upc_code)]
    with pytest.raises(IntegrityError):
        insert(Product, clash, "upc_code")
    assert Product.objects.count() == 1

    added = [new("0036000291452"), new("0012345678905")]
    insert(Product, added, "upc_code")

    by_upc = {p.upc_code: p for p in Product.objects.exclude(pk=stored.pk)}
    assert sorted(by_upc) == ["0012345678905", "0036000291452"]
    for product in added:
        assert product.pk == by_upc[product.upc_code].pk
        assert product.created_at == by_upc[product.upc_code].created_at is not None
        assert (product._state.adding, product._state.db) == (False, "default")
    with transaction.atomic():  # as a load's batch: refused in a savepoint, then written
        with pytest.raises(IntegrityError), transaction.atomic():
            insert(Product, [new("0042100005264"), new("0036000291452")], "upc_code")
        insert(Product, [new("0042100005264")], "upc_code")
    assert Product.objects.count() == 4
    with pytest.raises(ValueError, match="not unique"):
        insert(Product, [new("0078742040370")], "name")


def test_conditions_on_fields_a_new_row_leaves_are_settled_on_the_defaults_while_it_holds_them():
    """A new row's conditions on fields it does not set are settled once, on the model's
    defaults (the others are judged for each row); a row that holds other values there
    all the same (set by ``clean()``, say) has them judged."""
    rows = RowValidator(TrackSerializer)
    attrs = {"title": "T", "isrc_code": "QZA110000001", "volume_number": 1, "track_number": 1}
    only = {*attrs, "product", "audio_language"}
    exclude = {*rows.derived, "product", "audio_language"}

    def unsettled(**changed):
        track = rows.new(attrs)
        track.__dict__.update(changed)
        names = [c.name for _, c, _ in rows.verdicts.unsettled(track, exclude, only)]
        assert names == [c.name for _, c, _ in rows.verdicts.unsettled(track, exclude)]
        return names

    judged, settled = rows.verdicts._checks_of(rows.new(attrs), only)
    every, _ = rows.verdicts._checks_of(rows.new(attrs), None)
    assert settled is not None
    assert sorted(entry[1].name for entry, *_ in judged) == [
        "track_isrc_compact",
        "track_number_positive",
        "track_volume_number_positive",
    ]
    assert len(every) == 9
    assert unsettled() == []
    assert unsettled(preview_end=10) == ["track_preview_end_after_start"]
    assert unsettled(preview_start=40, preview_end=35) == ["track_preview_end_after_start"]
    assert unsettled(is_stream_gated=True) == ["track_stream_gate_matches_conditions"]
    assert unsettled(track_number=0) == ["track_number_positive"]
    assert unsettled() == []
