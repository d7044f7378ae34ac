"""DDEX ERN 4.3 ``NewReleaseMessage`` files, the way labels deliver releases, read as
catalog rows.

Each main ``Release`` becomes a product and each ``SoundRecording`` it lists (in its
``ResourceGroup`` order) one of its tracks:
- Release: ``ReleaseId/ICPN`` -> upc-code; ``DisplayTitleText`` -> name;
  ``ReleaseLabelReference`` -> label (the party's name); ``ReleaseType`` -> product-type;
  ``PLine`` -> production-line and production-year; ``CLine`` -> copyright-line; the deals'
  earliest ``ValidityPeriod/StartDate`` -> release-date; ``LanguageOfPerformance`` ->
  language. Its ``DisplayGenre`` and ``ParentalWarningType`` apply to its tracks, and the
  deals' ``TerritoryCode``s become their territory-codes (``Worldwide`` is no limit).
- SoundRecording: ``ISRC`` -> isrc-code; ``DisplayTitleText`` -> title;
  ``DisplayArtist`` parties (or ``DisplayArtistName``) -> artist and artists;
  ``Contributor`` parties by ``Role`` -> the credits (composer, lyricist, ...) and
  resource-contributors; ``Duration`` (ISO 8601) -> duration; ``ParentalWarningType``
  -> parental-warning-type and explicit-content; ``LanguageOfPerformance`` ->
  audio-language (else the release's); ``PLine`` -> producer-copyright-line; the group's
  sequence numbers -> volume-number and track-number.

The XML is parsed by lxml with entities, DTDs and network access all refused: a file
with a document type declaration is refused whole.
"""

import io
import re

from lxml import etree

from config.reporting import Problem
from tracks import audius

from .formats import Reader, Row, file_problem

# DDEX contributor roles -> the track's credit members.
ROLES = {
    "Composer": ("composer",),
    "Lyricist": ("lyricist",),
    "ComposerLyricist": ("composer", "lyricist"),
    "Author": ("author",),
    "Arranger": ("arranger",),
    "Producer": ("producer",),
    "MusicPublisher": ("publisher",),
    "Publisher": ("publisher",),
    "Remixer": ("remixer",),
    "Orchestra": ("orchestra",),
    "Conductor": ("director",),
    "Director": ("director",),
    "FeaturedArtist": ("featuring",),
    "Performer": ("performer",),
}
RELEASE_TYPES = {"Album": "album", "Single": "single", "EP": "ep", "Compilation": "compilation"}
WARNINGS = {"Explicit": True, "ExplicitContentEdited": False, "NotExplicit": False}
GENRES = {genre.lower(): genre for genre in audius.GENRES}
DURATION = re.compile(
    r"P(?:(?P<d>\d+)D)?T?(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?\Z"
)
_DIGITS = re.compile(r"[0-9]+")
PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
)


class DdexReader(Reader):
    """Rows of the releases in a DDEX ERN 4.3 NewReleaseMessage file."""

    def rows(self, text):
        try:
            tree = etree.parse(io.BufferedReader(self.counter), PARSER)
        except etree.XMLSyntaxError as exc:
            yield file_problem(self.path, exc.lineno, f"not well-formed XML: {exc.msg}")
            return
        if tree.docinfo.doctype:
            yield file_problem(self.path, 1, "A document type declaration is not accepted.")
            return
        root = tree.getroot()
        if _local(root) != "NewReleaseMessage":
            yield _problem(self.path, root, "", "Not an ERN NewReleaseMessage.")
            return
        message = Message(root)
        releases = [r for r in _all(root, "ReleaseList", "Release")]
        if not releases:
            yield _problem(self.path, root, "", "The message has no Release.")
        for release in releases:
            yield from message.rows(self.path, release)

    def __iter__(self):
        try:
            yield from self.rows(None)
        finally:
            self.counter.close()


class Message:
    """What a message's releases refer to: its parties, sound recordings and deals."""

    def __init__(self, root):
        self.language = root.get("LanguageAndScriptCode")
        self.parties = {
            _text(party, "PartyReference"): _text(party, "PartyName", "FullName")
            for party in _all(root, "PartyList", "Party")
        }
        self.recordings = {
            _text(recording, "ResourceReference"): recording
            for recording in _all(root, "ResourceList", "SoundRecording")
        }
        self.deals = {}
        for deal in _all(root, "DealList", "ReleaseDeal"):
            references = [_plain(ref) for ref in _children(deal, "DealReleaseReference")]
            for reference in references:
                self.deals.setdefault(reference, []).extend(_children(deal, "Deal"))

    def rows(self, path, release):
        reference = _text(release, "ReleaseReference")
        product, genre, warning, territories = self.product(release, reference)
        where = _where(release)
        location = (("element", _path(release)), ("line", release.sourceline))
        tracks = list(self.tracks(release))
        if not tracks:
            yield Row(path, where, location, product, None, _member, _member)
        for recording, volume, number, reference in tracks:
            if recording is None:
                message = f"The release lists {reference!r}, a SoundRecording the message lacks."
                yield Problem(path, where, "", message, location)
                continue
            track = self.track(recording, product, genre, warning, territories)
            track["volume-number"], track["track-number"] = volume, number
            at = _where(recording)
            yield Row(
                path,
                f"{at} of {where}",
                (("element", _path(recording)), ("line", recording.sourceline)),
                product,
                track,
                _member,
                _member,
            )

    def product(self, release, reference):
        p_line, c_line = _line(release, "PLine"), _line(release, "CLine")
        deals = self.deals.get(reference, [])
        starts = sorted(
            _plain(start)
            for deal in deals
            for start in _descendants(deal, "ValidityPeriod", "StartDate")
            if _plain(start)
        )
        territories = sorted(
            {_plain(code) for deal in deals for code in _descendants(deal, "TerritoryCode")}
        )
        product = {
            "upc-code": _text(release, "ReleaseId", "ICPN"),
            "name": _title(release),
            "label": self.parties.get(_text(release, "ReleaseLabelReference")),
            "language": _text(release, "LanguageOfPerformance") or self.language,
            "product-type": RELEASE_TYPES.get(_text(release, "ReleaseType")),
            "production-line": p_line and p_line["text"],
            "production-year": _integer(p_line["year"]) if p_line else None,
            "copyright-line": c_line and c_line["text"],
        }
        if starts:
            product["release-date"] = starts[0][:10]
        genre = _text(release, "DisplayGenre", "GenreText") or _text(release, "Genre", "GenreText")
        warning = _text(release, "ParentalWarningType")
        if "Worldwide" in territories:
            territories = []
        return product, genre, warning, territories

    def tracks(self, release):
        """(recording or None, volume, number, reference) in the release's resource group
        order (a nested group per volume)."""
        top = _child(release, "ResourceGroup")
        if top is None:
            return
        groups = _children(top, "ResourceGroup") or [top]
        for volume, group in enumerate(groups, 1):
            volume = _integer(_text(group, "SequenceNumber")) or volume
            items = _children(group, "ResourceGroupContentItem")
            for number, item in enumerate(items, 1):
                number = _integer(_text(item, "SequenceNumber")) or number
                reference = _text(item, "ReleaseResourceReference")
                yield self.recordings.get(reference), volume, number, reference

    def track(self, recording, product, genre, warning, territories):
        edition = _child(recording, "SoundRecordingEdition")
        isrc = _text(edition, "ResourceId", "ISRC") if edition is not None else None
        artists = [
            self.parties.get(_text(artist, "ArtistPartyReference"))
            for artist in _children(recording, "DisplayArtist")
        ]
        names = [name for name in artists if name] or [
            _plain(name) for name in _children(recording, "DisplayArtistName") if _plain(name)
        ]
        track = {
            "isrc-code": isrc or _text(recording, "ResourceId", "ISRC"),
            "title": _title(recording),
            "artist": names or None,
            "audio-language": _text(recording, "LanguageOfPerformance") or product["language"],
        }
        credits, contributors = {}, []
        for index, contributor in enumerate(_children(recording, "Contributor"), 1):
            name = self.parties.get(_text(contributor, "ContributorPartyReference"))
            roles = [_plain(role) for role in _children(contributor, "Role") if _plain(role)]
            if not name:
                continue
            for role in roles:
                for member in ROLES.get(role, ("contributor",)):
                    credits.setdefault(member, [])
                    if name not in credits[member]:
                        credits[member].append(name)
            number = _integer(contributor.get("SequenceNumber")) or index
            contributors.append({"name": name, "roles": roles, "sequence-number": number})
        track.update(credits)
        if contributors:
            track["resource-contributors"] = contributors
        if names:
            track["artists"] = [
                {"name": name, "roles": ["MainArtist"], "sequence-number": index}
                for index, name in enumerate(names, 1)
            ]
        duration = _seconds(_text(recording, "Duration"))
        if duration is not None:
            track["duration"] = duration
        warning = _text(recording, "ParentalWarningType") or warning
        if warning:
            track["parental-warning-type"] = warning
            if warning in WARNINGS:
                track["explicit-content"] = WARNINGS[warning]
        if genre and genre.lower() in GENRES:
            track["genre"] = GENRES[genre.lower()]
        if territories:
            track["territory-codes"] = territories
        p_line = (_line(edition, "PLine") if edition is not None else None) or _line(
            recording, "PLine"
        )
        if p_line and p_line["year"]:
            track["producer-copyright-line"] = p_line
            track["production-line"] = p_line["text"]
        return {member: value for member, value in track.items() if value is not None}


# Reading elements by local name: ERN's elements are in its namespace or in none.


def _local(element):
    return etree.QName(element).localname if isinstance(element.tag, str) else None


def _children(element, name):
    return [child for child in element if _local(child) == name]


def _child(element, name):
    for child in element:
        if _local(child) == name:
            return child
    return None


def _all(element, *path):
    found = [element]
    for name in path:
        found = [child for parent in found for child in _children(parent, name)]
    return found


def _descendants(element, *path):
    return [found for node in element.iter() for found in _all(node, *path) if node is not None]


def _plain(element):
    return (element.text or "").strip() if element is not None else ""


def _text(element, *path):
    for name in path:
        if element is None:
            return None
        element = _child(element, name)
    return _plain(element) or None if element is not None else None


def _title(element):
    return _text(element, "DisplayTitleText") or _text(element, "DisplayTitle", "TitleText")


def _line(element, name):
    line = _child(element, name)
    if line is None:
        return None
    text = _text(line, f"{name}Text")
    year = _text(line, "Year") or ""
    return {"year": year, "text": text} if text else None


def _integer(text):
    """A number written in ASCII digits (not another script's, which ``str.isdigit``
    takes and ``int`` may not), else None (so too past Python's limit on converting)."""
    if text and _DIGITS.fullmatch(text):
        try:
            return int(text)
        except ValueError:
            return None
    return None


def _seconds(duration):
    match = DURATION.match(duration or "")
    if not duration or not match:
        return None
    parts = {key: float(value) for key, value in match.groupdict().items() if value}
    return (
        parts.get("d", 0) * 86400 + parts.get("h", 0) * 3600 + parts.get("m", 0) * 60
        + parts.get("s", 0)
    )  # fmt: skip


def _path(element):
    return element.getroottree().getpath(element)


def _where(element):
    reference = _text(element, "ReleaseReference") or _text(element, "ResourceReference")
    named = f" {reference}" if reference else ""
    return f"{_local(element)}{named} (line {element.sourceline})"


def _problem(path, element, pointer, message):
    location = (("element", _path(element)), ("line", element.sourceline))
    return Problem(path, _where(element), pointer, message, location)


def _member(member):
    return f"/{member}"
