//! The side of the control socket a console command uses: is a serve there, and run this.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;

use super::{ControlError, Reply, Request};

/// True when a serve answers on `socket`. A file left by a serve that was killed refuses the
/// connection, so it counts as absent.
pub fn is_live(socket: &Path) -> bool {
    UnixStream::connect(socket).is_ok()
}

/// Sends `request`, copies the command's output to `out` as it comes and its error message to
/// `err`, and returns its exit status.
pub fn send(
    socket: &Path,
    request: &Request,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32, ControlError> {
    let io = |source| ControlError::Io {
        path: socket.to_owned(),
        source,
    };
    let mut stream = UnixStream::connect(socket).map_err(io)?;
    stream.write_all(request.to_line().as_bytes()).map_err(io)?;
    let mut replies = BufReader::new(stream);
    let mut line = String::new();
    loop {
        line.clear();
        if replies.read_line(&mut line).map_err(io)? == 0 {
            return Err(ControlError::Closed);
        }
        match Reply::parse(&line)? {
            Reply::Output(text) => {
                // The person may have closed the pipe (`| head`); the command still ends.
                let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
            }
            Reply::Exit { status, error } => {
                if let Some(error) = error {
                    let _ = writeln!(err, "Error: {error}");
                }
                return Ok(status);
            }
        }
    }
}
