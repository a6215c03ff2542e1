"""The review workflow: the alert queue, the review desk (analyst use cases) and the review graph."""
