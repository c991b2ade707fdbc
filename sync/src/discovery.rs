//! Finding neighbours on the local network: DNS-SD over multicast DNS (RFC 6762/6763) with
//! mdns-sd, service type `_tusach._tcp.local.`.
//!
//! Each device announces one instance, named by its device id, on every interface that has an
//! IPv4 address (the hotspot's, the LAN's, a USB network interface), with a TXT record:
//!
//! | key | value |
//! |---|---|
//! | `id` | the device id, 32 hex digits |
//! | `lib` | the library it serves (empty for a hub or a carrier) |
//! | `role` | `appliance`, `hub` or `mule` |
//! | `v` | the sync protocol version it speaks |
//! | `st` | a counter that moves whenever its store holds something new |
//!
//! Everything in an announcement is a hint. Anyone on the hotspot can announce anything, so
//! nothing here is trusted: identity, library and role are proven by the handshake, and a
//! neighbour that lies is refused there. `st` only says *when* to dial: a neighbour whose
//! counter moved may hold something new, so a quiet network costs no sessions at all.
//!
//! IPv6 and loopback are left out on purpose: the hotspot and the commune LAN are IPv4, and
//! every extra address family doubles the multicast a reader's phone has to hear.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use mdns_sd::{DaemonEvent, IfKind, ResolvedService, ServiceDaemon, ServiceEvent, ServiceInfo};

use crate::DeviceId;
use crate::protocol::wire::PROTOCOL_VERSION;

/// The DNS-SD service type every Tủ Sách device announces and browses.
pub const SERVICE_TYPE: &str = "_tusach._tcp.local.";

/// How long [`Discovery::stop`] waits for the goodbye packets to leave.
const GOODBYE_WAIT: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("mDNS: {0}")]
    Mdns(#[from] mdns_sd::Error),
}

/// What this device says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Announcement {
    pub device: DeviceId,
    pub library: String,
    pub role: String,
    /// The TCP port its sync listener answers on.
    pub port: u16,
    /// Moves whenever the store holds something new (see the module documentation).
    pub state: u64,
}

/// A neighbour as its announcement describes it: unverified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sighting {
    /// The DNS-SD instance name: the key under which it may later be gone.
    pub instance: String,
    /// The id it claims, when its TXT carries a well-formed one.
    pub device: Option<DeviceId>,
    pub library: String,
    pub role: String,
    /// The protocol version it claims; `None` when absent or not a number.
    pub protocol: Option<u32>,
    pub state: Option<u64>,
    /// Where it says it listens, IPv4 first.
    pub addresses: Vec<SocketAddr>,
}

impl Sighting {
    /// Whether it claims to speak our protocol version.
    pub fn speaks_our_protocol(&self) -> bool {
        self.protocol == Some(u32::from(PROTOCOL_VERSION))
    }
}

/// What the network said since the last call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NeighbourEvent {
    /// A neighbour appeared, or its announcement changed.
    Seen(Sighting),
    /// A neighbour said goodbye, or its records expired.
    Gone { instance: String },
}

/// This device's announcement and its view of the neighbours: one mDNS responder and browser.
pub struct Discovery {
    daemon: ServiceDaemon,
    events: mdns_sd::Receiver<ServiceEvent>,
    /// The daemon's own news: a new address means a new network (a laptop arrived at the
    /// office, a cable went into the LAN), where neighbours must be asked for at once.
    monitor: Option<mdns_sd::Receiver<DaemonEvent>>,
    announced: ServiceInfo,
    announcement: Announcement,
}

impl Discovery {
    /// Starts answering for `announcement` and browsing for neighbours. Binding port 5353 can
    /// fail later than this call (mdns-sd reports it on its monitor); a daemon that cannot bind
    /// simply sees nobody, and manual addresses still work.
    pub fn start(announcement: Announcement) -> Result<Discovery, DiscoveryError> {
        let daemon = ServiceDaemon::new()?;
        daemon.disable_interface(vec![IfKind::IPv6, IfKind::LoopbackV4, IfKind::LoopbackV6])?;
        let announced = service_info(&announcement)?;
        daemon.register(announced.clone())?;
        let events = daemon.browse(SERVICE_TYPE)?;
        let monitor = daemon.monitor().ok();
        Ok(Discovery {
            daemon,
            events,
            monitor,
            announced,
            announcement,
        })
    }

    /// What this device announces now.
    pub fn announcement(&self) -> &Announcement {
        &self.announcement
    }

    /// Announces a new state counter (a no-op when it did not move). mdns-sd sends the changed
    /// TXT record at once, so browsing neighbours hear of it without asking.
    pub fn announce_state(&mut self, state: u64) -> Result<(), DiscoveryError> {
        if state == self.announcement.state {
            return Ok(());
        }
        self.announcement.state = state;
        let mut info = service_info(&self.announcement)?;
        // The name is ours since the first registration: probing it again (three queries,
        // 750 ms) would only delay the news.
        info.set_requires_probe(false);
        self.announced = info;
        self.daemon.register(self.announced.clone())?;
        Ok(())
    }

    /// Asks the network for neighbours again now. mdns-sd spaces its queries out, doubling up
    /// to an hour, so a neighbour that came back without a word (a cable plugged in again)
    /// would otherwise wait that long; the answers arrive as [`NeighbourEvent::Seen`] again.
    pub fn browse_again(&mut self) -> Result<(), DiscoveryError> {
        self.events = self.daemon.browse(SERVICE_TYPE)?;
        Ok(())
    }

    /// The next thing the network said, skipping our own announcement and the browser's
    /// bookkeeping. `None` once the daemon has stopped. Callers must keep calling it: mdns-sd
    /// disconnects a receiver that falls behind. A new address of ours (a new network) makes
    /// it ask for neighbours again by itself.
    pub async fn next_event(&mut self) -> Option<NeighbourEvent> {
        loop {
            let news = async {
                match &self.monitor {
                    Some(monitor) => monitor.recv_async().await.ok(),
                    None => std::future::pending().await,
                }
            };
            let event = tokio::select! {
                event = self.events.recv_async() => event.ok()?,
                news = news => {
                    match news {
                        Some(DaemonEvent::IpAdd(_)) => {
                            let _ = self.browse_again();
                        }
                        Some(_) => {}
                        // The monitor is gone; neighbours still arrive on the browser.
                        None => self.monitor = None,
                    }
                    continue;
                }
            };
            let event = match event {
                ServiceEvent::ServiceResolved(service) => {
                    let sighting = sighting(&service);
                    if sighting.instance == self.announced.get_fullname() {
                        continue;
                    }
                    NeighbourEvent::Seen(sighting)
                }
                ServiceEvent::ServiceRemoved(_, instance) => {
                    if instance == self.announced.get_fullname() {
                        continue;
                    }
                    NeighbourEvent::Gone { instance }
                }
                _ => continue,
            };
            return Some(event);
        }
    }

    /// Withdraws the announcement (goodbye packets, TTL 0) and stops the daemon, waiting a
    /// little for the packets to leave so neighbours forget us at once rather than in minutes.
    pub fn stop(self) {
        if let Ok(done) = self.daemon.unregister(self.announced.get_fullname()) {
            let _ = done.recv_timeout(GOODBYE_WAIT);
        }
        if let Ok(done) = self.daemon.shutdown() {
            let _ = done.recv_timeout(GOODBYE_WAIT);
        }
    }
}

fn service_info(announcement: &Announcement) -> Result<ServiceInfo, DiscoveryError> {
    let id = announcement.device.to_hex();
    let properties = HashMap::from([
        ("id".to_owned(), id.clone()),
        ("lib".to_owned(), announcement.library.clone()),
        ("role".to_owned(), announcement.role.clone()),
        ("v".to_owned(), PROTOCOL_VERSION.to_string()),
        ("st".to_owned(), announcement.state.to_string()),
    ]);
    // The host name is per device too, so two appliances on one hotspot never contend for it.
    let host = format!("tusach-{}.local.", &id[..12]);
    let info = ServiceInfo::new(SERVICE_TYPE, &id, &host, "", announcement.port, properties)?
        .enable_addr_auto();
    Ok(info)
}

fn sighting(service: &ResolvedService) -> Sighting {
    let text = |key: &str| {
        service
            .get_property_val_str(key)
            .unwrap_or_default()
            .to_owned()
    };
    let mut ips: Vec<IpAddr> = service
        .get_addresses()
        .iter()
        .map(|ip| ip.to_ip_addr())
        .collect();
    ips.sort_by_key(|ip| (ip.is_ipv6(), *ip));
    Sighting {
        instance: service.get_fullname().to_owned(),
        device: DeviceId::parse_hex(&text("id")),
        library: text("lib"),
        role: text("role"),
        protocol: text("v").parse().ok(),
        state: text("st").parse().ok(),
        addresses: ips
            .into_iter()
            .map(|ip| SocketAddr::new(ip, service.get_port()))
            .collect(),
    }
}
