//! Loads `examples/policy.toml` and checks requests end to end.
