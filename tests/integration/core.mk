# core integration tests
