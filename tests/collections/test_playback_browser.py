"""A play session's media URL in a real browser (Debian's Chromium via Playwright): an
``<audio>`` element loads it from the live server without a token, with Range requests,
and plays it."""

import json
import urllib.request

import pytest

from tests.factories import make_collection_track

from .test_playback import LEVELS, add_variant

pytestmark = [
    pytest.mark.usefixtures("media_root"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def start_session(live_server, token, track):
    """POST /play-sessions to the live server, as a client would."""
    document = {
        "data": {
            "type": "play-sessions",
            "relationships": {
                "track": {"data": {"type": "collection-tracks", "id": str(track.pk)}}
            },
        }
    }
    request = urllib.request.Request(
        f"{live_server.url}/api/v1/play-sessions",
        data=json.dumps(document).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/vnd.api+json",
            "Accept": "application/vnd.api+json",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201
        return json.loads(response.read())["data"]


def test_an_audio_element_plays_the_url(
    live_server, browser_page, tmp_path, admin_user, make_token
):
    track = make_collection_track(title="Browser song", status="ready", duration=2.0, levels=LEVELS)
    variant = add_variant(track, tmp_path, "mp3")
    session = start_session(live_server, make_token(admin_user, "read"), track)
    [entry] = session["attributes"]["tracks"]
    url = entry["variants"][0]["url"]
    assert url.startswith(f"{live_server.url}/api/v1/media/")

    page = browser_page
    seen = []
    page.on("response", lambda response: seen.append((response.url, response.status)))
    # play() from a click: a user gesture, which the autoplay policy asks for.
    page.set_content(
        f'<audio src="{url}" preload="auto"></audio>'
        "<button onclick=\"document.querySelector('audio').play()"
        '.then(() => { window.played = true }, e => { window.played = String(e) })">Play</button>'
    )
    page.wait_for_function("document.querySelector('audio').readyState >= 2", timeout=20_000)
    duration = page.evaluate("document.querySelector('audio').duration")
    assert abs(duration - 2.0) < 0.15
    page.click("button")
    page.wait_for_function("window.played !== undefined", timeout=20_000)
    assert page.evaluate("window.played") is True
    page.wait_for_function("document.querySelector('audio').currentTime > 0.2", timeout=20_000)
    assert page.evaluate("document.querySelector('audio').error") is None

    statuses = [status for seen_url, status in seen if seen_url == url]
    assert 206 in statuses, seen  # the element asked for ranges, and got them
    assert variant.file.size > 0
