//! Who may talk to the local host, and what every answer carries.
//!
//! Three defences, each against a different reader of the served dump:
//! - **DNS rebinding** (a web page whose name is re-pointed at 127.0.0.1): such a page's
//!   requests carry *its* name in `Host`, so only the names this server is known by are
//!   answered ([`Authorities`]); anything else gets 403 with no dump bytes, on every route.
//! - **Other local users** (anyone can connect to 127.0.0.1): the dump's URL carries a random
//!   128-bit token ([`Token`]) that only the printed address knows; a wrong token is a 404.
//! - **Framing and leaks** (clickjacking, the token in a `Referer`): every response forbids
//!   framing and referrers ([`SECURITY_HEADERS`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Uri};

/// Sent with every response of the local host, refusals included. The page's own CSP
/// (index.html's `<meta>`) still applies: a header policy is enforced *in addition*, so this
/// only adds what a `<meta>` cannot say (`frame-ancestors`).
pub const SECURITY_HEADERS: [(HeaderName, &str); 5] = [
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::CONTENT_SECURITY_POLICY, "frame-ancestors 'none'"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    // Other origins may not read these bytes even in no-cors mode (`<script src>`, `<img>`).
    (
        HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    ),
];

/// Adds [`SECURITY_HEADERS`] (replacing any earlier value).
pub fn add_security_headers(headers: &mut HeaderMap) {
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// The authorities (`host:port`) this server answers to: `127.0.0.1:P`, `localhost:P`,
/// `[::1]:P` and the bound address with its port. Bound to an unspecified address
/// (`0.0.0.0`, `::`), any IP literal with the right port is accepted too: a rebinding attack
/// needs a *name*, and a browser that sends an IP literal connected to that very address.
#[derive(Debug, Clone)]
pub struct Authorities {
    port: u16,
    bound: IpAddr,
}

impl Authorities {
    pub fn new(bound: IpAddr, port: u16) -> Self {
        Authorities { port, bound }
    }

    /// What a refusal says: the addresses that do work.
    pub fn describe(&self) -> String {
        let p = self.port;
        let mut s = format!("127.0.0.1:{p}, localhost:{p}, [::1]:{p}");
        if self.bound.is_unspecified() {
            s.push_str(&format!(", or this machine's IP address with port {p}"));
        } else if !self.bound.is_loopback() {
            s.push_str(&format!(", {}", authority(self.bound, p)));
        }
        s
    }

    /// Whether a request is addressed to this server: exactly one `Host` header naming an
    /// allowed authority and, if the request line is in absolute form, the same there.
    pub fn allows(&self, headers: &HeaderMap, uri: &Uri) -> bool {
        let mut hosts = headers.get_all(header::HOST).iter();
        let (Some(host), None) = (hosts.next(), hosts.next()) else {
            return false;
        };
        let Ok(host) = host.to_str() else {
            return false;
        };
        if !self.allows_authority(host) {
            return false;
        }
        uri.authority()
            .is_none_or(|a| self.allows_authority(a.as_str()))
    }

    /// `host[:port]`, compared exactly (no trailing dots, no userinfo, no leading zeros).
    pub fn allows_authority(&self, authority: &str) -> bool {
        let (host, port) = match split_authority(authority) {
            Some(hp) => hp,
            None => return false,
        };
        let port_ok = match port {
            Some(p) => p == self.port.to_string(),
            // Browsers omit the default port.
            None => self.port == 80,
        };
        if !port_ok {
            return false;
        }
        if host.eq_ignore_ascii_case("localhost") {
            return true;
        }
        let ip: IpAddr = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'))
        {
            match v6.parse::<Ipv6Addr>() {
                Ok(ip) => IpAddr::V6(ip),
                Err(_) => return false,
            }
        } else {
            match host.parse::<Ipv4Addr>() {
                Ok(ip) => IpAddr::V4(ip),
                Err(_) => return false,
            }
        };
        ip == IpAddr::V4(Ipv4Addr::LOCALHOST)
            || ip == IpAddr::V6(Ipv6Addr::LOCALHOST)
            || ip == self.bound
            || self.bound.is_unspecified()
    }
}

/// `host:port` as a browser writes it (IPv6 in brackets).
pub fn authority(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

/// Splits `host[:port]`; `None` if it is not one (empty host, stray characters).
fn split_authority(a: &str) -> Option<(&str, Option<&str>)> {
    let (host, port) = if a.starts_with('[') {
        let close = a.find(']')?;
        let (h, rest) = a.split_at(close + 1);
        match rest {
            "" => (h, None),
            r => (h, Some(r.strip_prefix(':')?)),
        }
    } else {
        match a.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (a, None),
        }
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':'));
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    (host_ok && port_ok).then_some((host, port))
}

/// A per-run secret for the dump's URL: 128 bits from the operating system, in hex.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// A fresh token; fails only if the OS has no randomness to give.
    pub fn random() -> Result<Token, String> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)
            .map_err(|e| format!("no random numbers from the operating system: {e}"))?;
        Ok(Token(bytes.iter().map(|b| format!("{b:02x}")).collect()))
    }

    /// A fixed token, for tests of the handler.
    pub fn fixed(s: &str) -> Token {
        Token(s.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Equality whose time does not depend on where the first difference is, so a wrong token
/// teaches nothing about the right one.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_names_and_port() {
        let a = Authorities::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8123);
        for ok in [
            "127.0.0.1:8123",
            "localhost:8123",
            "LocalHost:8123",
            "[::1]:8123",
        ] {
            assert!(a.allows_authority(ok), "{ok}");
        }
        for bad in [
            "evil.example:8123",
            "127.0.0.1.evil:8123",
            "127.0.0.1:8124",
            "127.0.0.1:08123",
            "127.0.0.1",
            "localhost",
            "localhost.:8123",
            "user@127.0.0.1:8123",
            "127.0.0.1:8123:8123",
            "[::1]8123",
            "[::2]:8123",
            "10.0.0.1:8123",
            "0177.0.0.1:8123",
            "",
            ":8123",
        ] {
            assert!(!a.allows_authority(bad), "{bad}");
        }
        let any = Authorities::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 80);
        assert!(any.allows_authority("192.168.1.5"));
        assert!(any.allows_authority("192.168.1.5:80"));
        assert!(any.allows_authority("[fe80::1]"));
        assert!(!any.allows_authority("rebind.evil"));
        assert!(!any.allows_authority("192.168.1.5:81"));
        let lan = Authorities::new("192.168.1.5".parse().unwrap(), 9);
        assert!(lan.allows_authority("192.168.1.5:9"));
        assert!(!lan.allows_authority("192.168.1.6:9"));
        assert!(lan.describe().contains("192.168.1.5:9"));
    }

    #[test]
    fn tokens_are_random_hex_and_compared_whole() {
        let (a, b) = (Token::random().unwrap(), Token::random().unwrap());
        assert_eq!(a.as_str().len(), 32);
        assert!(a.as_str().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.as_str(), b.as_str());
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
    }
}
