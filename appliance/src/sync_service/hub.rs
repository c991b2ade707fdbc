//! `serve --hub`: the appliance dials the district's hub by itself, soon after it starts,
//! then on a fixed interval, and soon after a network with a default route appears (a 3G
//! stick plugged in, the commune office's router back on). Failures are retried sooner, with
//! a delay that doubles up to the interval, so a dead link costs a few attempts an hour. The
//! librarian's "sync now" skips the wait.
//!
//! It decides only *when* to sync; [`SyncService::sync_with`] does the rest. It never blocks
//! a web request: the session holds the store one batch at a time.

use std::sync::Arc;
use std::time::Duration;

use super::retry::Backoff;
use super::{LinkKind, SyncService};

/// How long a hub may stay silent within a session.
const HUB_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// The first retry after a failure; later ones double, up to the interval.
const FIRST_RETRY: Duration = Duration::from_secs(15);
/// How often the routing table is read.
const ROUTE_POLL: Duration = Duration::from_secs(15);
/// The first attempt waits this long, so the web server answers before any sync starts.
const FIRST_ATTEMPT: Duration = Duration::from_secs(1);

/// Where the hub is and how often to try it.
#[derive(Clone, Debug)]
pub struct HubSchedule {
    pub addr: String,
    pub every: Duration,
}

impl HubSchedule {
    /// The wait after `failures` failures in a row (0 after a success).
    fn wait_after(&self, failures: u32) -> Duration {
        Backoff {
            first: FIRST_RETRY,
            ceiling: self.every,
        }
        .wait_after(failures)
    }
}

/// Runs the schedule until `shutdown` resolves.
pub async fn run(
    service: Arc<SyncService>,
    schedule: HubSchedule,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut failures: u32 = 0;
    let mut next = tokio::time::Instant::now() + FIRST_ATTEMPT;
    let mut route_poll = tokio::time::interval(ROUTE_POLL);
    route_poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut had_route = default_route_now();
    let mut presses = service.sync_now_presses();
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep_until(next) => {}
            Ok(()) = presses.changed() => {
                eprintln!("sync now: syncing with the hub {}", schedule.addr);
            }
            _ = route_poll.tick() => {
                let has_route = default_route_now();
                let appeared = had_route == Some(false) && has_route == Some(true);
                had_route = has_route;
                if !appeared {
                    continue;
                }
                eprintln!("a default route appeared: syncing with the hub {}", schedule.addr);
            }
        }
        match service
            .sync_with(&schedule.addr, LinkKind::Hub, HUB_IDLE_TIMEOUT)
            .await
        {
            Ok(report) => {
                failures = 0;
                eprintln!(
                    "synced with the hub {}: sent {} changes, received {} new",
                    schedule.addr, report.changes_sent, report.received.new_changes
                );
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                eprintln!(
                    "sync with the hub {} failed (attempt {failures}; next in {:?}): {error}",
                    schedule.addr,
                    schedule.wait_after(failures)
                );
            }
        }
        next = tokio::time::Instant::now() + schedule.wait_after(failures);
    }
}

/// Whether the machine has a default route now; `None` where the routing table cannot be read
/// (not Linux), so nothing reacts to it.
fn default_route_now() -> Option<bool> {
    std::fs::read_to_string("/proc/net/route")
        .ok()
        .map(|table| has_default_route(&table))
}

/// Reads `/proc/net/route`: a default route is an up route (flag 0x1) with destination and
/// mask 0.
fn has_default_route(table: &str) -> bool {
    table.lines().skip(1).any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(destination), Some(flags), Some(mask)) =
            (fields.get(1), fields.get(3), fields.get(7))
        else {
            return false;
        };
        let up = u32::from_str_radix(flags, 16).is_ok_and(|f| f & 0x1 != 0);
        up && *destination == "00000000" && *mask == "00000000"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";

    #[test]
    fn a_default_route_is_an_up_route_to_zero_with_mask_zero() {
        let lan_only =
            format!("{HEADER}eth0\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n");
        let with_default =
            format!("{lan_only}wwan0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n");
        let down_default =
            format!("{lan_only}wwan0\t00000000\t0101A8C0\t0002\t0\t0\t100\t00000000\t0\t0\t0\n");
        assert!(!has_default_route(HEADER));
        assert!(!has_default_route(&lan_only));
        assert!(has_default_route(&with_default));
        assert!(!has_default_route(&down_default));
        assert!(!has_default_route("garbage\nline with few fields\n"));
    }

    #[test]
    fn failures_back_off_doubling_up_to_the_interval() {
        let schedule = HubSchedule {
            addr: "hub:7654".into(),
            every: Duration::from_secs(30 * 60),
        };
        let waits: Vec<u64> = (0..9).map(|f| schedule.wait_after(f).as_secs()).collect();
        assert_eq!(waits, [1800, 15, 30, 60, 120, 240, 480, 960, 1800]);
        assert_eq!(schedule.wait_after(u32::MAX).as_secs(), 1800);
        let quick = HubSchedule {
            addr: "hub:7654".into(),
            every: Duration::from_secs(2),
        };
        assert_eq!(quick.wait_after(1).as_secs(), 2);
    }
}
