# state backends (owned by the state helper)
