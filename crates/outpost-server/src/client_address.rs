//! The client's IP address: the TCP peer, or, when the peer is a trusted proxy, the nearest
//! untrusted address in `X-Forwarded-For`.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl ClientAddress {
    pub fn text(&self) -> String {
        self.0.to_string()
    }
}

/// Resolves the client address from the peer and the forwarding header.
pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |address: &IpAddr| trusted.iter().any(|network| network.contains(address));
    if !is_trusted(&peer) {
        return peer;
    }

    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|entry| entry.trim().parse().ok())
        .collect();

    forwarded
        .iter()
        .rev()
        .find(|address| !is_trusted(address))
        .or_else(|| forwarded.first())
        .copied()
        .unwrap_or(peer)
}

/// Stores the request's [`ClientAddress`] in its extensions; every request gets one.
pub fn attach(state: &AppState, request: &mut Request) {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([127, 0, 0, 1]), |info| info.0.ip());
    let address = resolve(peer, request.headers(), &state.config.trusted_proxies);
    request.extensions_mut().insert(ClientAddress(address));
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<ClientAddress>().copied().unwrap_or(ClientAddress(IpAddr::from([0, 0, 0, 0]))))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn forwarded(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static(value));
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    fn networks(list: &[&str]) -> Vec<IpNet> {
        list.iter().filter_map(|entry| entry.parse().ok()).collect()
    }

    #[test]
    fn untrusted_peer_header_is_ignored() {
        let address = resolve(ip("203.0.113.9"), &forwarded("198.51.100.1"), &networks(&["10.0.0.0/8"]));
        assert_eq!(address, ip("203.0.113.9"));
    }

    #[test]
    fn trusted_peer_gives_nearest_untrusted_hop() {
        let address = resolve(ip("10.0.0.2"), &forwarded("198.51.100.1, 203.0.113.7, 10.0.0.3"), &networks(&["10.0.0.0/8"]));
        assert_eq!(address, ip("203.0.113.7"));
    }

    #[test]
    fn trusted_peer_without_header_is_client() {
        let address = resolve(ip("10.0.0.2"), &HeaderMap::new(), &networks(&["10.0.0.0/8"]));
        assert_eq!(address, ip("10.0.0.2"));
    }
}
