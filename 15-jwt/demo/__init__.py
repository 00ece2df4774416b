"""The narrated demo and the in-process server it (and the tests) run the app on."""
