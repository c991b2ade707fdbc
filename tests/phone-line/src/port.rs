//! One end of the line as a client sees it: a pseudo-terminal in raw mode, reached by a
//! symlink at the path the test chose, as `/dev/ttyUSB0` would be reached on a Pi.
//!
//! The instrument keeps the slave side open itself for its whole life. A client may then
//! close and reopen the path (hang up and redial, or restart) without the master seeing a
//! hang-up. It does not read the slave: that fd only holds the line open.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};

/// Why a port could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    #[error("could not open a pseudo-terminal ({0}); is /dev/pts mounted?")]
    Openpty(Errno),
    #[error("could not put the pseudo-terminal in raw mode: {0}")]
    RawMode(Errno),
    #[error("could not name the pseudo-terminal's slave: {0}")]
    SlaveName(Errno),
    #[error("could not make the master non-blocking: {0}")]
    NonBlocking(Errno),
    #[error("{0} exists and is not a symlink; not replacing it (remove it or choose another path)")]
    PathTaken(PathBuf),
    #[error("could not create the symlink {path}: {source}")]
    Symlink { path: PathBuf, source: io::Error },
}

/// A pty pair with a symlink to its slave.
#[derive(Debug)]
pub struct Port {
    /// Non-blocking; the instrument reads what the client wrote and writes what it reads.
    pub master: File,
    /// Held, never read, so a client closing the slave does not hang the master up.
    _slave: OwnedFd,
    link: PathBuf,
    device: PathBuf,
}

impl Port {
    /// Opens a pty pair in raw mode and points `link` at its slave, replacing a stale symlink.
    pub fn open(link: &Path) -> Result<Port, PortError> {
        let pty = nix::pty::openpty(None, None).map_err(PortError::Openpty)?;
        // Raw on both ends: on Linux they share one termios, but another kernel may not.
        for fd in [pty.slave.as_fd(), pty.master.as_fd()] {
            let mut termios = tcgetattr(fd).map_err(PortError::RawMode)?;
            cfmakeraw(&mut termios);
            tcsetattr(fd, SetArg::TCSANOW, &termios).map_err(PortError::RawMode)?;
        }
        let device = nix::unistd::ttyname(&pty.slave).map_err(PortError::SlaveName)?;
        let flags = fcntl(&pty.master, FcntlArg::F_GETFL).map_err(PortError::NonBlocking)?;
        let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
        fcntl(&pty.master, FcntlArg::F_SETFL(flags)).map_err(PortError::NonBlocking)?;

        match std::fs::symlink_metadata(link) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                std::fs::remove_file(link).map_err(|source| PortError::Symlink {
                    path: link.to_owned(),
                    source,
                })?;
            }
            Ok(_) => return Err(PortError::PathTaken(link.to_owned())),
            Err(_) => {}
        }
        std::os::unix::fs::symlink(&device, link).map_err(|source| PortError::Symlink {
            path: link.to_owned(),
            source,
        })?;
        Ok(Port {
            master: File::from(pty.master),
            _slave: pty.slave,
            link: link.to_owned(),
            device,
        })
    }

    /// The slave device the symlink points at, such as `/dev/pts/7`.
    pub fn device(&self) -> &Path {
        &self.device
    }
}

impl Drop for Port {
    /// Removes the symlink if it still points at this port's slave, so a dead instrument
    /// leaves no link to a pty that no longer exists.
    fn drop(&mut self) {
        if std::fs::read_link(&self.link).is_ok_and(|target| target == self.device) {
            let _ = std::fs::remove_file(&self.link);
        }
    }
}
