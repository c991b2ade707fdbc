//! Opening a serial device: exclusively (two programs on one modem garble each other's
//! calls), at the configured speed and flow control, with an error that tells the librarian
//! what to check when the device is missing, busy or gone.

use std::path::{Path, PathBuf};

use tokio_serial::{FlowControl, SerialPort, SerialPortBuilderExt, SerialStream};

use super::modem::ModemLine;

/// Which device, how fast, and whether it has RTS/CTS wires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    pub path: PathBuf,
    pub baud: u32,
    pub hardware_flow: bool,
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum PortError {
    #[error(
        "serial device {path} is not there (is the adapter plugged in?){by_id}",
        path = path.display()
    )]
    Missing { path: PathBuf, by_id: String },
    #[error(
        "serial device {path} is in use by another program (another tusach, ModemManager, \
         brltty?)",
        path = path.display()
    )]
    Busy { path: PathBuf },
    #[error("serial device {path} went away during the call (unplugged?)", path = path.display())]
    Gone { path: PathBuf },
    #[error("serial device {path}: {message}", path = path.display())]
    Other { path: PathBuf, message: String },
}

/// The stable names the machine has now, to suggest in an error.
fn stable_names() -> String {
    let Ok(entries) = std::fs::read_dir("/dev/serial/by-id") else {
        return String::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.path().display().to_string())
        .collect();
    names.sort();
    if names.is_empty() {
        String::new()
    } else {
        format!("; devices present: {}", names.join(", "))
    }
}

/// Opens the device for one call.
pub fn open(device: &Device) -> Result<SerialStream, PortError> {
    let path = &device.path;
    if !Path::new(path).exists() {
        return Err(PortError::Missing {
            path: path.clone(),
            by_id: stable_names(),
        });
    }
    let flow = if device.hardware_flow {
        FlowControl::Hardware
    } else {
        FlowControl::None
    };
    // serialport opens exclusively by default: TIOCEXCL and an exclusive flock, which holds
    // even against root.
    tokio_serial::new(path.to_string_lossy(), device.baud)
        .flow_control(flow)
        .open_native_async()
        .map_err(|e| match e.kind {
            tokio_serial::ErrorKind::NoDevice => PortError::Busy { path: path.clone() },
            tokio_serial::ErrorKind::Io(std::io::ErrorKind::NotFound) => PortError::Missing {
                path: path.clone(),
                by_id: stable_names(),
            },
            tokio_serial::ErrorKind::Io(std::io::ErrorKind::WouldBlock) => {
                PortError::Busy { path: path.clone() }
            }
            _ => PortError::Other {
                path: path.clone(),
                message: e.description,
            },
        })
}

impl ModemLine for SerialStream {
    fn set_dtr(&mut self, level: bool) -> std::io::Result<()> {
        self.write_data_terminal_ready(level)
            .map_err(std::io::Error::from)
    }
}
