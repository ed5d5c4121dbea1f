//! `otpauth://` parsing: never panics, and what parses rebuilds to a URI that parses the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofold_otp::KeyUri;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // Also try it behind the scheme, so the fuzzer need not discover "otpauth://" first.
    for candidate in [text.to_owned(), format!("otpauth://{text}")] {
        if let Ok(parsed) = KeyUri::parse(&candidate) {
            if let Ok(built) = parsed.to_uri() {
                let again = KeyUri::parse(&built).expect("a built URI parses");
                assert_eq!(again, parsed, "round trip of {candidate:?} via {built:?}");
            }
        }
    }
});
