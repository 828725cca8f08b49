"""Local fakes of external services for the tests (loopback HTTP servers written to the contracts)."""
