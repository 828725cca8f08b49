"""What reaches the log is masked: a shared link's key reads the whole folder, as a token would."""

from __future__ import annotations

import logging

from app.logs import configure_logging, log

RLKEY = "k3yth4t0p3ns"
API_KEY = "AIzaSyB-server-key"


def test_link_keys_and_the_api_key_are_masked_in_library_debug_lines(capfd) -> None:
    configure_logging("DEBUG")
    try:
        # what httpcore logs at DEBUG for a Dropbox download: the headers, which hold the shared link
        header = f'{{"url": "https://www.dropbox.com/scl/fo/abc/def?rlkey={RLKEY}&dl=0", "name": "a.jpg"}}'
        logging.getLogger("httpcore.http11").debug(
            "receive_response_headers.complete return_value=%r", (200, [(b"dropbox-api-result", header.encode())])
        )
        logging.getLogger("classify").info(f"listing https://www.googleapis.com/drive/v3/files?q=x&key={API_KEY}")
        logging.getLogger("classify").info("import from https://drive.google.com/drive/folders/F?resourcekey=0-abc")
        log.info("asked", url=f"https://api.example/v1?api_key={API_KEY}", rlkey=RLKEY)  # structlog's own
    finally:
        configure_logging("INFO")
    err = capfd.readouterr().err
    assert RLKEY not in err and API_KEY not in err and "0-abc" not in err
    assert err.count("*****") == 5 and "dropbox-api-result" in err  # the line is kept, its key is not
