//! Hayes AT modem control: waking and setting up the modem, dialling, answering a ring and
//! hanging up, with a clear error for every way a call fails.
//!
//! The modem speaks lines of text in command mode; a final result code (`OK`, `CONNECT`,
//! `BUSY`, `NO CARRIER`, …) ends each command. After `CONNECT` the line carries our frames
//! until the call drops, when the modem prints `NO CARRIER` and is back in command mode.
//! Hanging up first drops DTR (with `AT&D2` the modem hangs up at once); where the line has no
//! DTR (a pseudo-terminal, some USB adapters) it falls back to the escape `+++` between guard
//! times and `ATH`.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{Instant, timeout_at};

/// How the modem is set up and called.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModemSettings {
    /// Sent after waking the modem; each must answer OK. Default: echo off, verbose results,
    /// hang up when DTR drops, no auto-answer (we answer RINGs ourselves).
    pub init: Vec<String>,
    /// How long a dialled call may take to connect.
    pub connect_timeout: Duration,
    /// Silence the modem needs around `+++` (its S12 register; 1 s by default).
    pub guard_time: Duration,
}

impl Default for ModemSettings {
    fn default() -> ModemSettings {
        ModemSettings {
            init: vec!["ATE0V1Q0&D2S0=0".to_owned()],
            connect_timeout: Duration::from_secs(60),
            guard_time: Duration::from_millis(1_100),
        }
    }
}

/// A call that could not be made or kept, in words for the sync page.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ModemError {
    #[error("the modem did not answer '{0}' (is it switched on, at this baud rate?)")]
    Silent(String),
    #[error("the modem refused the command '{0}' (ERROR): check the init string")]
    Refused(String),
    #[error("the number is busy (BUSY)")]
    Busy,
    #[error("no dial tone (NO DIALTONE): is the phone line plugged into the modem?")]
    NoDialtone,
    #[error("the other side did not answer (NO ANSWER)")]
    NoAnswer,
    #[error("no carrier (NO CARRIER): the call did not connect or was cut")]
    NoCarrier,
    #[error("the call did not connect within {0} s")]
    ConnectTimeout(u64),
    #[error("the modem answered '{0}', which this program does not understand")]
    Unexpected(String),
    #[error("serial line: {0}")]
    Io(String),
}

impl From<std::io::Error> for ModemError {
    fn from(error: std::io::Error) -> ModemError {
        ModemError::Io(error.to_string())
    }
}

/// A line a modem sits on: bytes both ways, and the DTR signal when the hardware has one.
pub trait ModemLine: AsyncRead + AsyncWrite + Unpin + Send {
    /// Sets DTR; an error means the line has no such signal.
    fn set_dtr(&mut self, level: bool) -> std::io::Result<()>;
}

/// Result codes that end a command.
fn is_final(line: &str) -> bool {
    const FINAL: [&str; 7] = [
        "OK",
        "ERROR",
        "BUSY",
        "NO CARRIER",
        "NO DIALTONE",
        "NO DIAL TONE",
        "NO ANSWER",
    ];
    FINAL.contains(&line) || line.starts_with("CONNECT")
}

/// Reads the modem's text a line at a time.
pub struct ModemText {
    partial: Vec<u8>,
}

impl Default for ModemText {
    fn default() -> Self {
        ModemText {
            partial: Vec::with_capacity(64),
        }
    }
}

impl ModemText {
    /// The next non-empty line, or `None` at the deadline.
    pub async fn next_line<L: ModemLine>(
        &mut self,
        line: &mut L,
        deadline: Instant,
    ) -> Result<Option<String>, ModemError> {
        loop {
            if let Some(end) = self.partial.iter().position(|b| *b == b'\r' || *b == b'\n') {
                let text: Vec<u8> = self.partial.drain(..=end).collect();
                let text = String::from_utf8_lossy(&text).trim().to_owned();
                if !text.is_empty() {
                    return Ok(Some(text));
                }
                continue;
            }
            if self.partial.len() > 256 {
                self.partial.clear(); // Not modem text: line noise.
            }
            let mut byte = [0u8; 64];
            match timeout_at(deadline, line.read(&mut byte)).await {
                Err(_) => return Ok(None),
                Ok(Ok(0)) => return Err(ModemError::Io("the serial device closed".to_owned())),
                Ok(Ok(n)) => self.partial.extend_from_slice(&byte[..n]),
                Ok(Err(e)) => return Err(e.into()),
            }
        }
    }
}

impl ModemText {
    /// Reads and forgets whatever the modem says until it has been quiet for `quiet` (two
    /// seconds at most, against a line that never stops).
    pub async fn discard_stale<L: ModemLine>(
        &mut self,
        line: &mut L,
        quiet: Duration,
    ) -> Result<(), ModemError> {
        let give_up = Instant::now() + Duration::from_secs(2);
        let mut bytes = [0u8; 64];
        while Instant::now() < give_up {
            match tokio::time::timeout(quiet, line.read(&mut bytes)).await {
                Err(_) => break,
                Ok(Ok(0)) => return Err(ModemError::Io("the serial device closed".to_owned())),
                Ok(Ok(_)) => continue,
                Ok(Err(e)) => return Err(e.into()),
            }
        }
        self.partial.clear();
        Ok(())
    }
}

fn result_error(command: &str, result: &str) -> ModemError {
    match result {
        "ERROR" => ModemError::Refused(command.to_owned()),
        "BUSY" => ModemError::Busy,
        "NO CARRIER" => ModemError::NoCarrier,
        "NO DIALTONE" | "NO DIAL TONE" => ModemError::NoDialtone,
        "NO ANSWER" => ModemError::NoAnswer,
        other => ModemError::Unexpected(other.to_owned()),
    }
}

/// Sends one command and returns its final result code.
pub async fn command<L: ModemLine>(
    line: &mut L,
    text: &mut ModemText,
    command: &str,
    wait: Duration,
) -> Result<String, ModemError> {
    line.write_all(command.as_bytes()).await?;
    line.write_all(b"\r").await?;
    line.flush().await?;
    let deadline = Instant::now() + wait;
    loop {
        match text.next_line(line, deadline).await? {
            None => return Err(ModemError::Silent(command.to_owned())),
            // The echo of our own command, RINGs, or anything else informational.
            Some(reply) if !is_final(&reply) => continue,
            Some(reply) => return Ok(reply),
        }
    }
}

/// Sends a command that must answer OK.
async fn expect_ok<L: ModemLine>(
    line: &mut L,
    text: &mut ModemText,
    cmd: &str,
) -> Result<(), ModemError> {
    match command(line, text, cmd, Duration::from_secs(5))
        .await?
        .as_str()
    {
        "OK" => Ok(()),
        other => Err(result_error(cmd, other)),
    }
}

/// Wakes the modem (a plain `AT`, twice if it was mid-line) and sends the init commands.
pub async fn set_up<L: ModemLine>(
    line: &mut L,
    text: &mut ModemText,
    settings: &ModemSettings,
) -> Result<(), ModemError> {
    let _ = line.set_dtr(true);
    // A reply still on its way from the last call (the OK to a late `+++`) would be taken for
    // the answer to our next command and shift every answer after it by one: a dial that
    // "answered OK".
    text.discard_stale(line, Duration::from_millis(150)).await?;
    if expect_ok(line, text, "AT").await.is_err() {
        expect_ok(line, text, "AT").await?;
    }
    for cmd in &settings.init {
        expect_ok(line, text, cmd).await?;
    }
    Ok(())
}

/// Dials `number` and waits for `CONNECT`.
pub async fn dial<L: ModemLine>(
    line: &mut L,
    text: &mut ModemText,
    number: &str,
    settings: &ModemSettings,
) -> Result<(), ModemError> {
    let cmd = format!("ATD{number}");
    match command(line, text, &cmd, settings.connect_timeout).await {
        Ok(result) if result.starts_with("CONNECT") => Ok(()),
        Ok(result) => Err(result_error(&cmd, &result)),
        Err(ModemError::Silent(_)) => Err(ModemError::ConnectTimeout(
            settings.connect_timeout.as_secs(),
        )),
        Err(e) => Err(e),
    }
}

/// Waits for a call: answers the first `RING` with `ATA` (or takes a `CONNECT` from a modem
/// set to answer by itself). Returns when connected; `Ok(false)` when `deadline` passed first.
pub async fn answer<L: ModemLine>(
    line: &mut L,
    text: &mut ModemText,
    settings: &ModemSettings,
    deadline: Instant,
) -> Result<bool, ModemError> {
    loop {
        match text.next_line(line, deadline).await? {
            None => return Ok(false),
            Some(reply) if reply == "RING" => {
                match command(line, text, "ATA", settings.connect_timeout).await {
                    Ok(result) if result.starts_with("CONNECT") => return Ok(true),
                    // The caller gave up before we answered: wait for the next ring.
                    Ok(_) | Err(ModemError::Silent(_)) => continue,
                    Err(e) => return Err(e),
                }
            }
            Some(reply) if reply.starts_with("CONNECT") => return Ok(true),
            Some(_) => continue,
        }
    }
}

/// Ends the call and leaves the modem in command mode, then waits a guard time: the exchange
/// (and many modems) need a moment before the line can be dialled again. Best effort: a
/// modem that already dropped the call answers the `ATH` all the same.
pub async fn hang_up<L: ModemLine>(
    line: &mut L,
    text: &mut ModemText,
    settings: &ModemSettings,
) -> Result<(), ModemError> {
    let result = hang_up_now(line, text, settings).await;
    tokio::time::sleep(settings.guard_time).await;
    result
}

async fn hang_up_now<L: ModemLine>(
    line: &mut L,
    text: &mut ModemText,
    settings: &ModemSettings,
) -> Result<(), ModemError> {
    if line.set_dtr(false).is_ok() {
        tokio::time::sleep(Duration::from_millis(600)).await;
        let _ = line.set_dtr(true);
        if expect_ok(line, text, "ATH").await.is_ok() {
            return Ok(());
        }
    }
    // No DTR (or the modem ignores it): the escape sequence, with silence either side.
    tokio::time::sleep(settings.guard_time).await;
    line.write_all(b"+++").await?;
    line.flush().await?;
    tokio::time::sleep(settings.guard_time).await;
    // The modem answers the escape with OK, or has already said NO CARRIER; either way it
    // now takes commands.
    let _ = text
        .next_line(line, Instant::now() + Duration::from_millis(200))
        .await;
    match command(line, text, "ATH", Duration::from_secs(5)).await {
        Ok(_) => Ok(()),
        Err(ModemError::Silent(_)) => expect_ok(line, text, "ATH").await,
        Err(e) => Err(e),
    }
}
