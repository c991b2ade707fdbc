//! `phone-line`: parses the command line, opens the two ports, says `ready`, and runs the line
//! until SIGTERM or SIGINT, then removes its symlinks.

use std::io::Write;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::SignalFd;
use tusach_phone_line::config::{self, LineConfig, Mode};
use tusach_phone_line::exchange::Stats;
use tusach_phone_line::port::Port;
use tusach_phone_line::serve::serve;
use tusach_phone_line::stats;

/// A bad serial line (and optionally two Hayes modems and the phone line between them)
/// between two pseudo-terminals, for testing serial transports with real serial I/O.
#[derive(Debug, Parser)]
#[command(name = "phone-line")]
struct Args {
    /// Path of the symlink to end A's serial device (an existing symlink is replaced).
    #[arg(long = "a", value_name = "PATH_A")]
    path_a: PathBuf,
    /// Path of the symlink to end B's serial device.
    #[arg(long = "b", value_name = "PATH_B")]
    path_b: PathBuf,
    /// Bits per second; each byte takes ten bits (8N1).
    #[arg(long, default_value_t = 9600)]
    baud: u32,
    /// One-way delay after a byte has been serialised, in milliseconds.
    #[arg(long, default_value_t = 300)]
    latency_ms: u64,
    /// Probability that a byte is damaged: half of those are dropped, half get one bit flipped.
    #[arg(long, default_value_t = 0.001)]
    error_rate: f64,
    /// Mean seconds between cuts (exponentially distributed); 0 never cuts.
    #[arg(long, default_value_t = 0.0)]
    cut_mean_secs: f64,
    /// How long a cut keeps a plain line dead, in seconds.
    #[arg(long, default_value_t = 3.0)]
    cut_secs: f64,
    /// Seed for the noise and the cuts (random when not given; printed on stderr).
    #[arg(long)]
    seed: Option<u64>,
    /// plain: a null-modem cable; modem: a Hayes modem at each end.
    #[arg(long, value_enum, default_value_t = ModeArg::Plain)]
    mode: ModeArg,
    /// A number that is always engaged: dialling it answers BUSY.
    #[arg(long)]
    busy_number: Option<String>,
    /// Every dial answers NO DIALTONE, as with the phone cable unplugged.
    #[arg(long)]
    no_dialtone: bool,
    /// Seconds a caller waits for an answer before NO CARRIER.
    #[arg(long, default_value_t = 30.0)]
    answer_timeout_secs: f64,
    /// Silence needed before and after +++ to leave data mode, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    guard_ms: u64,
    /// JSON file of counters, rewritten atomically when they change.
    #[arg(long, value_name = "FILE")]
    stats: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ModeArg {
    Plain,
    Modem,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("phone-line: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let seed = args.seed.unwrap_or_else(|| fastrand::u64(..));
    let cut_mean = config::seconds("cut-mean-secs", args.cut_mean_secs)?;
    let config = LineConfig {
        mode: match args.mode {
            ModeArg::Plain => Mode::Plain,
            ModeArg::Modem => Mode::Modem,
        },
        baud: args.baud,
        latency: Duration::from_millis(args.latency_ms),
        error_rate: args.error_rate,
        cut_mean: Some(cut_mean).filter(|mean| !mean.is_zero()),
        cut_length: config::seconds("cut-secs", args.cut_secs)?,
        seed,
        busy_number: args.busy_number,
        dialtone: !args.no_dialtone,
        answer_timeout: config::seconds("answer-timeout-secs", args.answer_timeout_secs)?,
        guard: Duration::from_millis(args.guard_ms),
    }
    .check()?;
    eprintln!("phone-line: seed {seed} (--seed {seed} replays this run's noise and cuts)");

    // Signals arrive on an fd the loop polls, so stopping is an ordinary return that drops
    // the ports and their symlinks, with no signal handler (and no `unsafe`). Blocked before
    // anything else runs, in the process's only thread.
    let mut signals = SigSet::empty();
    for signal in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        signals.add(signal);
    }
    signals.thread_block()?;
    let stop = SignalFd::new(&signals)?;

    let mut ports = [Port::open(&args.path_a)?, Port::open(&args.path_b)?];
    eprintln!(
        "phone-line: {} is {}, {} is {}",
        args.path_a.display(),
        ports[0].device().display(),
        args.path_b.display(),
        ports[1].device().display()
    );
    // The stats file exists from `ready` on, so a test may read it at once.
    if let Some(path) = &args.stats {
        stats::write_atomically(path, &Stats::default())?;
    }
    let mut stdout = std::io::stdout();
    writeln!(stdout, "ready")?;
    stdout.flush()?;

    serve(config, &mut ports, args.stats.as_deref(), stop.as_fd())?;
    Ok(())
}
