# Pebble harness and integration tests.
