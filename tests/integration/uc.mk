# UCloud integration tests
