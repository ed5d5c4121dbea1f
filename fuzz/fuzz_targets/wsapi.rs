//! Yubico validation protocol 2.0: the request parser and the answer parser never panic; a
//! parsed request answered and re-requested round-trips through both sides with valid
//! signatures.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofold_otp::wsapi::{
    ClientRequest, Status, VerifyRequest, VerifyResponse, parse_response, verify_request_signature,
};

const KEY: &[u8] = b"fuzz-key";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    if let Ok(answer) = parse_response(text) {
        let _ = answer.verify_signature(KEY);
        let _ = answer.check(&ClientRequest::new(1, "otp", "0123456789abcdef"), KEY);
    }

    let Ok(request) = VerifyRequest::parse(text) else {
        return;
    };
    let _ = verify_request_signature(&request, KEY);

    // Our answer to it parses back, signed, with its status, and passes the client's checks
    // whenever the OTP can be echoed on one line as it is.
    for status in [Status::Ok, Status::ReplayedOtp, Status::BadOtp] {
        let body = VerifyResponse::for_request(&request, status)
            .sync_level(100)
            .body(KEY, 1_700_000_000_000);
        let answer = parse_response(&body).expect("our answer parses");
        assert!(answer.verify_signature(KEY), "{body:?}");
        assert_eq!(answer.status(), Some(status));
        let otp = request.otp();
        if otp == otp.trim() && !otp.chars().any(char::is_control) {
            let client = ClientRequest::new(request.id(), otp, request.nonce());
            assert_eq!(answer.check(&client, KEY), Ok(()), "{body:?}");
        }
    }

    // The same request, built by our client, parses to the same fields and verifies.
    let query = ClientRequest::new(request.id(), request.otp(), request.nonce()).query(KEY);
    let again = VerifyRequest::parse(&query).expect("our query parses");
    assert_eq!(
        (again.id(), again.otp(), again.nonce()),
        (request.id(), request.otp(), request.nonce())
    );
    assert!(verify_request_signature(&again, KEY), "{query}");
});
