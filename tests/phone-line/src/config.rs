//! What the line and the modems are told on the command line, checked once so the rest of the
//! instrument works with durations and never meets a negative rate or a zero baud.
//!
//! It does not parse arguments (`main.rs` does, with clap) and holds no state that changes.

use std::time::Duration;

/// What sits at each end of the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A null-modem cable or a transparent radio: bytes pass as soon as the clients write.
    Plain,
    /// A Hayes modem on each pty, and a phone call to set up before bytes pass.
    Modem,
}

/// How bad the line is and how the modems behave, for one run.
#[derive(Debug, Clone)]
pub struct LineConfig {
    pub mode: Mode,
    /// Bits per second on the wire; one byte takes ten bits (8N1).
    pub baud: u32,
    /// One-way delay after a byte has finished serialising.
    pub latency: Duration,
    /// Probability that one byte is damaged (half dropped, half with one bit flipped).
    pub error_rate: f64,
    /// Mean gap between cuts, or `None` for a line that is never cut.
    pub cut_mean: Option<Duration>,
    /// How long a cut keeps a plain line dead.
    pub cut_length: Duration,
    /// Seeds the noise of each direction and the cut schedule, so a run can be replayed.
    pub seed: u64,
    /// A number whose line is always engaged: dialling it answers `BUSY`.
    pub busy_number: Option<String>,
    /// False: every dial answers `NO DIALTONE`, as with the phone cable unplugged.
    pub dialtone: bool,
    /// How long a caller waits for the other modem to answer before `NO CARRIER`.
    pub answer_timeout: Duration,
    /// Silence needed before and after `+++` for the modem to leave data mode.
    pub guard: Duration,
}

/// A command-line value the line cannot work with.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("--baud must be at least 10 (one byte per second), got {0}")]
    BaudTooLow(u32),
    #[error("--error-rate must be between 0 and 1, got {0}")]
    ErrorRate(f64),
    #[error("--{name} must be a finite number of seconds, 0 or more, got {value}")]
    Seconds { name: &'static str, value: f64 },
}

/// Seconds from the command line as a duration, refusing what `Duration` cannot hold.
pub fn seconds(name: &'static str, value: f64) -> Result<Duration, ConfigError> {
    Duration::try_from_secs_f64(value).map_err(|_| ConfigError::Seconds { name, value })
}

impl LineConfig {
    /// Checks the values that can be out of range once, so nothing later divides by zero.
    pub fn check(self) -> Result<Self, ConfigError> {
        if self.baud < 10 {
            return Err(ConfigError::BaudTooLow(self.baud));
        }
        if !(0.0..=1.0).contains(&self.error_rate) {
            return Err(ConfigError::ErrorRate(self.error_rate));
        }
        Ok(self)
    }

    /// How long one byte occupies the wire: a start bit, eight data bits and a stop bit.
    pub fn byte_time(&self) -> Duration {
        Duration::from_nanos(10_000_000_000 / u64::from(self.baud.max(1)))
    }

    /// A configuration for tests: a clean, fast line between two modems or two cable ends.
    pub fn clean(mode: Mode) -> Self {
        LineConfig {
            mode,
            baud: 9600,
            latency: Duration::from_millis(300),
            error_rate: 0.0,
            cut_mean: None,
            cut_length: Duration::from_secs(3),
            seed: 1,
            busy_number: None,
            dialtone: true,
            answer_timeout: Duration::from_secs(30),
            guard: Duration::from_secs(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_takes_ten_bit_times() {
        let config = LineConfig::clean(Mode::Plain);
        assert_eq!(config.byte_time(), Duration::from_nanos(1_041_666));
    }

    #[test]
    fn out_of_range_values_are_refused() {
        let mut config = LineConfig::clean(Mode::Plain);
        config.error_rate = 1.5;
        assert_eq!(config.check().err(), Some(ConfigError::ErrorRate(1.5)));
        let mut config = LineConfig::clean(Mode::Plain);
        config.baud = 0;
        assert_eq!(config.check().err(), Some(ConfigError::BaudTooLow(0)));
        assert!(seconds("cut-secs", -1.0).is_err());
        assert!(seconds("cut-secs", f64::NAN).is_err());
    }
}
