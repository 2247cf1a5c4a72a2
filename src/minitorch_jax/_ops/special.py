"""More elementwise math and comparisons: isclose/allclose/equal, clamp_min/max, gcd/lcm, polygamma ..."""

from __future__ import annotations
