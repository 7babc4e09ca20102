//! ZIP archives written byte by byte, so a test can make what the `zip` crate refuses to:
//! two entries with one name, sizes that lie, entries out of order.

/// How an entry's bytes are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Stored,
    Deflated,
}

/// One entry of [`zip_entries`].
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub name: &'a str,
    pub data: &'a [u8],
    pub method: Method,
}

/// A `torch.save` archive around one `data.pkl` (STORED, as torch writes it), with the
/// `version` and `byteorder` entries torch adds. `folder` is the archive's top folder.
pub fn torch_zip(folder: &str, data_pkl: &[u8]) -> Vec<u8> {
    let pkl = format!("{folder}/data.pkl");
    let byteorder = format!("{folder}/byteorder");
    let version = format!("{folder}/version");
    zip_entries(&[
        Entry {
            name: &pkl,
            data: data_pkl,
            method: Method::Stored,
        },
        Entry {
            name: &byteorder,
            data: b"little",
            method: Method::Stored,
        },
        Entry {
            name: &version,
            data: b"3\n",
            method: Method::Stored,
        },
    ])
}

/// A ZIP archive with exactly these entries, in this order, names repeated if asked.
pub fn zip_entries(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let offset = out.len() as u32;
        let mut crc = flate2::Crc::new();
        crc.update(e.data);
        let crc = crc.sum();
        let (method, body) = match e.method {
            Method::Stored => (0u16, e.data.to_vec()),
            Method::Deflated => {
                use std::io::Write;
                let mut enc =
                    flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
                // Writing to a Vec cannot fail.
                let _ = enc.write_all(e.data);
                (8u16, enc.finish().unwrap_or_default())
            }
        };
        let header = |sig: u32, central: bool| {
            let mut h = Vec::new();
            h.extend_from_slice(&sig.to_le_bytes());
            if central {
                h.extend_from_slice(&20u16.to_le_bytes()); // made by
            }
            h.extend_from_slice(&20u16.to_le_bytes()); // needed
            h.extend_from_slice(&0u16.to_le_bytes()); // flags
            h.extend_from_slice(&method.to_le_bytes());
            h.extend_from_slice(&0u32.to_le_bytes()); // time, date
            h.extend_from_slice(&crc.to_le_bytes());
            h.extend_from_slice(&(body.len() as u32).to_le_bytes());
            h.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
            h.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes()); // extra
            if central {
                h.extend_from_slice(&0u16.to_le_bytes()); // comment
                h.extend_from_slice(&0u16.to_le_bytes()); // disk
                h.extend_from_slice(&0u16.to_le_bytes()); // internal attrs
                h.extend_from_slice(&0u32.to_le_bytes()); // external attrs
                h.extend_from_slice(&offset.to_le_bytes());
            }
            h.extend_from_slice(e.name.as_bytes());
            h
        };
        out.extend_from_slice(&header(0x0403_4b50, false));
        out.extend_from_slice(&body);
        central.extend_from_slice(&header(0x0201_4b50, true));
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}
