//! The local host answers only to itself: `Host` is checked on every route (DNS rebinding),
//! and every response forbids framing and referrers. Real binary, raw HTTP.

mod common;

use common::{dump_path, fixture, leaks, raw, raw_host, start, Reply};

/// `/`, one embedded asset (or `index.html`'s name when the viewer is not built in) and the
/// dump's URL: the three kinds of route.
fn routes(dump_url: &str) -> Vec<String> {
    let asset = host::assets::names()
        .find(|n| *n != "index.html")
        .unwrap_or("index.html");
    vec!["/".into(), format!("/{asset}"), dump_url.into()]
}

fn assert_security_headers(r: &Reply, what: &str) {
    for (name, value) in [
        ("x-frame-options", "DENY"),
        ("content-security-policy", "frame-ancestors 'none'"),
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
        ("cross-origin-resource-policy", "same-origin"),
    ] {
        assert_eq!(r.header(name), Some(value), "{what}: {name}");
    }
}

#[test]
fn foreign_or_missing_hosts_are_refused_on_every_route() {
    let dump = fixture("pd_1.pt");
    let srv = start(&[dump.to_str().unwrap()]);
    let bytes = std::fs::read(&dump).unwrap();
    let port = srv.addr.rsplit(':').next().unwrap().to_string();
    let other_port = if port == "1" { "2" } else { "1" };
    let foreign = [
        Some(format!("evil.example:{port}")),
        Some(format!("127.0.0.1.evil:{port}")),
        Some(format!("localhost.evil.example:{port}")),
        Some(format!("127.0.0.1:{other_port}")),
        Some(format!("localhost:{port}0")),
        Some("127.0.0.1".to_string()),
        Some("localhost".to_string()),
        Some(format!("127.0.0.2:{port}")),
        Some(format!("0.0.0.0:{port}")),
        Some(String::new()),
        None,
    ];
    for path in routes(&dump_path(&srv)) {
        for host in &foreign {
            let r = raw_host(&srv.addr, host.as_deref(), "GET", &path, &[]);
            let what = format!("GET {path} with Host {host:?}");
            // 403 from us, or 400 if the HTTP layer rejects the request first.
            assert!(
                r.status == 403 || r.status == 400,
                "{what}: status {}",
                r.status
            );
            assert!(r.body.len() < 300, "{what}: {} bytes", r.body.len());
            assert!(!leaks(&r.body, &bytes), "{what}: dump bytes in the body");
            if r.status == 403 {
                assert_security_headers(&r, &what);
                let text = String::from_utf8_lossy(&r.body);
                assert!(text.contains("refused"), "{what}: {text}");
            }
        }
        // A second Host header, or an absolute-form request line naming another host.
        let two = raw_host(
            &srv.addr,
            Some(&srv.addr),
            "GET",
            &path,
            &[("Host", "evil.example")],
        );
        assert!(two.status == 403 || two.status == 400, "{path}: two Hosts");
        assert!(!leaks(&two.body, &bytes));
        let absolute = raw(
            &srv.addr,
            "GET",
            &format!("http://evil.example:{port}{path}"),
            &[],
        );
        assert!(
            absolute.status == 403 || absolute.status == 400,
            "{path}: absolute form, status {}",
            absolute.status
        );
        assert!(!leaks(&absolute.body, &bytes));
    }
}

#[test]
fn our_own_names_are_answered_with_the_security_headers() {
    let dump = fixture("pd_1.pt");
    let srv = start(&[dump.to_str().unwrap()]);
    let bytes = std::fs::read(&dump).unwrap();
    let port = srv.addr.rsplit(':').next().unwrap().to_string();
    let path = dump_path(&srv);
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LOCALHOST:{port}"),
        format!("[::1]:{port}"),
    ] {
        let r = raw_host(&srv.addr, Some(&host), "GET", &path, &[]);
        assert_eq!(r.status, 200, "{host}");
        assert_eq!(r.body, bytes, "{host}");
        assert_security_headers(&r, &host);
        let index = raw_host(&srv.addr, Some(&host), "GET", "/", &[]);
        assert_eq!(index.status, 200, "{host}: /");
        assert_security_headers(&index, &format!("{host}: /"));
    }
    // Every kind of answer carries them: partial content, not found, wrong method.
    let part = raw(&srv.addr, "GET", &path, &[("Range", "bytes=0-9")]);
    assert_eq!(part.status, 206);
    assert_security_headers(&part, "206");
    let missing = raw(&srv.addr, "GET", "/nope", &[]);
    assert_eq!(missing.status, 404);
    assert_security_headers(&missing, "404");
    let post = raw(&srv.addr, "POST", &path, &[]);
    assert_eq!(post.status, 405);
    assert_security_headers(&post, "405");
    // The page's own CSP (a <meta> in index.html) is untouched: the header only adds
    // frame-ancestors, which a <meta> cannot carry.
    if common::viewer_built() {
        let page = raw(&srv.addr, "GET", "/", &[]);
        let html = String::from_utf8_lossy(&page.body);
        assert!(html.contains("Content-Security-Policy"), "{html}");
    }
}

#[test]
fn bound_to_all_addresses_it_answers_ip_literals_but_not_names() {
    let dump = fixture("pd_1.pt");
    let srv = start(&[dump.to_str().unwrap(), "--host", "0.0.0.0"]);
    assert!(srv.url.starts_with("http://0.0.0.0:"), "{}", srv.url);
    let bytes = std::fs::read(&dump).unwrap();
    let port = srv.addr.rsplit(':').next().unwrap().to_string();
    let local = format!("127.0.0.1:{port}");
    let path = dump_path(&srv);
    for host in [
        local.clone(),
        format!("localhost:{port}"),
        format!("0.0.0.0:{port}"),
        // What a colleague's browser sends when it opens http://<this machine's IP>:P/.
        format!("192.0.2.7:{port}"),
        format!("[2001:db8::7]:{port}"),
    ] {
        let r = raw_host(&local, Some(&host), "GET", &path, &[]);
        assert_eq!(r.status, 200, "{host}");
        assert_eq!(r.body, bytes, "{host}");
    }
    for host in [
        Some(format!("evil.example:{port}")),
        Some(format!("192.0.2.7.nip.io:{port}")),
        Some("192.0.2.7:1".to_string()),
        None,
    ] {
        let r = raw_host(&local, host.as_deref(), "GET", &path, &[]);
        assert!(r.status == 403 || r.status == 400, "{host:?}: {}", r.status);
        assert!(!leaks(&r.body, &bytes), "{host:?}");
    }
}
