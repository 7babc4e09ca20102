//! What kind of file a byte stream is, decided from its first [`WINDOW`] bytes only, so that
//! the streaming reader (which sees the start first) and the whole-file reader decide alike.

/// The UTF-8 byte order mark some editors write first.
pub const BOM: &[u8] = b"\xef\xbb\xbf";

/// How many first bytes decide the kind of file. A JSON file with more leading whitespace
/// than this is read as a dump (and refused as one), whichever reader reads it.
pub const WINDOW: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Prometheus `query_range` JSON or text exposition.
    Prometheus,
    /// A cache JSON or OTLP/JSON.
    Json,
    /// A row store's bytes (`store::binary`, what a one-file report embeds).
    Store,
    /// Anything else goes to `pt` (which refuses what is not a torch file or pickle).
    Dump,
}

/// The kind of a file from its first [`WINDOW`] bytes (`bytes` may be longer or shorter).
pub fn kind(bytes: &[u8]) -> Kind {
    let window = &bytes[..bytes.len().min(WINDOW)];
    if window.starts_with(crate::store::binary::MAGIC) {
        return Kind::Store;
    }
    if crate::interop::is_prometheus(window) {
        return Kind::Prometheus;
    }
    let start = window.strip_prefix(BOM).unwrap_or(window);
    match start.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Kind::Json,
        _ => Kind::Dump,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(kind(b"\xef\xbb\xbf {\"rows\": []}"), Kind::Json);
        assert_eq!(kind(b"  \n{"), Kind::Json);
        assert_eq!(kind(b"# HELP x y\nx 1\n"), Kind::Prometheus);
        assert_eq!(kind(b"up 1\n"), Kind::Prometheus);
        assert_eq!(
            kind(b"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\"}}"),
            Kind::Prometheus
        );
        assert_eq!(kind(b"PK\x03\x04"), Kind::Dump);
        assert_eq!(kind(b"rollscope-store\n\x01\0\0\0"), Kind::Store);
        assert_eq!(
            kind(b"rollscope-store"),
            Kind::Dump,
            "the whole mark or nothing"
        );
        assert_eq!(kind(b"\x80\x02}q\x00."), Kind::Dump);
        let mut far = vec![b' '; WINDOW];
        far.push(b'{');
        assert_eq!(
            kind(&far),
            Kind::Dump,
            "the decision never looks past the window"
        );
    }
}
