//! The side of the control socket `tusach serve` runs: binds `control.sock`, reads one request
//! per connection, runs the command on serve's own store (on a blocking thread, like the web
//! handlers) and streams its output back.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::mpsc;

use super::{ControlError, MAX_REQUEST_BYTES, Reply, Request};
use crate::console::{Console, ConsoleCommand};
use crate::sync_service::SyncService;

/// A client that connects and says nothing is dropped after this long.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The command line as serve reads it: the same commands as `tusach`, and the global `--data`
/// accepted and ignored (serve runs on the folder it holds).
#[derive(Parser)]
#[command(name = "tusach", no_binary_name = true)]
struct ForwardedCommandLine {
    #[arg(long, global = true)]
    #[allow(dead_code)]
    data: Option<PathBuf>,
    #[command(subcommand)]
    command: ConsoleCommand,
}

/// The bound socket. Removed from the folder when dropped.
pub struct ControlSocket {
    listener: std::os::unix::net::UnixListener,
    path: PathBuf,
}

impl ControlSocket {
    /// Binds `path` with mode 0600, replacing whatever file is there. Only the holder of the
    /// data folder's lock may call this: a file left there is then a dead serve's.
    ///
    /// The socket is bound under a temporary name, restricted, then renamed into place, so it
    /// is never reachable with looser permissions and a client never sees a half-made one.
    pub fn bind(path: &Path) -> Result<ControlSocket, ControlError> {
        let io = |source| ControlError::Io {
            path: path.to_owned(),
            source,
        };
        let mut temporary = path.as_os_str().to_owned();
        temporary.push(format!(".{}.tmp", std::process::id()));
        let temporary = PathBuf::from(temporary);
        match std::fs::remove_file(&temporary) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(io(error)),
        }
        let listener = std::os::unix::net::UnixListener::bind(&temporary).map_err(io)?;
        let placed = std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(0o600))
            .and_then(|()| std::fs::rename(&temporary, path))
            .and_then(|()| listener.set_nonblocking(true));
        if let Err(error) = placed {
            let _ = std::fs::remove_file(&temporary);
            return Err(io(error));
        }
        Ok(ControlSocket {
            listener,
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Answers clients until `shutdown` resolves, then removes the socket file.
    pub async fn serve(
        self,
        service: Arc<SyncService>,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), ControlError> {
        let io = |source| ControlError::Io {
            path: self.path.clone(),
            source,
        };
        let listener = self
            .listener
            .try_clone()
            .and_then(tokio::net::UnixListener::from_std)
            .map_err(io)?;
        tokio::pin!(shutdown);
        loop {
            let stream = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(error) => {
                        // Out of file descriptors and the like: wait, the next may succeed.
                        eprintln!("control socket: cannot accept: {error}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
                () = &mut shutdown => return Ok(()),
            };
            tokio::spawn(answer(stream, service.clone()));
        }
    }
}

impl Drop for ControlSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Reads one request, runs it, replies. Every failure becomes an `exit` reply.
async fn answer(stream: UnixStream, service: Arc<SyncService>) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read.take(MAX_REQUEST_BYTES as u64 + 1));
    let mut line = String::new();
    let request = match tokio::time::timeout(REQUEST_TIMEOUT, reader.read_line(&mut line)).await {
        // A client that only checked whether serve is there.
        Ok(Ok(0)) => return,
        Ok(Ok(_)) if !line.ends_with('\n') => Err(if line.len() > MAX_REQUEST_BYTES {
            ControlError::TooLong
        } else {
            ControlError::BadRequest("the request does not end with a newline".into())
        }),
        Ok(Ok(_)) => Request::parse(&line),
        Ok(Err(error)) => Err(ControlError::BadRequest(error.to_string())),
        Err(_) => Err(ControlError::BadRequest(format!(
            "no request within {REQUEST_TIMEOUT:?}"
        ))),
    };
    let exit = match request {
        Ok(request) => run(request, service, &mut write).await,
        Err(error) => {
            eprintln!("control socket: {error}");
            Reply::Exit {
                status: 2,
                error: Some(error.to_string()),
            }
        }
    };
    let _ = write.write_all(exit.to_line().as_bytes()).await;
    let _ = write.shutdown().await;
}

async fn run(
    request: Request,
    service: Arc<SyncService>,
    write: &mut (impl AsyncWriteExt + Unpin),
) -> Reply {
    let typed = request.argv.join(" ");
    let mut command = match ForwardedCommandLine::try_parse_from(&request.argv) {
        Ok(line) => line.command,
        Err(error) => {
            return Reply::Exit {
                status: 2,
                error: Some(error.render().to_string()),
            };
        }
    };
    command.resolve_paths(&request.cwd);
    let (sender, mut output) = mpsc::unbounded_channel();
    let runtime = tokio::runtime::Handle::current();
    let input = request.input_line.unwrap_or_default().into_bytes();
    let ran = tokio::task::spawn_blocking(move || {
        let mut out = OutputLines::new(sender);
        let mut input = std::io::Cursor::new(input);
        let mut console = Console {
            sync: service,
            runtime,
            input: &mut input,
            out: &mut out,
            inside_serve: true,
        };
        let result = crate::console::execute(command, &mut console);
        let _ = out.flush();
        result
    });
    let mut client_gone = false;
    while let Some(text) = output.recv().await {
        // A client that hung up does not stop the command: it may be halfway through a sync.
        if !client_gone {
            client_gone = write
                .write_all(Reply::Output(text).to_line().as_bytes())
                .await
                .is_err();
        }
    }
    let exit = match ran.await {
        Ok(Ok(())) => Reply::Exit {
            status: 0,
            error: None,
        },
        Ok(Err(error)) => Reply::Exit {
            status: 1,
            error: Some(format!("{error:?}")),
        },
        Err(_) => Reply::Exit {
            status: 1,
            error: Some("the command stopped unexpectedly; see serve's log".into()),
        },
    };
    match &exit {
        Reply::Exit { error: None, .. } => eprintln!("control socket: ran `{typed}`"),
        _ => eprintln!("control socket: `{typed}` failed"),
    }
    exit
}

/// What a command prints, sent on in whole lines (so no message splits a character).
struct OutputLines {
    sender: mpsc::UnboundedSender<String>,
    pending: Vec<u8>,
}

impl OutputLines {
    fn new(sender: mpsc::UnboundedSender<String>) -> OutputLines {
        OutputLines {
            sender,
            pending: Vec::new(),
        }
    }

    fn send(&mut self, upto: usize) -> std::io::Result<()> {
        let text = String::from_utf8_lossy(&self.pending[..upto]).into_owned();
        self.pending.drain(..upto);
        self.sender
            .send(text)
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))
    }
}

impl Write for OutputLines {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(bytes);
        if let Some(last) = self.pending.iter().rposition(|&b| b == b'\n') {
            self.send(last + 1)?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        // Keep a character cut in half for the next write.
        let whole = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            Err(error) if error.error_len().is_none() => error.valid_up_to(),
            Err(_) => self.pending.len(),
        };
        self.send(whole)
    }
}
