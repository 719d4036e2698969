# tests/unit/client (owned by the client area).
