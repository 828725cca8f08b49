"""`classify score`: JSON lines, errors as lines with exit 0, usage errors non-zero."""

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from app.cli import main


@pytest.fixture
def images(tmp_path):
    rng = np.random.default_rng(5)
    sharp = np.full((300, 400), 128, np.uint8)
    for _ in range(80):
        x, y = (int(v) for v in rng.integers(0, 400, 2))
        cv2.rectangle(sharp, (x, y % 300), (x + 40, y % 300 + 30), int(rng.integers(0, 255)), -1)
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    cv2.imwrite(str(folder / "sharp.jpg"), sharp)
    cv2.imwrite(str(folder / "sub" / "blurred.png"), cv2.GaussianBlur(sharp, (0, 0), 6))
    bad = folder / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff garbage")
    return folder


def run(capsys, *argv):
    code = main(["score", *map(str, argv)])
    out = capsys.readouterr().out
    return code, out


def test_json_lines_for_a_folder(images, capsys):
    code, out = run(capsys, "--json", "--jobs", "1", images)
    assert code == 0
    rows = {r["path"].rsplit("/", 1)[-1]: r for r in map(json.loads, out.splitlines())}
    assert set(rows) == {"sharp.jpg", "blurred.png", "broken.jpg"}
    assert {"path", "error"} <= set(rows["broken.jpg"]) and "blur_score" not in rows["broken.jpg"]
    for name in ("sharp.jpg", "blurred.png"):
        assert {"path", "blur_score", "is_blurred", "blur_kind"} <= set(rows[name])
    assert rows["sharp.jpg"]["is_blurred"] is False
    assert rows["blurred.png"]["is_blurred"] is True


def test_files_from_and_threshold(images, tmp_path, capsys):
    listing = tmp_path / "list.txt"
    listing.write_text(f"{images / 'sharp.jpg'}\n{images / 'sub' / 'blurred.png'}\n")
    code, out = run(capsys, "--json", "--files-from", listing, "--threshold", "0", "--jobs", "2")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 2 and all(r["is_blurred"] for r in rows)


def test_text_output(images, capsys):
    code, out = run(capsys, "--jobs", "1", images / "sharp.jpg", images / "broken.jpg")
    assert code == 0
    assert len(out.splitlines()) == 2 and "error" in out


def test_missing_files_from_is_a_usage_error(tmp_path, capsys):
    code = main(["score", "--files-from", str(tmp_path / "missing.txt")])
    assert code != 0


def test_no_paths_is_a_usage_error(capsys):
    assert main(["score"]) != 0


def test_bad_threshold_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["score", "--threshold", "2", "x.jpg"])
    assert exit_.value.code != 0


def test_shake_direction_only_where_the_threshold_calls_it_shake(tmp_path, capsys):
    rng = np.random.default_rng(9)
    scene = np.full((300, 400), 128, np.uint8)
    for _ in range(80):
        x, y = (int(v) for v in rng.integers(0, 400, 2))
        cv2.rectangle(scene, (x, y % 300), (x + 40, y % 300 + 30), int(rng.integers(0, 255)), -1)
    streak = np.zeros((15, 15), np.float32)
    streak[7, :] = 1 / 15  # a horizontal shake
    path = tmp_path / "shaken.png"
    cv2.imwrite(str(path), cv2.filter2D(scene, -1, streak))
    shaken = json.loads(run(capsys, "--json", "--threshold", "0.5", path)[1])
    assert shaken["blur_kind"] == "motion" and shaken["shake_path"] == "straight"
    assert shaken["motion_angle"] is not None and (shaken["motion_angle"] < 20 or shaken["motion_angle"] > 160)
    lenient = json.loads(run(capsys, "--json", "--threshold", "1", path)[1])
    assert lenient["blur_kind"] == "sharp" and lenient["motion_angle"] is None and lenient["shake_path"] is None
    # and the reasons are this threshold's, in words
    assert shaken["reasons"][0] == "camera shake, roughly horizontal"
    assert lenient["reasons"][0] in ("sharp", "subject sharp, background soft") and "reasons_by_verdict" not in lenient


def test_any_file_name_comes_through_a_list(images, tmp_path, capsys):
    """A name that is not UTF-8 (as `find` writes it) stopped the command with a UnicodeDecodeError."""
    odd = images / os.fsdecode(b"caf\xe9.jpg")
    odd.write_bytes((images / "sharp.jpg").read_bytes())
    listing = tmp_path / "list.txt"
    listing.write_bytes(os.fsencode(odd) + b"\n\n")
    code, out = run(capsys, "--json", "--files-from", listing, "--jobs", "1")
    [row] = map(json.loads, out.splitlines())
    assert code == 0 and os.fsencode(row["path"]) == os.fsencode(odd) and row["is_blurred"] is False


def test_pipes_and_devices_are_not_read(images, capsys):
    """A pipe named like a photo hung the command; /dev/zero read until the memory ran out."""
    os.mkfifo(images / "pipe.jpg")
    code, out = run(capsys, "--json", "--jobs", "1", images, "/dev/zero")
    rows = {r["path"].rsplit("/", 1)[-1]: r for r in map(json.loads, out.splitlines())}
    assert code == 0 and "pipe.jpg" not in rows  # a folder's scan takes regular files only
    assert rows["zero"]["error"].startswith("not a regular file")
    code, out = run(capsys, "--json", images / "pipe.jpg")
    assert json.loads(out)["error"].startswith("not a regular file")


def test_a_linked_folder_is_scanned_once_even_when_it_loops(images, tmp_path, capsys):
    """A linked folder was passed over without a word, while a linked file was scored."""
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "linked.jpg").write_bytes((images / "sharp.jpg").read_bytes())
    (images / "sub" / "trip").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (images / "sub" / "again").symlink_to(images, target_is_directory=True)  # a loop
    code, out = run(capsys, "--json", "--jobs", "1", images)
    names = sorted(r["path"].rsplit("/", 1)[-1] for r in map(json.loads, out.splitlines()))
    assert code == 0 and names == ["blurred.png", "broken.jpg", "linked.jpg", "sharp.jpg"]


def test_an_empty_list_is_nothing_to_do_and_usage_errors_say_what(tmp_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert run(capsys, "--files-from", empty) == (0, "")
    with pytest.raises(SystemExit) as usage:
        main(["score", "--threshold", "abc", "x.jpg"])
    assert usage.value.code == 2 and "'abc' is not a number" in capsys.readouterr().err


def test_an_error_line_names_the_file_once(images, capsys):
    code, out = run(capsys, images / "broken.jpg")
    assert code == 0 and out.count(str(images / "broken.jpg")) == 1


def test_a_reader_that_stops_early_is_not_an_error(images):
    """`classify score . | head -1` ended with a BrokenPipeError traceback and exit 1."""
    command = [sys.executable, "-c", "import sys; from app.cli import main; sys.exit(main(sys.argv[1:]))"]
    scored = subprocess.Popen(
        [*command, "score", "--jobs", "1", str(images)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    scored.stdout.readline()
    scored.stdout.close()
    assert scored.wait(60) == 0
    assert scored.stderr.read() == b""


def test_the_verdict_is_that_of_the_printed_score(tmp_path, monkeypatch):
    """A score of 0.79996 prints as 0.8, as the app stores it; --threshold 0.8 calls it blurred, as the app does."""
    import dataclasses

    from app.adapters import scorer
    from app.cli.score import score_one
    from app.domain.blur import analyse

    path = tmp_path / "edge.png"
    cv2.imwrite(str(path), np.full((64, 64), 128, np.uint8))
    real = analyse(np.full((64, 64), 128, np.uint8))
    edge = dataclasses.replace(real, blur_score=0.79996, blur_type="defocus", reasons_if_blurred=("out of focus",))
    monkeypatch.setattr(scorer, "score_file_timed", lambda _path: (edge, 1.0))
    result = score_one(str(path), 0.8)
    assert result["blur_score"] == 0.8 and result["is_blurred"] is True and result["blur_kind"] == "defocus"
    assert result["reasons"] == ["out of focus"]
