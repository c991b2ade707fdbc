//! The Hayes command language: one typed line (`ATE0V1&D2S0=0`) becomes a list of commands,
//! and results become the verbose text a modem prints.
//!
//! Parsing only: nothing here knows about calls, time or the other modem (`exchange.rs`
//! runs the commands). A line is parsed whole before any of it runs, so a line with a
//! mistake changes nothing and answers `ERROR`.

/// One command of a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `E0`/`E1`: echo typed characters in command mode.
    Echo(bool),
    /// `Sn=v`: store a register.
    SetRegister { index: u8, value: u8 },
    /// `Sn?`: print a register.
    QueryRegister(u8),
    /// `Z`, `&F`: back to the default settings (hanging up first).
    Reset,
    /// `D`: dial; `number` keeps the digits, `*` and `#`, without `T`, `P`, `W` or commas.
    Dial { number: String },
    /// `A`: answer a ringing call.
    Answer,
    /// `H`, `H0`: hang up.
    HangUp,
    /// `O`: back to data mode in a call.
    Online,
    /// Accepted and without effect here: `V1`, `Q0`, `X`, `L`, `M`, `&C`, `&D`, `&K`,
    /// `\N`, `%C`, and extended `+` commands. A pty has no speaker, no DTR and no DCD.
    Accepted,
}

/// Why a command line answers `ERROR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{reason} at character {position} of the command line")]
pub struct CommandLineError {
    pub position: usize,
    pub reason: &'static str,
}

/// A result code, printed as a modem with `V1` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    Ok,
    Error,
    Connect(u32),
    Ring,
    NoCarrier,
    Busy,
    NoDialtone,
}

impl Reply {
    /// The result with CR LF on both sides, as verbose result codes are sent.
    pub fn text(self) -> String {
        let words = match self {
            Reply::Ok => "OK".to_owned(),
            Reply::Error => "ERROR".to_owned(),
            Reply::Connect(baud) => format!("CONNECT {baud}"),
            Reply::Ring => "RING".to_owned(),
            Reply::NoCarrier => "NO CARRIER".to_owned(),
            Reply::Busy => "BUSY".to_owned(),
            Reply::NoDialtone => "NO DIALTONE".to_owned(),
        };
        format!("\r\n{words}\r\n")
    }
}

/// Parses one command line, without its CR. `None`: the line does not start with `AT`, and a
/// modem ignores it (line noise, or a stray LF). Spaces are ignored, as Hayes modems do.
pub fn parse_line(line: &[u8]) -> Option<Result<Vec<Command>, CommandLineError>> {
    let start = line.iter().position(|b| !matches!(b, b' ' | b'\0'))?;
    let rest = &line[start..];
    if rest.len() < 2 || !rest[..2].eq_ignore_ascii_case(b"AT") {
        return None;
    }
    let mut parser = LineParser {
        line,
        at: start + 2,
    };
    Some(parser.commands())
}

struct LineParser<'a> {
    line: &'a [u8],
    at: usize,
}

impl LineParser<'_> {
    fn commands(&mut self) -> Result<Vec<Command>, CommandLineError> {
        let mut commands = Vec::new();
        while let Some(letter) = self.next_letter() {
            let command = match letter {
                b'E' => match self.number()?.unwrap_or(0) {
                    0 => Command::Echo(false),
                    1 => Command::Echo(true),
                    _ => return Err(self.error("E takes 0 or 1")),
                },
                // Only verbose, not quiet: the clients read words.
                b'V' => self.accept_only(1, 0, "only V1 (verbose results) is supported")?,
                b'Q' => self.accept_only(0, 0, "only Q0 (results on) is supported")?,
                b'X' => self.accept_up_to(4)?,
                b'L' | b'M' => self.accept_up_to(3)?,
                b'&' => {
                    let which = self.letter_after("& needs a letter")?;
                    self.number()?;
                    if which == b'F' {
                        Command::Reset
                    } else {
                        Command::Accepted
                    }
                }
                b'\\' | b'%' => {
                    self.letter_after("a vendor command needs a letter")?;
                    self.number()?;
                    Command::Accepted
                }
                // Extended commands (`+CGMI`, `+MS=...`) run to the end of the line here.
                b'+' => {
                    self.at = self.line.len();
                    Command::Accepted
                }
                b'S' => self.register()?,
                b'Z' => {
                    self.number()?;
                    Command::Reset
                }
                b'H' => match self.number()?.unwrap_or(0) {
                    0 => Command::HangUp,
                    _ => return Err(self.error("only H0 (hang up) is supported")),
                },
                b'O' => {
                    self.number()?;
                    Command::Online
                }
                // A modem ignores what follows A and O on the line; D takes the rest.
                b'A' => {
                    self.at = self.line.len();
                    Command::Answer
                }
                b'D' => self.dial()?,
                _ => return Err(self.error("unknown command")),
            };
            let ends_line = matches!(
                command,
                Command::Answer | Command::Dial { .. } | Command::Online
            );
            commands.push(command);
            if ends_line {
                break;
            }
        }
        Ok(commands)
    }

    /// The next non-space byte, upper-cased, or `None` at the end of the line.
    fn next_letter(&mut self) -> Option<u8> {
        while let Some(&byte) = self.line.get(self.at) {
            self.at += 1;
            if byte != b' ' {
                return Some(byte.to_ascii_uppercase());
            }
        }
        None
    }

    fn peek(&self) -> Option<u8> {
        self.line[self.at.min(self.line.len())..]
            .iter()
            .copied()
            .find(|b| *b != b' ')
    }

    fn letter_after(&mut self, reason: &'static str) -> Result<u8, CommandLineError> {
        match self.next_letter() {
            Some(letter) if letter.is_ascii_uppercase() => Ok(letter),
            _ => Err(self.error(reason)),
        }
    }

    /// Optional decimal digits after a command letter, at most 255.
    fn number(&mut self) -> Result<Option<u8>, CommandLineError> {
        let mut value: Option<u32> = None;
        while let Some(digit) = self.peek().filter(u8::is_ascii_digit) {
            self.next_letter();
            let sum = value.unwrap_or(0) * 10 + u32::from(digit - b'0');
            if sum > 255 {
                return Err(self.error("number above 255"));
            }
            value = Some(sum);
        }
        Ok(value.and_then(|v| u8::try_from(v).ok()))
    }

    /// A command whose only supported value is `only` (`default` when no digit follows).
    fn accept_only(
        &mut self,
        only: u8,
        default: u8,
        reason: &'static str,
    ) -> Result<Command, CommandLineError> {
        if self.number()?.unwrap_or(default) == only {
            Ok(Command::Accepted)
        } else {
            Err(self.error(reason))
        }
    }

    fn accept_up_to(&mut self, highest: u8) -> Result<Command, CommandLineError> {
        if self.number()?.unwrap_or(0) <= highest {
            Ok(Command::Accepted)
        } else {
            Err(self.error("value out of range"))
        }
    }

    fn register(&mut self) -> Result<Command, CommandLineError> {
        let index = self
            .number()?
            .ok_or_else(|| self.error("S needs a register number"))?;
        match self.next_letter() {
            Some(b'=') => {
                let value = self
                    .number()?
                    .ok_or_else(|| self.error("S= needs a value"))?;
                Ok(Command::SetRegister { index, value })
            }
            Some(b'?') => Ok(Command::QueryRegister(index)),
            _ => Err(self.error("S needs = or ?")),
        }
    }

    fn dial(&mut self) -> Result<Command, CommandLineError> {
        let mut number = String::new();
        while let Some(byte) = self.next_letter() {
            match byte {
                b'0'..=b'9' | b'*' | b'#' => number.push(char::from(byte)),
                // Tone, pulse, wait for dial tone, pause, flash, quiet answer, and the
                // punctuation people type in numbers.
                b'T' | b'P' | b'W' | b',' | b'!' | b'@' | b'-' | b'(' | b')' => {}
                b';' => return Err(self.error("voice dialling (;) is not supported")),
                _ => return Err(self.error("not a dial character")),
            }
        }
        if number.is_empty() {
            return Err(self.error("D needs a number"));
        }
        Ok(Command::Dial { number })
    }

    fn error(&self, reason: &'static str) -> CommandLineError {
        CommandLineError {
            position: self.at,
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Command::*;
    use super::*;

    fn parsed(line: &str) -> Vec<Command> {
        match parse_line(line.as_bytes()) {
            Some(Ok(commands)) => commands,
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    fn refused(line: &str) {
        assert!(
            matches!(parse_line(line.as_bytes()), Some(Err(_))),
            "{line:?} was not refused"
        );
    }

    #[test]
    fn init_strings_parse() {
        assert_eq!(parsed("AT"), vec![]);
        assert_eq!(parsed("at"), vec![]);
        assert_eq!(parsed("ATE0"), vec![Echo(false)]);
        assert_eq!(
            parsed("ATE0V1&D2S0=0"),
            vec![
                Echo(false),
                Accepted,
                Accepted,
                SetRegister { index: 0, value: 0 }
            ]
        );
        assert_eq!(
            parsed("atz e1 q0 x4 &c1 l0m0"),
            vec![
                Reset,
                Echo(true),
                Accepted,
                Accepted,
                Accepted,
                Accepted,
                Accepted
            ]
        );
        assert_eq!(
            parsed("AT&F&K3\\N0%C0"),
            vec![Reset, Accepted, Accepted, Accepted]
        );
        assert_eq!(parsed("ATS7?"), vec![QueryRegister(7)]);
        assert_eq!(parsed("AT+CGMI"), vec![Accepted]);
        assert_eq!(parsed("ATE1+MS=V34"), vec![Echo(true), Accepted]);
        assert_eq!(parsed("ATH"), vec![HangUp]);
        assert_eq!(parsed("ATH0"), vec![HangUp]);
        assert_eq!(parsed("ATO"), vec![Online]);
        assert_eq!(parsed("ATA"), vec![Answer]);
    }

    #[test]
    fn dial_strings_keep_only_the_number() {
        assert_eq!(
            parsed("ATD123"),
            vec![Dial {
                number: "123".into()
            }]
        );
        assert_eq!(
            parsed("ATE0DT 9,W(024) 555-01#"),
            vec![
                Echo(false),
                Dial {
                    number: "902455501#".into()
                }
            ]
        );
        assert_eq!(
            parsed("atdp*70"),
            vec![Dial {
                number: "*70".into()
            }]
        );
    }

    #[test]
    fn mistakes_are_refused() {
        for line in [
            "ATE2", "ATV0", "ATQ1", "ATX9", "ATS0", "ATS300=1", "ATS0=999", "ATD", "ATDT",
            "ATD12;", "ATDX", "ATJ", "AT&", "ATH1", "AT&1",
        ] {
            refused(line);
        }
    }

    #[test]
    fn lines_without_at_are_ignored() {
        assert_eq!(parse_line(b""), None);
        assert_eq!(parse_line(b"hello"), None);
        assert_eq!(parse_line(b"A"), None);
        assert_eq!(parse_line(b"\x00 AT"), Some(Ok(vec![])));
    }

    #[test]
    fn replies_are_verbose_with_cr_lf() {
        assert_eq!(Reply::Connect(9600).text(), "\r\nCONNECT 9600\r\n");
        assert_eq!(Reply::NoDialtone.text(), "\r\nNO DIALTONE\r\n");
    }
}
