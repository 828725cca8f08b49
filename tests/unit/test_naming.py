"""Export names: safe on every file system, readable, and never colliding inside one archive."""

from app.domain.naming import safe_stem, split_name, unique_names, within


def test_safe_stem_strips_paths_and_unsafe_characters():
    assert safe_stem("../../etc/passwd") == "passwd"
    assert safe_stem("C:\\Users\\me\\Pic 1.jpg") == "Pic 1.jpg"
    assert safe_stem("Été à Noël") == "Été à Noël"
    assert safe_stem("Привет фото ✓") == "Привет фото" and safe_stem("写真 2024") == "写真 2024"
    assert safe_stem("tab\there\x00") == "tab-here"
    assert safe_stem("...") == "photo"
    assert safe_stem("a" * 300) == "a" * 80
    assert safe_stem("x<>:|?*y") == "x-y"


def test_split_name():
    assert split_name("IMG_1.JPG") == ("IMG_1", ".jpg")
    assert split_name("noext") == ("noext", "")
    assert split_name(".hidden") == (".hidden", "")


def test_unique_names_never_collide_case_insensitively():
    names = unique_names([("beach", ".jpg"), ("Beach", ".jpg"), ("beach", ".jpg"), ("beach", ".png")])
    assert names == ["beach.jpg", "Beach-2.jpg", "beach-3.jpg", "beach.png"]
    assert len({n.lower() for n in names}) == len(names)


def test_a_name_of_four_byte_letters_fits_a_file_system_in_bytes() -> None:
    """80 letters of U+20000 were 320 bytes: unzip could not make the file (ENAMETOOLONG) (found by a review)."""
    stem = safe_stem("\U00020000" * 100)
    assert len(stem.encode()) <= 200 and stem == "\U00020000" * 50
    assert within("a" * 300 + ".jpg", 255) == "a" * 251 + ".jpg" and within("short.jpg", 255) == "short.jpg"
