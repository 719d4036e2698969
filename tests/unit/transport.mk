# tests/unit/transport (owned by the transport area).
