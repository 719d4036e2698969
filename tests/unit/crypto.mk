# tests/unit/crypto (owned by the crypto area).
