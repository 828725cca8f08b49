"""`classify score`: JSON lines, errors as lines with exit 0, usage errors non-zero."""

import json

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
