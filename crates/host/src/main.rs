//! `rollscope`: the command line. See `lib.rs` for what this crate owns.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Rollout trace viewer for slime dumps: build timeline caches, print stats, serve the viewer.
#[derive(Parser)]
#[command(name = "rollscope", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the timeline cache (slime's cache v1 JSON) from a dump.
    ///
    /// Writes <stem>.trace_timeline_cache.json beside INPUT unless -o says otherwise.
    Cache {
        /// A rollout dump (.pt, zip or legacy torch) or a slime cache JSON.
        input: PathBuf,
        /// Output path; "-" writes to standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Cache { input, output } => cache(input, output.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Reads and builds, printing one warning line per bad sample.
fn build(input: &Path) -> Result<trace::Built, String> {
    let shown = input.display();
    let bytes = host::Bytes::open(input).map_err(|e| format!("{shown}: {e}"))?;
    let parsed = trace::parse(&bytes).map_err(|e| format!("{shown}: {e}"))?;
    // The tree owns its data: give the file's memory back before rows are built.
    drop(bytes);
    let built = parsed
        .build(&input.to_string_lossy(), now())
        .map_err(|e| format!("{shown}: {e}"))?;
    for w in &built.warnings {
        eprintln!("warning: {shown}: {w}");
    }
    Ok(built)
}

fn cache(input: &Path, output: Option<&Path>) -> Result<(), String> {
    let built = build(input)?;
    let default_out;
    let out = match output {
        Some(p) => p,
        None => {
            default_out = host::cache_path_for(input);
            &default_out
        }
    };
    if out == Path::new("-") {
        let stdout = std::io::stdout();
        let mut w = std::io::BufWriter::new(stdout.lock());
        serde_json::to_writer(&mut w, &built.cache)
            .map_err(|e| format!("writing to standard output: {e}"))?;
        w.flush()
            .map_err(|e| format!("writing to standard output: {e}"))?;
        return Ok(());
    }
    let file = std::fs::File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut w = std::io::BufWriter::new(file);
    serde_json::to_writer(&mut w, &built.cache).map_err(|e| format!("{}: {e}", out.display()))?;
    w.flush().map_err(|e| format!("{}: {e}", out.display()))?;
    eprintln!(
        "{}: {} rows, {} warnings -> {}",
        input.display(),
        built.cache.rows.len(),
        built.warnings.len(),
        out.display()
    );
    Ok(())
}
