import hashlib

import pytest

from app.domain.errors import InvalidInput
from app.domain.link_sources import dropbox_content_hash
from app.domain.links import DriveFolder, drive_folder, dropbox_folder, is_image_name, link_source, source_link

FOLDER = "0B7EVK8r0v71pTUZsaXdaSnZBZzg"


@pytest.mark.parametrize(
    "url",
    [
        f"https://drive.google.com/drive/folders/{FOLDER}",
        f"https://drive.google.com/drive/folders/{FOLDER}?usp=sharing",
        f"https://drive.google.com/drive/u/0/folders/{FOLDER}",
        f"https://drive.google.com/open?id={FOLDER}",
        f"https://drive.google.com/folderview?id={FOLDER}",
        f"  https://drive.google.com/drive/u/2/folders/{FOLDER}/  ",
    ],
)
def test_every_drive_folder_form(url):
    assert drive_folder(url).folder_id == FOLDER


def test_drive_resource_key_is_kept():
    assert drive_folder(f"https://drive.google.com/drive/folders/{FOLDER}?resourcekey=0-rJlz") == DriveFolder(
        FOLDER, "0-rJlz"
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("drive.google.com/drive/folders/x", "whole link"),
        ("https://example.com/drive/folders/abcdefghijk", "not a Google Drive link"),
        ("https://drive.google.com/file/d/abcdefghijkl/view", "single file"),
        ("https://drive.google.com/drive/my-drive", "does not point to a folder"),
        # the resource key goes into a request header: line breaks or other characters would break it
        ("https://drive.google.com/drive/folders/AAAAAAAAAAAA?resourcekey=a%0d%0aX-Evil:%201", "resourcekey"),
        ("https://drive.google.com/drive/folders/AAAAAAAAAAAA?resourcekey=%C3%A9", "resourcekey"),
    ],
)
def test_bad_drive_links_say_why(url, message):
    with pytest.raises(InvalidInput, match=message):
        drive_folder(url)


def test_dropbox_links():
    new = "https://www.dropbox.com/scl/fo/abc123/def456?rlkey=xyz&dl=0"
    assert dropbox_folder(new).url == new
    assert dropbox_folder("https://www.dropbox.com/sh/abc/def?dl=0").url.endswith("dl=0")
    with pytest.raises(InvalidInput, match="rlkey"):
        dropbox_folder("https://www.dropbox.com/scl/fo/abc/def?dl=0")
    with pytest.raises(InvalidInput, match="single file"):
        dropbox_folder("https://www.dropbox.com/scl/fi/abc/a.jpg?rlkey=x")
    with pytest.raises(InvalidInput, match="not a Dropbox link"):
        dropbox_folder("https://drive.google.com/drive/folders/abc")


def test_image_names():
    assert is_image_name("IMG_1.HEIC") and is_image_name("a.jpeg") and not is_image_name("notes.txt")


@pytest.mark.parametrize(
    ("url", "source"),
    [
        (f"https://drive.google.com/drive/folders/{FOLDER}", "google_drive"),
        ("https://docs.google.com/folderview?id=x", "google_drive"),
        ("https://www.dropbox.com/scl/fo/abc/def?rlkey=k", "dropbox"),
        ("https://Dropbox.com/sh/abc/def", "dropbox"),
    ],
)
def test_a_pasted_link_names_its_service(url, source):
    assert link_source(url) == source


@pytest.mark.parametrize("url", ["https://example.com/x", "https://notdropbox.com.evil/x", "drive.google.com/x"])
def test_a_link_to_neither_service_says_what_to_paste(url):
    with pytest.raises(InvalidInput, match=r"Google Drive folder|starting with https"):
        link_source(url)


def test_dropbox_content_hash_follows_the_published_definition():
    # files.stone's example: a file with no bytes has no blocks, so its hash is the SHA-256 of nothing
    assert dropbox_content_hash(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    small = b"classify" * 1000
    assert dropbox_content_hash(small) == hashlib.sha256(hashlib.sha256(small).digest()).hexdigest()
    block = 4 * 1024 * 1024
    big = bytes(range(256)) * (block * 2 // 256) + b"tail"  # two full blocks and four bytes
    digests = b"".join(hashlib.sha256(part).digest() for part in (big[:block], big[block : 2 * block], b"tail"))
    assert dropbox_content_hash(big) == hashlib.sha256(digests).hexdigest()
    assert dropbox_content_hash(big) != hashlib.sha256(big).hexdigest()  # not the plain SHA-256


def test_a_drive_file_has_an_address_and_other_sources_none():
    assert source_link("google_drive", "1AbCdEfGhIjK") == "https://drive.google.com/file/d/1AbCdEfGhIjK/view"
    assert source_link("google_drive", "../../x") is None  # not an id: no address made of it
    assert source_link("dropbox", "/holiday/a.jpg") is None  # needs its shared folder's link
    assert source_link("google_photos", "AF1Qip") is None
    assert source_link("upload", None) is None
