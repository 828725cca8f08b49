"""Sensor noise in words for people. No image maths here: the web process uses it without loading OpenCV."""

NOISY_SIGMA = 6.0  # grey levels at analysis resolution; above this the photo is "very noisy"


def noise_level(sigma: float) -> str:
    """The noise estimate in words: a phone in daylight is "low", one in dim light "high"."""
    if sigma < 2.0:
        return "low"
    return "moderate" if sigma < NOISY_SIGMA else "high"
