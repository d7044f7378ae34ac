"""Results arriving together on PostgreSQL: neither is lost from the certification."""

from soundcheck.models import Certification
from tests.factories import make_check, make_soundcheck_track
from tests.jsonapi.test_races import (
    Hold,
    Request,
    committed,
    lock_waiters,
    postgresql_only,
    wait_until,
)

from .conftest import RESULTS, result_document

pytestmark = [postgresql_only, committed]
PAYMENTS = "component:default/payments"


def test_two_results_for_one_entity_at_once_both_count(admin_user, make_token):
    token = make_token(admin_user)
    readme, owner = make_check(slug="has-readme"), make_check(slug="has-owner")
    make_soundcheck_track(slug="basics", checks=[readme, owner])
    # The first request stops after writing its certification, before it commits.
    hold = Hold(r'INSERT INTO "soundcheck_certification"')
    first = Request(token, "POST", RESULTS, result_document("has-readme", PAYMENTS, "passed"), hold)
    wait_until(hold.reached.is_set, "the first result's certification")
    second = Request(token, "POST", RESULTS, result_document("has-owner", PAYMENTS, "passed"))
    wait_until(lambda: lock_waiters() > 0, "the second result to wait for the first")
    hold.release()
    assert first.result().status_code == 201
    assert second.result().status_code == 201
    certification = Certification.objects.get(entity_ref=PAYMENTS)
    assert certification.highest_level == 2
    states = [check["state"] for level in certification.levels for check in level["checks"]]
    assert states == ["passed", "passed"]
