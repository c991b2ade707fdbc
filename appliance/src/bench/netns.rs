//! A small LAN made of Linux network namespaces, for benches and tests with real multicast: one namespace
//! per node, each with a veth cable to a bridge that lives in a namespace of its own, so
//! nothing touches the machine's own network. Addresses are 10.77.N.(i+1)/24 and every node
//! routes 224.0.0.0/4 to its cable, so mDNS (224.0.0.251:5353) floods the bridge as on a
//! hotspot. Dropping the [`Lan`] deletes the namespaces, which takes the cables with them.
//!
//! Needs root (CI runs as root) and `ip` from iproute2; without them [`Lan::new`] fails and
//! says why, so a test cannot pass without having run.

use std::net::Ipv4Addr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context, bail, ensure};

/// Namespaces made by this process so far: names stay unique when tests run in parallel.
static LANS: AtomicU32 = AtomicU32::new(0);

/// The node's end of its cable, inside its namespace.
pub const NODE_INTERFACE: &str = "eth0";

pub struct Lan {
    /// `tsN-<pid>-<lan>`: short, because interface names are at most 15 bytes.
    prefix: String,
    subnet: u8,
    nodes: usize,
}

impl Lan {
    /// A bridge and `nodes` namespaces cabled to it, all up.
    pub fn new(nodes: usize) -> anyhow::Result<Lan> {
        ensure!(
            is_root(),
            "network namespaces need root (CI runs as root): run this with sudo"
        );
        let lan = LANS.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        // A subnet per LAN: nothing routes between them, but distinct addresses keep logs clear.
        let subnet = ((pid.wrapping_mul(7) + lan) % 200 + 20) as u8;
        let lan = Lan {
            prefix: format!("ts{}-{pid}", lan),
            subnet,
            nodes,
        };
        // From here on a failure drops `lan`, which deletes whatever was made.
        let bridge = lan.bridge_ns();
        ip(&["netns", "add", &bridge])?;
        ip(&["-n", &bridge, "link", "set", "lo", "up"])?;
        ip(&[
            "-n",
            &bridge,
            "link",
            "add",
            "br0",
            "type",
            "bridge",
            "mcast_snooping",
            "0",
        ])?;
        ip(&["-n", &bridge, "link", "set", "br0", "up"])?;
        for i in 0..nodes {
            lan.cable(i)?;
        }
        Ok(lan)
    }

    fn bridge_ns(&self) -> String {
        format!("{}-br", self.prefix)
    }

    /// The namespace of node `i`.
    pub fn ns(&self, i: usize) -> String {
        format!("{}-n{i}", self.prefix)
    }

    /// Node `i`'s address on the LAN.
    pub fn addr(&self, i: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, 77, self.subnet, i as u8 + 1)
    }

    pub fn len(&self) -> usize {
        self.nodes
    }

    pub fn is_empty(&self) -> bool {
        self.nodes == 0
    }

    /// Makes node `i`'s namespace and cables it to the bridge.
    fn cable(&self, i: usize) -> anyhow::Result<()> {
        let ns = self.ns(i);
        let bridge = self.bridge_ns();
        let port = format!("p{i}");
        ip(&["netns", "add", &ns])?;
        ip(&[
            "-n",
            &ns,
            "link",
            "add",
            NODE_INTERFACE,
            "type",
            "veth",
            "peer",
            "name",
            &port,
            "netns",
            &bridge,
        ])?;
        ip(&["-n", &bridge, "link", "set", &port, "master", "br0"])?;
        ip(&["-n", &bridge, "link", "set", &port, "up"])?;
        let cidr = format!("{}/24", self.addr(i));
        ip(&["-n", &ns, "addr", "add", &cidr, "dev", NODE_INTERFACE])?;
        ip(&["-n", &ns, "link", "set", NODE_INTERFACE, "up"])?;
        ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        ip(&[
            "-n",
            &ns,
            "route",
            "add",
            "224.0.0.0/4",
            "dev",
            NODE_INTERFACE,
        ])?;
        Ok(())
    }

    /// Moves this LAN's node `i`, whose cable is now in `from`'s bridge, to `to`'s bridge, as
    /// a laptop joins another Wi-Fi: it takes `to`'s address for node `i` in place of the old
    /// one. `to` must have no node `i` of its own.
    pub fn move_node(&self, i: usize, from: &Lan, to: &Lan) -> anyhow::Result<()> {
        let ns = self.ns(i);
        let port = format!("p{i}");
        ip(&[
            "-n",
            &from.bridge_ns(),
            "link",
            "set",
            &port,
            "netns",
            &to.bridge_ns(),
        ])?;
        ip(&["-n", &to.bridge_ns(), "link", "set", &port, "master", "br0"])?;
        ip(&["-n", &to.bridge_ns(), "link", "set", &port, "up"])?;
        ip(&["-n", &ns, "addr", "flush", "dev", NODE_INTERFACE])?;
        let cidr = format!("{}/24", to.addr(i));
        ip(&["-n", &ns, "addr", "add", &cidr, "dev", NODE_INTERFACE])?;
        ip(&[
            "-n",
            &ns,
            "route",
            "replace",
            "224.0.0.0/4",
            "dev",
            NODE_INTERFACE,
        ])
    }

    /// Unplugs node `i`'s cable from the bridge (the node keeps its address), or plugs it back.
    pub fn set_plugged(&self, i: usize, plugged: bool) -> anyhow::Result<()> {
        let state = if plugged { "up" } else { "down" };
        ip(&[
            "-n",
            &self.bridge_ns(),
            "link",
            "set",
            &format!("p{i}"),
            state,
        ])
    }

    /// Bytes node `i` has sent on its cable so far (every frame: mDNS, TCP, ARP).
    pub fn sent_bytes(&self, i: usize) -> anyhow::Result<u64> {
        let out = Command::new("ip")
            .args([
                "-n",
                &self.ns(i),
                "-s",
                "-j",
                "link",
                "show",
                NODE_INTERFACE,
            ])
            .output()
            .context("running ip")?;
        let json: serde_json::Value =
            serde_json::from_slice(&out.stdout).context("ip -j printed no JSON")?;
        json[0]["stats64"]["tx"]["bytes"]
            .as_u64()
            .with_context(|| format!("no tx byte count in {json}"))
    }

    /// A command that runs `program` inside node `i`'s namespace.
    pub fn command(&self, i: usize, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.ns(i)]).arg(program);
        command
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for i in 0..self.nodes {
            let _ = quiet_ip(&["netns", "del", &self.ns(i)]);
        }
        let _ = quiet_ip(&["netns", "del", &self.bridge_ns()]);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

fn ip(args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("cannot run `ip` (install iproute2)")?;
    if !out.status.success() {
        bail!(
            "ip {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

fn quiet_ip(args: &[&str]) -> std::io::Result<std::process::ExitStatus> {
    Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
}
