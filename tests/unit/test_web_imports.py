"""The web process does not load OpenCV: scoring runs in the pool workers, and OpenCV with its buffers costs
the web process tens of MB it never uses (bench/README.md, "lazy imports")."""

import subprocess
import sys


def test_the_web_app_imports_without_opencv():
    probe = "import sys, app.main; print(sorted(m for m in ('cv2', 'app.domain.blur') if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
