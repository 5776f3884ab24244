"""gunicorn's settings for serving the dashboard: what a request may be before the app sees it.

`make run` passes this file (`-c gunicorn.conf.py`), and gunicorn reads it by itself when started
from the repository's folder (`gunicorn app:server`, as the README says).

Why a request line of up to 1 MiB, not gunicorn's 8,190 bytes nor "unlimited":

- With its 8,190-byte cap (`--limit-request-line 8190`, the most it allows), a 10,000-character
  API value got gunicorn's own HTML "414 Request-URI Too Long", not the API's JSON 400 that names
  the parameter (issue 13).
- `--limit-request-line 0` means no limit, and gunicorn's parser copies the whole line on every
  8 KiB read (quadratic): measured, a 1 MB line took 0.3 s, but a 10 MB line held the worker
  for the full 30 s timeout until the arbiter killed it, answering an HTML 500. Any client could
  keep every worker busy that way.
- So the cap stays, raised to REQUEST_LINE (1 MiB: 0.3 s of parsing at worst). Lines up to it
  reach the app, which refuses any address over 16 KiB in its own words (dashboard/guard.py:
  a JSON 400 naming the parameter on the API, a plain "this address is too long" page
  elsewhere); a longer line still gets gunicorn's 414 at once, before it is read further.
  gunicorn clamps the setting to its module constant MAX_REQUEST_LINE, so the constant is
  raised here (this file runs in the master, before the workers fork); the startup check
  below fails loudly if a gunicorn upgrade moves it, and tests/integration/
  test_hardening_server.py sends 10,000- and 100,000-character values to a real gunicorn.

Headers stay at gunicorn's own bounds, said here so they are not lost: at most 100 fields of at
most 8,190 bytes each (about 800 KiB in all).
"""

from __future__ import annotations

import gunicorn.http.message as _message

REQUEST_LINE = 1024 * 1024

if not isinstance(getattr(_message, "MAX_REQUEST_LINE", None), int):
    raise RuntimeError("gunicorn.conf.py: gunicorn.http.message.MAX_REQUEST_LINE is gone; "
                       "see this file's docstring before changing the gunicorn version")
_message.MAX_REQUEST_LINE = REQUEST_LINE

limit_request_line = REQUEST_LINE
limit_request_fields = 100
limit_request_field_size = 8190
