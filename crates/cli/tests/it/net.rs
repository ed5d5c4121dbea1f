//! The server's edge towards the network: what a client can make it keep (metrics series,
//! connections) and how long a slow or silent client can hold it.

use std::collections::BTreeSet;

use crate::support::{Db, Env};

/// Requests with methods a client made up are counted under one `other` label: however many
/// methods are invented, the number of method labels in /metrics stays that of the known set.
#[test]
fn invented_methods_do_not_grow_the_metrics() {
    let env = Env::new(Db::Sqlite);
    let metrics = env.token("prometheus", "metrics");
    let server = env.serve();
    let api = server.api(&metrics);
    for n in 0..60 {
        let r = api.raw_tcp(
            &format!("XMETHOD{n} /healthz HTTP/1.1\r\nConnection: close"),
            Vec::new(),
        );
        assert_eq!(r.status, 405, "{r:?}");
    }
    let r = api.raw_tcp(
        "XMETHOD0 /no/such/route HTTP/1.1\r\nConnection: close",
        Vec::new(),
    );
    assert_eq!(r.status, 404, "{r:?}");
    assert_eq!(server.anonymous().get("/healthz").status, 200);

    let r = api.get("/metrics");
    assert_eq!(r.status, 200);
    let text = r.json.as_str().unwrap().to_owned();
    let methods: BTreeSet<&str> = text
        .lines()
        .filter(|l| l.starts_with("twofold_http_requests_total{"))
        .filter_map(|l| l.split("method=\"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert!(methods.contains("other"), "{methods:?}\n{text}");
    assert!(methods.contains("GET"), "{methods:?}");
    assert!(
        methods.len() <= 8,
        "method labels: {methods:?} (the known methods and `other`)"
    );
    assert!(!text.contains("XMETHOD"), "a made-up method became a label");
    let routes: BTreeSet<&str> = text
        .lines()
        .filter(|l| l.starts_with("twofold_http_requests_total{"))
        .filter_map(|l| l.split("route=\"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert!(routes.contains("unmatched"), "{routes:?}");
    assert!(!routes.contains("/no/such/route"), "{routes:?}");
}
