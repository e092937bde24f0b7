"""Configuration: loading, validating and compiling targets, sources and routes."""
