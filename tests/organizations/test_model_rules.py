"""The rules that keep each organization's catalog whole live on the models, so the admin
and the importers, which can reach every organization's rows, apply them as the API does."""

import pytest
from django.core.exceptions import ValidationError

from tests.factories import make_label, make_organization, make_product, make_track

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign_track():
    return make_track(product=make_product(label=make_label(organization=make_organization())))


def codes(caught, field):
    return [error.code for error in caught.value.error_dict[field]]


def test_a_stem_of_another_organizations_track_is_refused(foreign_track):
    track = make_track()
    track.stem_of, track.stem_category = foreign_track, "bass"
    with pytest.raises(ValidationError) as caught:
        track.full_clean()
    assert codes(caught, "stem_of") == ["foreign_parent"]


def test_a_stem_of_the_same_organization_is_fine():
    original = make_track()
    stem = make_track(product=make_product(label=make_label()))  # another label, same org
    stem.stem_of, stem.stem_category = original, "bass"
    stem.full_clean()


def test_a_remix_of_another_organizations_track_is_refused(foreign_track):
    """The rule the API's serializer and the admin's form apply to remix-of (many-to-many,
    so outside Track.clean), judged against the product the track will have."""
    track = make_track()
    problem = track.parent_problem([foreign_track.pk], "remix_of")
    assert problem is not None and problem.code == "foreign_parent"
    assert track.parent_problem([make_track().pk], "remix_of") is None
    moved = track.parent_problem([foreign_track.pk], "remix_of", foreign_track.product_id)
    assert moved is None  # the track moving to that organization's product


def test_a_product_cannot_move_to_another_organizations_label():
    product = make_product()
    product.label = make_label(organization=make_organization())
    with pytest.raises(ValidationError) as caught:
        product.full_clean()
    assert codes(caught, "label") == ["foreign_label"]
    product.label = make_label()  # another label of its own organization
    product.full_clean()
