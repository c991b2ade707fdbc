//! The control socket: `<data folder>/control.sock`, where `tusach serve` runs the console
//! commands (`id`, `staff …`, `sync …`) that other `tusach` processes hand it, because only
//! one process may open a data folder and serve is that process while it runs.
//!
//! The conversation is JSON lines, one request and then replies until the last:
//!
//! ```text
//! → {"v":1,"argv":["sync","--peer","hub:7654"],"cwd":"/home/ky-thuat","input_line":null}
//! ← {"out":"synced with …\n"}             (any number, as the command prints)
//! ← {"exit":0}                            or {"exit":1,"error":"sync with hub:7654 failed: …"}
//! ```
//!
//! Why JSON lines: the commands print text, a line is a natural message boundary for text,
//! serde_json is already here, and an engineer can talk to the socket with `socat` when
//! something is wrong. Requests are capped at [`MAX_REQUEST_BYTES`]; anything malformed gets an
//! `exit` reply with an error, never a panic. The socket is mode 0600: whoever can connect can
//! run the commands, and that is whoever owns the data folder anyway.
//!
//! It does not decide what a command does: [`crate::console`] holds the commands.

pub mod client;
pub mod server;

use std::path::PathBuf;

/// The protocol version a request carries.
pub const VERSION: u64 = 1;
/// A request is a short command line and at most one line of input.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// A command line to run, as typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The arguments after the program name (the global `--data` may be among them; serve
    /// ignores it, since it runs on its own folder).
    pub argv: Vec<String>,
    /// Where the command was typed, for relative file names.
    pub cwd: PathBuf,
    /// The line of stdin the command reads, if it reads one.
    pub input_line: Option<String>,
}

/// One line from serve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Text the command printed.
    Output(String),
    /// The command ended with this exit status, and an error message when it failed.
    Exit { status: i32, error: Option<String> },
}

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("the request is not valid: {0}")]
    BadRequest(String),
    #[error("the request is longer than {MAX_REQUEST_BYTES} bytes")]
    TooLong,
    #[error("this protocol version ({0}) is not understood; use the same tusach as serve")]
    Version(u64),
    #[error("serve sent something that is not a reply: {0}")]
    BadReply(String),
    #[error("serve closed the connection before the command ended")]
    Closed,
    #[error("the control socket {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Request {
    pub fn to_line(&self) -> String {
        let mut line = serde_json::json!({
            "v": VERSION,
            "argv": self.argv,
            "cwd": self.cwd.to_string_lossy(),
            "input_line": self.input_line,
        })
        .to_string();
        line.push('\n');
        line
    }

    pub fn parse(line: &str) -> Result<Request, ControlError> {
        let bad = |what: &str| ControlError::BadRequest(what.to_owned());
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| ControlError::BadRequest(e.to_string()))?;
        let version = value
            .get("v")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| bad("no version"))?;
        if version != VERSION {
            return Err(ControlError::Version(version));
        }
        let argv = value
            .get("argv")
            .and_then(serde_json::Value::as_array)
            .ok_or_else(|| bad("no argv list"))?
            .iter()
            .map(|arg| arg.as_str().map(str::to_owned))
            .collect::<Option<Vec<String>>>()
            .ok_or_else(|| bad("argv holds something that is not text"))?;
        let cwd = value
            .get("cwd")
            .and_then(serde_json::Value::as_str)
            .map(PathBuf::from)
            .filter(|cwd| cwd.is_absolute())
            .ok_or_else(|| bad("no absolute cwd"))?;
        let input_line = match value.get("input_line") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(line)) => Some(line.clone()),
            Some(_) => return Err(bad("input_line is not text")),
        };
        Ok(Request {
            argv,
            cwd,
            input_line,
        })
    }
}

impl Reply {
    pub fn to_line(&self) -> String {
        let mut line = match self {
            Reply::Output(text) => serde_json::json!({ "out": text }),
            Reply::Exit { status, error } => serde_json::json!({ "exit": status, "error": error }),
        }
        .to_string();
        line.push('\n');
        line
    }

    pub fn parse(line: &str) -> Result<Reply, ControlError> {
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| ControlError::BadReply(e.to_string()))?;
        if let Some(text) = value.get("out").and_then(serde_json::Value::as_str) {
            return Ok(Reply::Output(text.to_owned()));
        }
        let status = value
            .get("exit")
            .and_then(serde_json::Value::as_i64)
            .and_then(|s| i32::try_from(s).ok())
            .ok_or_else(|| ControlError::BadReply(line.chars().take(200).collect()))?;
        let error = value
            .get("error")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        Ok(Reply::Exit { status, error })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_replies_read_back_as_written() {
        let request = Request {
            argv: vec![
                "staff".into(),
                "add".into(),
                "--display-name".into(),
                "Chị Hoà \"A\"\n".into(),
            ],
            cwd: PathBuf::from("/home/ky-thuat"),
            input_line: Some("mật khẩu\n".into()),
        };
        let line = request.to_line();
        assert_eq!(line.matches('\n').count(), 1, "one line: {line}");
        assert_eq!(Request::parse(&line).ok(), Some(request));
        for reply in [
            Reply::Output("synced with …\n".into()),
            Reply::Exit {
                status: 0,
                error: None,
            },
            Reply::Exit {
                status: 1,
                error: Some("failed".into()),
            },
        ] {
            assert_eq!(Reply::parse(&reply.to_line()).ok(), Some(reply));
        }
    }

    #[test]
    fn bad_requests_are_errors() {
        let cases = [
            "",
            "nonsense",
            "[]",
            r#"{"v":2,"argv":[],"cwd":"/"}"#,
            r#"{"v":1,"argv":"id","cwd":"/"}"#,
            r#"{"v":1,"argv":[1],"cwd":"/"}"#,
            r#"{"v":1,"argv":["id"],"cwd":"relative"}"#,
            r#"{"v":1,"argv":["id"],"cwd":"/","input_line":5}"#,
        ];
        for case in cases {
            assert!(Request::parse(case).is_err(), "{case:?} was accepted");
        }
        assert!(Request::parse(r#"{"v":1,"argv":["id"],"cwd":"/"}"#).is_ok());
    }
}
