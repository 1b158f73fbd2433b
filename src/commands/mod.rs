//! CLI subcommands: each takes resolved settings and runs one job.
