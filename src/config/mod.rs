//! Configuration: raw serde structs that mirror the TOML, validated once into resolved settings.
