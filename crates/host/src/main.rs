//! `rollscope`: the command line. See `lib.rs` for what this crate owns.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use host::term::escape;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Rollout trace viewer for slime dumps. With a DUMP, serves the viewer on 127.0.0.1 and
/// opens that dump in it; all parsing happens in the browser.
#[derive(Parser)]
#[command(
    name = "rollscope",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Args)]
struct ServeArgs {
    /// A rollout dump (.pt) or slime cache (.json) to open, or a run folder (slime's
    /// --dump-details DIR) to explore; only that file, or that folder's run files, are served.
    dump: Option<PathBuf>,
    /// A second run folder, opened beside the first to compare them (B − A).
    #[arg(requires = "dump")]
    second: Option<PathBuf>,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 9999)]
    port: u16,
    /// Address to bind. Anything but loopback exposes the dump to the network.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Do not open a browser.
    #[arg(long)]
    no_open: bool,
    /// Do not serve: write <stem>.trace_timeline_viewer.html (one self-contained file) beside
    /// DUMP instead.
    #[arg(long, requires = "dump")]
    no_serve: bool,
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
    /// Print the rollout's performance picture: slime's metrics and more.
    Stats {
        /// A rollout dump (.pt) or a slime cache JSON.
        input: PathBuf,
        /// One flat JSON object; slime's metrics under slime's exact names.
        #[arg(long)]
        json: bool,
        /// Health threshold: E2E latency p99, seconds.
        #[arg(long, default_value_t = trace::metrics::Thresholds::default().e2e_p99_s)]
        e2e_p99: f64,
        /// Health threshold: queue time p99, seconds.
        #[arg(long, default_value_t = trace::metrics::Thresholds::default().queue_p99_s)]
        queue_p99: f64,
        /// Health threshold: share of aborted or failed samples.
        #[arg(long, default_value_t = trace::metrics::Thresholds::default().failed_share)]
        failed_share: f64,
        /// Health threshold: minimum decode throughput p50, tokens/s.
        #[arg(long, default_value_t = trace::metrics::Thresholds::default().decode_tok_s)]
        decode_min: f64,
    },
    /// Export the traces for other tools: Chrome Trace Event JSON (Perfetto, chrome://tracing)
    /// or OTLP/JSON (any OpenTelemetry collector, Tempo, Jaeger).
    Export {
        /// A rollout dump (.pt), a slime cache JSON or OTLP/JSON.
        input: PathBuf,
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Output path; "-" (the default) writes to standard output.
        #[arg(short, long, default_value = "-")]
        output: PathBuf,
    },
    /// A whole run (slime's --dump-details folder, or the files its --save-debug-* flags
    /// write): one line per rollout and eval dump with slime's metrics and flags (straggler,
    /// truncation burst, untraced, missing train data).
    Run {
        /// A run folder (--dump-details, or the flat rollout_{id}.pt / rollout_eval_{id}.pt /
        /// train_{id}_{rank}.pt), its rollout_data folder, or dump files.
        #[arg(required_unless_present = "save_debug_rollout_data")]
        inputs: Vec<PathBuf>,
        /// {"rollouts": [...], "samples": [...]} with slime's metric names (two run folders:
        /// both runs and their comparison, see docs/cli.md).
        #[arg(long)]
        json: bool,
        /// Two run folders: how their dumps are put side by side [default: rollout-id].
        #[arg(long, value_enum)]
        align: Option<AlignArg>,
        /// Two run folders: how samples of one rollout are matched (a replay: index)
        /// [default: index].
        #[arg(long = "match", value_enum)]
        match_by: Option<MatchArg>,
        /// Dumps read at once (default, or 0: one per core).
        #[arg(long)]
        jobs: Option<usize>,
        /// Keep watching a run still being written: print each dump's line as it lands (a
        /// file being written is waited for); with --json, one rollout object per line
        /// (JSON Lines). Ctrl-C stops.
        #[arg(long)]
        follow: bool,
        #[command(flatten)]
        slime: SlimeArgs,
    },
    /// Write one self-contained HTML file (viewer and rows) that opens from file://.
    Html {
        /// A rollout dump (.pt) or a slime cache JSON.
        input: PathBuf,
        /// Output path (default: <stem>.trace_timeline_viewer.html beside INPUT); "-" for stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

/// slime's own arguments, for what a dump cannot tell (pasted from the run's command line).
#[derive(clap::Args, Clone, Default)]
struct SlimeArgs {
    /// slime's --save-debug-rollout-data template, e.g. 'DIR/rollout_{rollout_id}.pt'.
    #[arg(long)]
    save_debug_rollout_data: Option<String>,
    /// slime's --save-debug-train-data template, e.g. 'DIR/train_{rollout_id}_{rank}.pt'.
    #[arg(long)]
    save_debug_train_data: Option<String>,
    /// The eval datasets' names in slime's config order (for dumps that do not name them).
    #[arg(long, value_delimiter = ',')]
    eval_names: Vec<String>,
    /// slime's --reward-key: the entry of a dict reward the metrics read.
    #[arg(long)]
    reward_key: Option<String>,
    /// slime's --eval-reward-key (default: the reward key).
    #[arg(long)]
    eval_reward_key: Option<String>,
    /// slime's --rollout-max-response-len (multi_turn clip ratio).
    #[arg(long)]
    rollout_max_response_len: Option<f64>,
    /// slime's --advantage-estimator (grpo by default; ppo counts no zero-std groups).
    #[arg(long)]
    advantage_estimator: Option<String>,
}

impl SlimeArgs {
    fn options(&self) -> trace::run::RunOptions {
        trace::run::RunOptions {
            eval_names: self.eval_names.clone(),
            reward_key: self.reward_key.clone(),
            eval_reward_key: self.eval_reward_key.clone(),
            rollout_max_response_len: self.rollout_max_response_len,
            advantage_estimator: self.advantage_estimator.clone(),
        }
    }

    fn templates(&self) -> trace::run::Templates {
        trace::run::Templates {
            rollout: self.save_debug_rollout_data.clone(),
            train: self.save_debug_train_data.clone(),
        }
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum AlignArg {
    /// The same rollout id.
    RolloutId,
    /// The same number of samples trained on.
    SamplesSeen,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum MatchArg {
    /// The same sample index.
    Index,
    /// The same prompt token ids.
    Prompt,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportFormat {
    /// Chrome Trace Event Format JSON.
    Chrome,
    /// OTLP/JSON (ExportTraceServiceRequest).
    Otlp,
}

fn main() -> ExitCode {
    host::alloc::tune();
    let cli = Cli::parse();
    let result = match &cli.command {
        Some(Command::Cache { input, output }) => cache(input, output.as_deref()),
        Some(Command::Html { input, output }) => html(input, output.as_deref()),
        Some(Command::Run {
            inputs,
            json,
            jobs,
            follow,
            slime,
            align,
            match_by,
        }) => match inputs.as_slice() {
            [_, _] if *follow && inputs.iter().all(|p| p.is_dir()) => {
                Err("--follow takes one run folder, not two".into())
            }
            [a, b] if a.is_dir() && b.is_dir() => run_pair(
                [a, b],
                *json,
                *jobs,
                slime,
                (
                    align.unwrap_or(AlignArg::RolloutId),
                    match_by.unwrap_or(MatchArg::Index),
                ),
            ),
            _ if align.is_some() || match_by.is_some() => {
                Err("--align and --match compare two run folders (rollscope run A B)".into())
            }
            _ if *follow => run_follow(inputs, *json, slime),
            _ => run(inputs, *json, *jobs, slime),
        },
        Some(Command::Export {
            input,
            format,
            output,
        }) => export(input, *format, output),
        Some(Command::Stats {
            input,
            json,
            e2e_p99,
            queue_p99,
            failed_share,
            decode_min,
        }) => stats(
            input,
            *json,
            &trace::metrics::Thresholds {
                e2e_p99_s: *e2e_p99,
                queue_p99_s: *queue_p99,
                failed_share: *failed_share,
                decode_tok_s: *decode_min,
            },
        ),
        None if cli.serve.no_serve => match &cli.serve.dump {
            Some(d) => html(d, None),
            None => Err("--no-serve needs a DUMP".into()),
        },
        None => serve(&cli.serve),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            // Messages quote the dump (class names, keys): never raw to the terminal.
            eprintln!("error: {}", escape(&message));
            ExitCode::FAILURE
        }
    }
}

/// Loads `input` (`ops::file::load`: streamed, never held whole), printing one warning line
/// per bad sample.
fn build(input: &Path) -> Result<trace::Loaded, String> {
    let src = ops::Src::Path(input.to_path_buf());
    let loaded = ops::file::load(&src, "")?;
    for w in ops::file::warning_lines(&loaded, &src, "") {
        eprintln!("warning: {}", escape(&w));
    }
    Ok(loaded)
}

/// Writes `write` to `out`, or to stdout for "-". A closed stdout (`rollscope run DIR |
/// head`) ends the output quietly, as `cat` does: the reader chose to stop (`print!` would
/// panic there, since Rust ignores SIGPIPE). JSON writers map their errors with
/// `io::Error::from`, which keeps an I/O error's kind (`io::Error::other` would hide it).
fn write_out(
    out: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), String> {
    if out == Path::new("-") {
        let stdout = std::io::stdout();
        let mut w = std::io::BufWriter::new(stdout.lock());
        match write(&mut w).and_then(|()| w.flush()) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                // Drop the unwritten rest, so dropping the writer does not try again.
                let _ = w.into_parts();
                Ok(())
            }
            r => r.map_err(|e| format!("writing to standard output: {e}")),
        }
    } else {
        host::output::write_file(out, write)
    }
}

fn cache(input: &Path, output: Option<&Path>) -> Result<(), String> {
    let out = output
        .map(Path::to_path_buf)
        .unwrap_or_else(|| host::cache_path_for(input));
    host::output::not_the_input(&out, input)?;
    let built = build(input)?;
    // Straight from the row store; JsonSafe: no raw control character that could reach a
    // terminal (`-o -`, or `cat` later).
    write_out(&out, |w| {
        let mut safe = host::term::JsonSafeWriter::new(w);
        ops::file::write_cache(&built, &mut safe)?;
        safe.flush()
    })?;
    if out != Path::new("-") {
        eprintln!(
            "{}",
            escape(&format!(
                "{}: {} rows, {} warnings -> {}",
                input.display(),
                built.store.len(),
                built.warnings.len(),
                out.display()
            ))
        );
    }
    Ok(())
}

fn stats(input: &Path, json: bool, thresholds: &trace::metrics::Thresholds) -> Result<(), String> {
    let built = build(input)?;
    let analysis = ops::file::stats(&built, thresholds);
    if json {
        let text = serde_json::to_string_pretty(&analysis.flat()).map_err(|e| e.to_string())?;
        write_out(Path::new("-"), |w| {
            writeln!(w, "{}", host::term::json_text_safe(&text))
        })
    } else {
        // The table escapes each field; this pass is the guarantee for anything it missed.
        let table =
            host::stats_table::render(&input.display().to_string(), built.store.len(), &analysis);
        write_out(Path::new("-"), |w| {
            write!(w, "{}", host::term::escape_lines(&table))
        })
    }
}

fn export(input: &Path, format: ExportFormat, out: &Path) -> Result<(), String> {
    host::output::not_the_input(out, input)?;
    let loaded = build(input)?;
    let format = match format {
        ExportFormat::Chrome => ops::file::Format::Chrome,
        ExportFormat::Otlp => ops::file::Format::Otlp,
    };
    let size = ops::Src::Path(input.to_path_buf()).size();
    write_out(out, |w| {
        let mut safe = host::term::JsonSafeWriter::new(w);
        ops::file::write_export(&loaded, format, size, &mut safe)
            .map(drop)
            .map_err(std::io::Error::other)
    })
}

fn run(
    inputs: &[PathBuf],
    json: bool,
    jobs: Option<usize>,
    slime: &SlimeArgs,
) -> Result<(), String> {
    let mut files = ops::listing::list_local_with(inputs, true, &slime.templates())?;
    let opts = slime.options();
    // slime's arguments a dump cannot tell mean nothing to verl's logs.
    if !files.listing.layout.dumps.iter().all(|d| d.is_verl()) {
        eprintln!("rollscope: {}", escape(&opts.assumed()));
    }
    // None or 0: one job per core (as `rollscope.run_table(jobs=0)`).
    // The table first (no sample records held), then, for --json, the samples dump by dump.
    let results = ops::table::read_run_with(&mut files, ops::table::jobs(jobs), &opts, false);
    if json {
        write_out(Path::new("-"), |w| {
            host::run::write_run_json(&mut *w, &files, &results, &opts)
        })
    } else {
        let table = host::term::escape_lines(&host::run::render_table(&files, &results));
        write_out(Path::new("-"), |w| write!(w, "{table}"))
    }
}

fn run_follow(inputs: &[PathBuf], json: bool, slime: &SlimeArgs) -> Result<(), String> {
    let opts = slime.options();
    eprintln!("rollscope: {}", escape(&opts.assumed()));
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    host::follow::follow(inputs, json, &opts, &slime.templates(), &mut w)
}

/// `rollscope run A B`: two run folders side by side.
fn run_pair(
    dirs: [&PathBuf; 2],
    json: bool,
    jobs: Option<usize>,
    slime: &SlimeArgs,
    (align, match_by): (AlignArg, MatchArg),
) -> Result<(), String> {
    let opts = slime.options();
    eprintln!("rollscope: {}", escape(&opts.assumed()));
    let align = match align {
        AlignArg::RolloutId => trace::run::Align::RolloutId,
        AlignArg::SamplesSeen => trace::run::Align::SamplesSeen,
    };
    let match_by = match match_by {
        MatchArg::Index => trace::run::SampleMatch::Index,
        MatchArg::Prompt => trace::run::SampleMatch::Prompt,
    };
    let doc = ops::pair::compare_dirs(
        [dirs[0].as_path(), dirs[1].as_path()],
        ops::table::jobs(jobs),
        &opts,
        &slime.templates(),
        (align, match_by),
    )?;
    if json {
        write_out(Path::new("-"), |w| {
            host::term::write_json_safe(&mut *w, &doc).map_err(std::io::Error::from)?;
            writeln!(w)
        })
    } else {
        let table = host::term::escape_lines(&host::run_pair::render_pair(&doc));
        write_out(Path::new("-"), |w| write!(w, "{table}"))
    }
}

fn html(input: &Path, output: Option<&Path>) -> Result<(), String> {
    let out = output
        .map(Path::to_path_buf)
        .unwrap_or_else(|| host::report_path_for(input));
    host::output::not_the_input(&out, input)?;
    let built = build(input)?;
    let name = input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let report = host::report::prepare(&built, &name)?;
    let mut size = 0;
    write_out(&out, |w| report.write(w).map(|n| size = n))?;
    if out != Path::new("-") {
        eprintln!(
            "{}",
            escape(&format!(
                "{}: {} rows -> {} ({:.1} MB, opens from file://)",
                input.display(),
                built.store.len(),
                out.display(),
                size as f64 / 1e6
            ))
        );
    }
    Ok(())
}

/// A run folder served under a fresh token (only the files of its listing).
fn run_site(dir: &Path) -> Result<host::serve::RunSite, String> {
    // Only files under DIR are served (no sibling train_data of a rollout_data DIR).
    let run = ops::listing::list_local(&[dir.to_path_buf()], false)?;
    let name = dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "run".into());
    eprintln!(
        "{}",
        escape(&format!(
            "rollscope: run {}: {} dumps, {} files",
            dir.display(),
            run.listing.layout.dumps.len(),
            run.listing.files.len()
        ))
    );
    let token = host::guard::Token::random()?;
    // A run still being written: listed again when its index is asked for, its files named
    // from the root of this first listing (a verl step folder is listed from its parent until
    // a dump lands in it) and only those under DIR.
    let again = dir.to_path_buf();
    let root = run.root.clone();
    let relist: Box<host::run_index::Relist> = Box::new(move || {
        let now = ops::listing::list_local(std::slice::from_ref(&again), false)?;
        Ok(host::run_index::rename_from(
            &now.root,
            now.listing.files,
            &root,
            &again,
        ))
    });
    let index = host::run_index::RunIndex::new(&name, &run.root, &run.listing.files, Some(relist));
    Ok(host::serve::RunSite::with_index(index, &token))
}

fn serve(args: &ServeArgs) -> Result<(), String> {
    let mut run_dir = None;
    if let Some(d) = &args.dump {
        let meta = std::fs::metadata(d).map_err(|e| format!("{}: {e}", d.display()))?;
        if meta.is_dir() {
            if args.no_serve {
                return Err(format!(
                    "{}: --no-serve takes a dump, not a run folder",
                    d.display()
                ));
            }
            run_dir = Some(d.clone());
        } else if !meta.is_file() {
            return Err(format!("{}: not a file", d.display()));
        }
    }
    if !args.host.is_loopback() {
        eprintln!(
            "warning: listening on {}: anyone who can reach this machine can open the viewer{}",
            args.host,
            if args.dump.is_some() {
                " and read the dump"
            } else {
                ""
            }
        );
    }
    if !host::assets::viewer_built() {
        eprintln!("warning: this binary was built without the viewer (run `cargo xtask build`, then rebuild)");
    }
    let site = match &run_dir {
        Some(dir) => {
            let mut site = host::serve::Site::for_run(run_site(dir)?);
            if let Some(b) = &args.second {
                if !b.is_dir() {
                    return Err(format!(
                        "{}: not a run folder (the second input compares two runs)",
                        b.display()
                    ));
                }
                site.second_run = Some(run_site(b)?);
            }
            site
        }
        None if args.second.is_some() => {
            return Err("two inputs compare two run folders; the first is not one".into())
        }
        None => host::serve::Site::new(args.dump.clone())?,
    };
    let addr = SocketAddr::new(args.host, args.port);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let no_open = args.no_open;
    // The browser's redirect file: kept (and then removed) for as long as the server runs.
    let mut redirect = None;
    runtime
        .block_on(host::serve::run(site, addr, |site, bound| {
            // The URL carries the dump's secret token: printed for the user only, and never
            // put on a command line (see `host::browser`).
            let url = site.start_url(bound);
            println!("rollscope: serving on {url}  (Ctrl-C stops)");
            let _ = std::io::stdout().flush();
            if !no_open {
                redirect = host::browser::open(&url);
            }
        }))
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AddrInUse => {
                format!("{addr}: the port is in use (try --port 0 for a free one)")
            }
            _ => format!("{addr}: {e}"),
        })
}
