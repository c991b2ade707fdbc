//! The fuzz harness the readers' tests share: proptest runners, one fresh runner per round
//! seeded from a printed seed and the round number. Each reader (MARC, CSV, xlsx) is fuzzed
//! for a few seconds, or `TUSACH_FUZZ_SECS` seconds (CI sets 60), shared among its targets.
//! `TUSACH_FUZZ_SEED=N` replays a run and `TUSACH_FUZZ_ROUND=R` starts at the round a
//! failure names.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

const CASES_PER_ROUND: u32 = 256;

fn seconds() -> u64 {
    std::env::var("TUSACH_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2)
}

/// Fuzzes `check` with inputs from `strategy` for `1/share` of the reader's time (`share`:
/// how many targets fuzz the same reader), and at least one round.
pub(crate) fn fuzz<S: Strategy>(name: &str, share: u32, strategy: S, check: impl Fn(S::Value))
where
    S::Value: std::fmt::Debug,
{
    let seed: u64 = std::env::var("TUSACH_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    eprintln!("fuzz {name}: seed {seed} (replay with TUSACH_FUZZ_SEED={seed})");
    let config = Config {
        cases: CASES_PER_ROUND,
        failure_persistence: None,
        ..Config::default()
    };
    let deadline = Instant::now() + Duration::from_secs(seconds()) / share.max(1);
    let first: u64 = std::env::var("TUSACH_FUZZ_ROUND")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut rounds: u64 = first;
    while rounds == first || Instant::now() < deadline {
        // A fresh runner each round (one runner stops generating after its cases), seeded
        // from the seed and the round, so a failure replays from the printed seed.
        let mut seed_bytes = [0u8; 32];
        seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
        seed_bytes[8..16].copy_from_slice(&rounds.to_le_bytes());
        let mut runner = TestRunner::new_with_rng(
            config.clone(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
        );
        if let Err(failure) = runner.run(&strategy, |input| {
            check(input);
            Ok(())
        }) {
            panic!(
                "fuzz {name}: {failure} (replay with TUSACH_FUZZ_SEED={seed} \
                 TUSACH_FUZZ_ROUND={rounds})"
            );
        }
        rounds += 1;
    }
    eprintln!(
        "fuzz {name}: {} inputs",
        (rounds - first) * u64::from(CASES_PER_ROUND)
    );
}
