//! The `mocapd` binary: parses arguments, sets up logging, and calls the library.

fn main() -> anyhow::Result<()> {
    Ok(())
}
