#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;
use proptest::prelude::*;

/// base64 "c2VjcmV0LWtleS1mb3ItdHdvZm9sZC10ZXN0cw==".
const KEY: &[u8] = b"secret-key-for-twofold-tests";
const OTP: &str = "vvvvvvcucrlcietctckflvnncdgckubflugerlnr";
const NONCE: &str = "askjdnkajsndjkasndkjsnad";

#[test]
fn statuses_are_the_protocol_strings() {
    let strings: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(
        strings,
        [
            "OK",
            "BAD_OTP",
            "REPLAYED_OTP",
            "BAD_SIGNATURE",
            "MISSING_PARAMETER",
            "NO_SUCH_CLIENT",
            "OPERATION_NOT_ALLOWED",
            "BACKEND_ERROR",
            "NOT_ENOUGH_ANSWERS",
            "REPLAYED_REQUEST"
        ]
    );
    for s in Status::ALL {
        assert_eq!(Status::from_protocol(s.as_str()), Some(s));
        assert_eq!(s.to_string(), s.as_str());
    }
    assert_eq!(Status::from_protocol("ok"), None);
    assert_eq!(Status::from_protocol("DELAYED_OTP"), None);
}

/// Known answers computed independently with Python's `hmac` and `base64` modules.
#[test]
fn signature_known_answers() {
    // The protocol document's example request, signed; given in another order.
    let pairs = [
        ("otp", OTP),
        ("id", "87"),
        ("timeout", "8"),
        ("sl", "50"),
        ("nonce", NONCE),
    ];
    assert_eq!(sign(&pairs, KEY), "n3i56QLBK3c21L1qjV2TrJG5rNk=");
    // "Getting started writing clients"' example answer, signed; `h` is left out.
    let answer = [
        ("h", "ignored"),
        ("t", "2010-04-23T20:34:51Z0678"),
        ("otp", "cccccccbcjdifctrndncchkftchjlnbhvhtugdljibej"),
        ("nonce", "aef3a7835277a28da831005c2ae3b919e2076a62"),
        ("sl", "75"),
        ("status", "OK"),
    ];
    assert_eq!(sign(&answer, KEY), "ERrhrY08bGF0vpHrQtpcMRN4J5s=");
    // An empty key (yubikey-val's NO_SUCH_CLIENT).
    let unknown = [
        ("status", "NO_SUCH_CLIENT"),
        ("t", "2010-04-23T20:34:51Z0678"),
    ];
    assert_eq!(sign(&unknown, b""), "vGDzLTMsqS8Cy46LRRUTbnH1Zak=");
}

#[test]
fn t_format() {
    assert_eq!(format_t(0), "1970-01-01T00:00:00Z0000");
    assert_eq!(format_t(1_290_540_600_123), "2010-11-23T19:30:00Z0123");
    assert_eq!(format_t(951_782_400_999), "2000-02-29T00:00:00Z0999");
    assert_eq!(format_t(4_102_444_799_000), "2099-12-31T23:59:59Z0000");
}

#[test]
fn parses_the_document_example() {
    let query = format!("otp={OTP}&id=87&timeout=8&sl=50&nonce={NONCE}");
    let r = VerifyRequest::parse(&query).unwrap();
    assert_eq!(r.id(), 87);
    assert_eq!(r.otp(), OTP);
    assert_eq!(r.nonce(), NONCE);
    assert_eq!(r.sync_level(), Some(SyncLevel::Percent(50)));
    assert_eq!(r.timeout(), Some(8));
    assert!(!r.wants_counters());
    assert_eq!(r.signature(), None);
    assert!(!verify_request_signature(&r, KEY));

    let r = VerifyRequest::parse(&format!(
        "{query}&timestamp=1&h=n3i56QLBK3c21L1qjV2TrJG5rNk="
    ))
    .unwrap();
    assert!(r.wants_counters());
    // timestamp=1 is signed too: this h was made without it.
    assert!(!verify_request_signature(&r, KEY));
    let r = VerifyRequest::parse(&format!("{query}&h=n3i56QLBK3c21L1qjV2TrJG5rNk%3D")).unwrap();
    assert!(verify_request_signature(&r, KEY));
    assert!(!verify_request_signature(&r, b"another key"));
}

#[test]
fn signatures_over_encoded_or_decoded_values_are_accepted() {
    // A value that differs encoded and decoded.
    let sent = format!("id=1&nonce={NONCE}&otp=a%2Bb");
    let encoded = sign(&[("id", "1"), ("nonce", NONCE), ("otp", "a%2Bb")], KEY);
    let decoded = sign(&[("id", "1"), ("nonce", NONCE), ("otp", "a+b")], KEY);
    assert_ne!(encoded, decoded);
    for h in [&encoded, &decoded] {
        let mut q = sent.clone();
        q.push_str("&h=");
        percent_encode(h, &mut q);
        let r = VerifyRequest::parse(&q).unwrap();
        assert_eq!(r.otp(), "a+b");
        assert!(verify_request_signature(&r, KEY), "{h}");
    }
    // yubico-client escapes only `+` in h; a raw `+` is read as `+` too.
    let h = sign(&[("id", "1"), ("nonce", NONCE), ("otp", OTP)], KEY);
    for form in [h.replace('+', "%2B"), h.clone()] {
        let r = VerifyRequest::parse(&format!("id=1&nonce={NONCE}&otp={OTP}&h={form}")).unwrap();
        assert_eq!(r.signature(), Some(h.as_str()));
        assert!(verify_request_signature(&r, KEY));
    }
}

#[test]
fn request_errors() {
    let ok = format!("id=1&otp={OTP}&nonce={NONCE}");
    assert!(VerifyRequest::parse(&ok).is_ok());
    let cases: Vec<(String, WsapiError)> = vec![
        (String::new(), WsapiError::MissingParameter("id")),
        (
            format!("otp={OTP}&nonce={NONCE}"),
            WsapiError::MissingParameter("id"),
        ),
        (
            format!("id=&otp={OTP}&nonce={NONCE}"),
            WsapiError::MissingParameter("id"),
        ),
        (
            format!("id=1&nonce={NONCE}"),
            WsapiError::MissingParameter("otp"),
        ),
        (
            format!("id=1&otp={OTP}"),
            WsapiError::MissingParameter("nonce"),
        ),
        (
            format!("id=0&otp={OTP}&nonce={NONCE}"),
            WsapiError::InvalidParameter("id"),
        ),
        (
            format!("id=-1&otp={OTP}&nonce={NONCE}"),
            WsapiError::InvalidParameter("id"),
        ),
        (
            format!("id=1x&otp={OTP}&nonce={NONCE}"),
            WsapiError::InvalidParameter("id"),
        ),
        (
            format!("id=99999999999999999999&otp={OTP}&nonce={NONCE}"),
            WsapiError::InvalidParameter("id"),
        ),
        (
            format!("id=1&otp={OTP}&nonce=short"),
            WsapiError::InvalidParameter("nonce"),
        ),
        (
            format!("id=1&otp={OTP}&nonce={}", "a".repeat(41)),
            WsapiError::InvalidParameter("nonce"),
        ),
        (
            format!("id=1&otp={OTP}&nonce=askjdnkajsndjkasndkjs-ad"),
            WsapiError::InvalidParameter("nonce"),
        ),
        (format!("{ok}&sl=101"), WsapiError::InvalidParameter("sl")),
        (format!("{ok}&sl=-1"), WsapiError::InvalidParameter("sl")),
        (format!("{ok}&sl=slow"), WsapiError::InvalidParameter("sl")),
        (
            format!("{ok}&timeout=5s"),
            WsapiError::InvalidParameter("timeout"),
        ),
        (
            format!("{ok}&timeout=99999999999"),
            WsapiError::InvalidParameter("timeout"),
        ),
        (
            format!("{ok}&id=2"),
            WsapiError::DuplicateParameter("id".into()),
        ),
        (
            format!("{ok}&x=1&x=2"),
            WsapiError::DuplicateParameter("x".into()),
        ),
        (format!("{ok}&x=%zz"), WsapiError::BadEncoding),
        (format!("{ok}&x=%4"), WsapiError::BadEncoding),
        (format!("{ok}&x=%ff"), WsapiError::BadEncoding),
        (
            format!("{ok}&x={}", "a".repeat(MAX_QUERY_LEN)),
            WsapiError::TooLong,
        ),
        (
            format!(
                "{ok}{}",
                (0..MAX_PAIRS)
                    .map(|i| format!("&k{i}=v"))
                    .collect::<String>()
            ),
            WsapiError::TooLong,
        ),
    ];
    for (query, expected) in cases {
        let err = VerifyRequest::parse(&query).unwrap_err();
        assert_eq!(err, expected, "{query}");
        assert_eq!(err.status(), Status::MissingParameter);
    }
}

#[test]
fn optional_parameters() {
    let ok = format!("id=007&otp={OTP}&nonce={NONCE}");
    let parse = |extra: &str| VerifyRequest::parse(&format!("{ok}&{extra}")).unwrap();
    assert_eq!(parse("").id(), 7);
    assert_eq!(parse("sl=fast").sync_level(), Some(SyncLevel::Fast));
    assert_eq!(parse("sl=SECURE").sync_level(), Some(SyncLevel::Secure));
    assert_eq!(parse("sl=0").sync_level(), Some(SyncLevel::Percent(0)));
    assert_eq!(parse("sl=100").sync_level(), Some(SyncLevel::Percent(100)));
    assert_eq!(parse("sl=").sync_level(), None);
    assert_eq!(parse("timeout=").timeout(), None);
    assert!(!parse("timestamp=0").wants_counters());
    assert!(!parse("timestamp=yes").wants_counters());
    assert_eq!(parse("h=").signature(), None);
    // Unknown parameters are kept, and empty pieces skipped.
    let r = parse("foo=bar&&baz");
    assert!(r.pairs().iter().any(|(k, v)| k == "foo" && v == "bar"));
    assert!(r.pairs().iter().any(|(k, v)| k == "baz" && v.is_empty()));
    // `+` is a space outside `h`.
    assert_eq!(
        VerifyRequest::parse(&format!("id=1&otp=a+b%20c&nonce={NONCE}"))
            .unwrap()
            .otp(),
        "a b c"
    );
}

#[test]
fn debug_hides_the_otp() {
    let r = VerifyRequest::parse(&format!("id=1&otp={OTP}&nonce={NONCE}")).unwrap();
    assert!(!format!("{r:?}").contains(OTP));
    let c = ClientRequest::new(1, OTP, NONCE);
    assert!(!format!("{c:?}").contains(OTP));
}

#[test]
fn answer_bodies() {
    let request =
        VerifyRequest::parse(&format!("id=1&otp={OTP}&nonce={NONCE}&timestamp=1")).unwrap();
    let ok = VerifyResponse::for_request(&request, Status::Ok)
        .sync_level(100)
        .counters(KeyCounters {
            timestamp: 5_993_928,
            session_counter: 338,
            session_use: 0,
        });
    let body = ok.body(KEY, 1_290_540_600_123);
    let lines: Vec<&str> = body.split("\r\n").collect();
    assert_eq!(
        lines[1..],
        [
            "t=2010-11-23T19:30:00Z0123",
            &format!("otp={OTP}"),
            &format!("nonce={NONCE}"),
            "sl=100",
            "timestamp=5993928",
            "sessioncounter=338",
            "sessionuse=0",
            "status=OK",
            "",
            ""
        ]
    );
    assert!(lines[0].starts_with("h="));
    let parsed = parse_response(&body).unwrap();
    assert!(parsed.verify_signature(KEY));
    assert_eq!(parsed.status(), Some(Status::Ok));
    assert_eq!(parsed.get("sessioncounter"), Some("338"));

    // No echo with a status yubikey-val answers before checking the request.
    for status in [Status::BadOtp, Status::BadSignature, Status::NoSuchClient] {
        let body = VerifyResponse::for_request(&request, status).body(KEY, 0);
        assert!(!body.contains("otp="), "{body}");
        assert!(!body.contains("nonce="), "{body}");
        assert!(body.contains(&format!("status={status}\r\n")));
    }
    let replay = VerifyResponse::for_request(&request, Status::ReplayedOtp).body(KEY, 0);
    assert!(replay.contains(&format!("otp={OTP}\r\n")));
}

#[test]
fn echo_only_what_reads_back() {
    for otp in ["x ", " x", "x\ty"] {
        let body = VerifyResponse::new(Status::ReplayedOtp)
            .echo(otp, NONCE)
            .body(KEY, 0);
        assert!(!body.contains("otp="), "{body:?}");
        assert!(parse_response(&body).unwrap().verify_signature(KEY));
    }
}

#[test]
fn echo_never_adds_lines() {
    let body = VerifyResponse::new(Status::ReplayedOtp)
        .echo("x\r\nstatus=OK", NONCE)
        .body(KEY, 0);
    assert_eq!(body.matches("status=").count(), 1);
    assert!(!body.contains("otp="));
}

#[test]
fn client_query_and_checks() {
    let request = ClientRequest::new(87, OTP, NONCE);
    let query = request.query(KEY);
    // Python: base64(hmac.new(KEY, b"id=87&nonce=…&otp=…", sha1)), quoted.
    assert_eq!(
        query,
        format!("id=87&nonce={NONCE}&otp={OTP}&h=tfk1il5AoXXRbcCMAovQGPuAKtM%3D")
    );
    assert_eq!(request.query(b""), format!("id=87&nonce={NONCE}&otp={OTP}"));
    let with_all = ClientRequest::new(87, OTP, NONCE)
        .with_sync_level(SyncLevel::Percent(50))
        .with_timeout(8)
        .with_counters();
    let h = "n3i56QLBK3c21L1qjV2TrJG5rNk=";
    let without_ts = ClientRequest::new(87, OTP, NONCE)
        .with_sync_level(SyncLevel::Percent(50))
        .with_timeout(8);
    assert!(
        without_ts
            .query(KEY)
            .ends_with("&h=n3i56QLBK3c21L1qjV2TrJG5rNk%3D")
    );
    assert!(!with_all.query(KEY).contains(h));

    let answer = |r: VerifyResponse, key: &[u8]| parse_response(&r.body(key, 7)).unwrap();
    let ok = VerifyResponse::new(Status::Ok)
        .echo(OTP, NONCE)
        .sync_level(100);
    assert_eq!(answer(ok.clone(), KEY).check(&request, KEY), Ok(()));
    assert_eq!(
        answer(ok.clone(), b"other").check(&request, KEY),
        Err(WsapiError::BadSignature)
    );
    // Unsigned clients do not check the signature.
    assert_eq!(answer(ok.clone(), b"other").check(&request, b""), Ok(()));
    let other_nonce = VerifyResponse::new(Status::Ok).echo(OTP, "bbbbbbbbbbbbbbbbbbbb");
    assert_eq!(
        answer(other_nonce, KEY).check(&request, KEY),
        Err(WsapiError::NonceMismatch)
    );
    let other_otp = VerifyResponse::new(Status::Ok).echo("cccccc", NONCE);
    assert_eq!(
        answer(other_otp, KEY).check(&request, KEY),
        Err(WsapiError::OtpMismatch)
    );
    let bare_ok = VerifyResponse::new(Status::Ok);
    assert_eq!(
        answer(bare_ok, KEY).check(&request, KEY),
        Err(WsapiError::OtpMismatch)
    );
    // A refusal without echo passes the checks (and is still a refusal).
    let bad_otp = answer(VerifyResponse::new(Status::BadOtp), KEY);
    assert_eq!(bad_otp.check(&request, KEY), Ok(()));
    assert_eq!(bad_otp.status(), Some(Status::BadOtp));
    // yubikey-val signs NO_SUCH_CLIENT with an empty key.
    let unknown = answer(VerifyResponse::new(Status::NoSuchClient), b"");
    assert_eq!(unknown.check(&request, KEY), Ok(()));
    let forged_ok = answer(VerifyResponse::new(Status::Ok).echo(OTP, NONCE), b"");
    assert_eq!(
        forged_ok.check(&request, KEY),
        Err(WsapiError::BadSignature)
    );
    let unsigned = parse_response("status=OK\r\n").unwrap();
    assert_eq!(unsigned.check(&request, KEY), Err(WsapiError::BadSignature));
}

#[test]
fn response_parsing() {
    assert_eq!(
        parse_response("").unwrap_err(),
        WsapiError::MissingField("status")
    );
    assert_eq!(
        parse_response("<html>oops</html>").unwrap_err(),
        WsapiError::MalformedResponse
    );
    assert_eq!(
        parse_response("status=OK\nstatus=BAD_OTP").unwrap_err(),
        WsapiError::MalformedResponse
    );
    assert_eq!(
        parse_response("h=a\nh=b\nstatus=OK").unwrap_err(),
        WsapiError::MalformedResponse
    );
    assert_eq!(
        parse_response("=x\nstatus=OK").unwrap_err(),
        WsapiError::MalformedResponse
    );
    let r = parse_response("\n h=abc= \r\nstatus=DELAYED_OTP\r\n\r\n").unwrap();
    assert_eq!(r.signature(), Some("abc="));
    assert_eq!(r.status_text(), "DELAYED_OTP");
    assert_eq!(r.status(), None);
    // The example answer of Yubico's documentation, verified with our known key.
    let doc = "h=ERrhrY08bGF0vpHrQtpcMRN4J5s=\r\nt=2010-04-23T20:34:51Z0678\r\n\
               otp=cccccccbcjdifctrndncchkftchjlnbhvhtugdljibej\r\n\
               nonce=aef3a7835277a28da831005c2ae3b919e2076a62\r\nsl=75\r\nstatus=OK\r\n\r\n";
    assert!(parse_response(doc).unwrap().verify_signature(KEY));
}

fn nonce_strategy() -> impl Strategy<Value = String> {
    "[A-Za-z0-9]{16,40}"
}

proptest! {
    #[test]
    fn parse_never_panics(query in ".{0,300}") {
        let _ = VerifyRequest::parse(&query);
        let _ = parse_response(&query);
    }

    #[test]
    fn parse_never_panics_on_query_like_text(query in "([a-z%+=&0-9A-F]{0,12}&?){0,12}") {
        if let Ok(r) = VerifyRequest::parse(&query) {
            let _ = verify_request_signature(&r, KEY);
        }
    }

    #[test]
    fn client_query_round_trips(
        id in 1u64..,
        otp in "[!-~]{1,64}",
        nonce in nonce_strategy(),
        key in proptest::collection::vec(any::<u8>(), 0..40),
        sl in proptest::option::of(0u8..=100),
        timeout in proptest::option::of(any::<u32>()),
        counters in any::<bool>(),
    ) {
        let mut request = ClientRequest::new(id, &otp, &nonce);
        if let Some(sl) = sl {
            request = request.with_sync_level(SyncLevel::Percent(sl));
        }
        if let Some(t) = timeout {
            request = request.with_timeout(t);
        }
        if counters {
            request = request.with_counters();
        }
        let parsed = VerifyRequest::parse(&request.query(&key)).unwrap();
        prop_assert_eq!(parsed.id(), id);
        prop_assert_eq!(parsed.otp(), otp.as_str());
        prop_assert_eq!(parsed.nonce(), nonce.as_str());
        prop_assert_eq!(parsed.sync_level(), sl.map(SyncLevel::Percent));
        prop_assert_eq!(parsed.timeout(), timeout);
        prop_assert_eq!(parsed.wants_counters(), counters);
        prop_assert_eq!(verify_request_signature(&parsed, &key), !key.is_empty());

        // And the answer back.
        let status = Status::ALL[usize::try_from(id % 10).unwrap()];
        let body = VerifyResponse::for_request(&parsed, status).sync_level(100).body(&key, id);
        let answer = parse_response(&body).unwrap();
        prop_assert_eq!(answer.status(), Some(status));
        prop_assert!(answer.verify_signature(&key));
        prop_assert_eq!(answer.check(&request, &key), Ok(()));
    }

    #[test]
    fn t_has_the_protocol_shape(ms in 0u64..253_402_300_800_000) {
        let t = format_t(ms);
        prop_assert_eq!(t.len(), 24);
        let b = t.as_bytes();
        prop_assert_eq!((b[4], b[7], b[10], b[13], b[16], b[19]), (b'-', b'-', b'T', b':', b':', b'Z'));
    }
}
