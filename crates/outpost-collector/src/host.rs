//! What the agent reads about its host: hostname, the interface that holds the default
//! route (else the first non-loopback one) with its IP and MAC address, and the neighbour
//! tables. It only reads the kernel's tables; it sends nothing to the network.

use std::net::IpAddr;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use outpost_protocol::Device;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostInfo {
    pub hostname: String,
    pub interface: String,
    pub local_ip: String,
    pub mac: String,
}

pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
}

fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The interface of the IPv4 default route in `/proc/net/route` content.
pub fn default_route_interface(route_table: &str) -> Option<String> {
    route_table
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .find(|fields| fields.len() > 2 && fields[1] == "00000000")
        .map(|fields| fields[0].to_owned())
}

/// Parses `/proc/net/arp` content into devices, skipping incomplete entries.
pub fn parse_arp_table(table: &str, now: i64) -> Vec<Device> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (ip, flags, mac) = (fields.first()?, fields.get(2)?, fields.get(3)?);
            let complete = *flags != "0x0" && *mac != "00:00:00:00:00:00";
            complete.then(|| Device { ip: (*ip).to_owned(), mac: mac.to_ascii_lowercase(), hostname: None, first_seen: now, last_seen: now })
        })
        .collect()
}

/// Parses the output of `ip -6 neigh show` into devices with a link-layer address.
pub fn parse_ipv6_neighbours(output: &str, now: i64) -> Vec<Device> {
    output
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let ip = fields.first()?;
            let position = fields.iter().position(|field| *field == "lladdr")?;
            let mac = fields.get(position + 1)?;
            let failed = fields.iter().any(|field| matches!(*field, "FAILED" | "INCOMPLETE"));
            (!failed).then(|| Device { ip: (*ip).to_owned(), mac: mac.to_ascii_lowercase(), hostname: None, first_seen: now, last_seen: now })
        })
        .collect()
}

/// Reads the host's identity and the address of its main interface.
pub fn read_host() -> HostInfo {
    let hostname = read("/proc/sys/kernel/hostname").trim().to_owned();
    let interfaces = if_addrs::get_if_addrs().unwrap_or_default();
    let default_interface = default_route_interface(&read("/proc/net/route"));

    let chosen = default_interface
        .as_ref()
        .and_then(|name| interfaces.iter().find(|interface| &interface.name == name && interface.ip().is_ipv4()))
        .or_else(|| interfaces.iter().find(|interface| !interface.is_loopback() && interface.ip().is_ipv4()))
        .or_else(|| interfaces.iter().find(|interface| !interface.is_loopback()))
        .or_else(|| interfaces.first());

    let (interface, local_ip) = chosen.map_or_else(|| ("lo".to_owned(), IpAddr::from([127, 0, 0, 1])), |interface| (interface.name.clone(), interface.ip()));
    let mac = read(format!("/sys/class/net/{interface}/address")).trim().to_owned();
    let mac = if mac.len() == 17 { mac } else { "00:00:00:00:00:00".to_owned() };

    HostInfo { hostname: if hostname.is_empty() { "unknown".to_owned() } else { hostname }, interface, local_ip: local_ip.to_string(), mac }
}

/// The devices in the host's neighbour tables: IPv4 from `/proc/net/arp`, and IPv6 from
/// `ip -6 neigh show` where the `ip` tool exists. Entries in `excluded` (addresses or CIDR
/// networks) are left out.
pub fn read_neighbours(excluded: &[String]) -> Vec<Device> {
    let now = unix_now();
    let mut devices = parse_arp_table(&read("/proc/net/arp"), now);
    if let Ok(output) = std::process::Command::new("ip").args(["-6", "neigh", "show"]).output() {
        devices.extend(parse_ipv6_neighbours(&String::from_utf8_lossy(&output.stdout), now));
    }
    devices.retain(|device| !is_excluded(&device.ip, excluded));
    devices
}

/// Whether `ip` is one of the excluded addresses or inside one of the excluded networks.
pub fn is_excluded(ip: &str, excluded: &[String]) -> bool {
    let Ok(address) = ip.parse::<IpAddr>() else { return false };
    excluded.iter().any(|entry| match entry.split_once('/') {
        None => entry.parse::<IpAddr>().is_ok_and(|excluded| excluded == address),
        Some((network, bits)) => match (network.parse::<IpAddr>(), bits.parse::<u32>()) {
            (Ok(IpAddr::V4(network)), Ok(bits)) if bits <= 32 => match address {
                IpAddr::V4(address) => {
                    let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
                    u32::from(address) & mask == u32::from(network) & mask
                }
                IpAddr::V6(_) => false,
            },
            (Ok(IpAddr::V6(network)), Ok(bits)) if bits <= 128 => match address {
                IpAddr::V6(address) => {
                    let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
                    u128::from(address) & mask == u128::from(network) & mask
                }
                IpAddr::V4(_) => false,
            },
            _ => false,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_route_found_in_route_table() {
        let table = "Iface\tDestination\tGateway\tFlags\n\
                     eth0\t0000A8C0\t00000000\t0001\n\
                     eth0\t00000000\t0100A8C0\t0003\n";
        assert_eq!(default_route_interface(table), Some("eth0".to_owned()));
    }

    #[test]
    fn arp_table_skips_incomplete_entries() {
        let table = "IP address       HW type     Flags       HW address            Mask     Device\n\
                     192.168.1.1      0x1         0x2         AA:BB:CC:DD:EE:01     *        eth0\n\
                     192.168.1.9      0x1         0x0         00:00:00:00:00:00     *        eth0\n";
        let devices = parse_arp_table(table, 100);
        assert_eq!(devices.len(), 1);
        assert_eq!(devices[0].mac, "aa:bb:cc:dd:ee:01");
    }

    #[test]
    fn ipv6_neighbours_need_link_layer_address() {
        let output = "fe80::1 dev eth0 lladdr aa:bb:cc:dd:ee:02 router REACHABLE\n\
                      fe80::9 dev eth0 FAILED\n";
        let devices = parse_ipv6_neighbours(output, 100);
        assert_eq!(devices.len(), 1);
        assert_eq!(devices[0].ip, "fe80::1");
    }

    #[test]
    fn exclusions_match_addresses_and_networks() {
        let excluded = vec!["192.168.1.1".to_owned(), "10.0.0.0/8".to_owned(), "fe80::/64".to_owned()];
        assert!(is_excluded("192.168.1.1", &excluded));
        assert!(is_excluded("10.20.30.40", &excluded));
        assert!(is_excluded("fe80::1", &excluded));
        assert!(!is_excluded("192.168.1.2", &excluded));
    }
}
