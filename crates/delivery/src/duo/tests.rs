use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use twofold_core::duo::DuoError;

use super::http::base_url;
use super::jwt::{Expected, jwt_hs512, verify_id_token};
use super::signature::{SignedRequest, canon_json, canon_params, http_date, sign_v5};

const NOW: i64 = 1_700_000_000;

#[test]
fn dates_as_python_formatdate() {
    assert_eq!(http_date(NOW), "Tue, 14 Nov 2023 22:13:20 -0000");
    assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 -0000");
    assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 -0000");
}

/// Vectors computed with duo_client 5.7.0's `sign(…, sig_version=5)`.
#[test]
fn signature_v5_matches_duo_client() {
    let ikey = "DIWJ8X6AEYOR5OMC6TQ1";
    let skey = b"Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep";
    let date = http_date(NOW);
    let mut body = BTreeMap::new();
    body.insert("username", "alice");
    let post = sign_v5(
        ikey,
        skey,
        &SignedRequest {
            date: &date,
            method: "POST",
            host: "API-XXXXXXXX.duosecurity.com",
            path: "/auth/v2/preauth",
            params: "",
            body: &canon_json(&body),
        },
    );
    assert_eq!(
        post,
        "Basic RElXSjhYNkFFWU9SNU9NQzZUUTE6YTRmM2ExNDkxZDM2YWQwYjU0ODg3OWU5ODJhNzcyZWQ2MTEx\
         NGEyN2MxYmUzY2YyOWQ0MjdlZTBiOWFmZDJhZWIzMjAyMWY3YTE2OTcyNDEyZjNkOTZhNWEyNGQzNmQwOD\
         kwN2RjMDE4NmViNTc1ZGUwYWJjODViZWJiM2E0YTU="
    );
    let params = canon_params(&[
        ("txid", "45f7c92b-f45f-4862-8545-e0f58e78075a"),
        ("x y", "a/b~c d"),
    ]);
    let get = sign_v5(
        ikey,
        skey,
        &SignedRequest {
            date: &date,
            method: "GET",
            host: "api-xxxxxxxx.duosecurity.com",
            path: "/auth/v2/auth_status",
            params: &params,
            body: "",
        },
    );
    assert_eq!(
        get,
        "Basic RElXSjhYNkFFWU9SNU9NQzZUUTE6YTU1OTFjNDkyMzM4NmQwNGUxNThmMmRlYjYxYTRjZDE4Yzg0\
         MmExYjBhZThkZjM0NjM2ZTAxZmFkMmY2Y2M1ZDlmMzE2YjVkZGNkNjgyOTMzZWMyNzNmNmVhMmM3M2VlOT\
         U0MGZlNzc5MTVlMGZmZjE0YWIzYjA3NzNjYzMxMzQ="
    );
}

#[test]
fn api_hosts() {
    for good in [
        "api-xxxxxxxx.duosecurity.com",
        " API-XXXXXXXX.duosecurity.com ",
        "127.0.0.1:8443",
        "localhost:1",
    ] {
        assert!(base_url(good).is_ok(), "{good}");
    }
    for bad in [
        "",
        "http://api-x.duosecurity.com",
        "https://api-x.duosecurity.com",
        "api-x.duosecurity.com/path",
        "user@api-x.duosecurity.com",
        "api-x.duosecurity.com:443",
        "api-x.duosecurity.com?x=1",
        "a b",
    ] {
        assert!(matches!(base_url(bad), Err(DuoError::Refused(_))), "{bad}");
    }
}

fn expected() -> Expected<'static> {
    Expected {
        secret: b"0123456789012345678901234567890123456789",
        issuer: "https://api-x.duosecurity.com/oauth/v1/token",
        audience: "DIXXXXXXXXXXXXXXXXXX",
        nonce: "nonce-nonce-nonce-nonce",
        username: "alice",
        now: NOW,
    }
}

fn claims() -> Value {
    json!({
        "iss": "https://api-x.duosecurity.com/oauth/v1/token",
        "aud": "DIXXXXXXXXXXXXXXXXXX",
        "exp": NOW + 300,
        "iat": NOW,
        "nonce": "nonce-nonce-nonce-nonce",
        "preferred_username": "alice",
        "auth_result": {"result": "allow", "status": "allow", "status_msg": "Login Successful"},
    })
}

fn with(change: impl FnOnce(&mut Value)) -> String {
    let mut claims = claims();
    change(&mut claims);
    jwt_hs512(&claims, expected().secret)
}

#[test]
fn id_token_checks() {
    let e = expected();
    assert_eq!(verify_id_token(&with(|_| {}), &e), Ok(()));
    // Within the leeway.
    assert_eq!(
        verify_id_token(&with(|c| c["exp"] = json!(NOW - 59)), &e),
        Ok(())
    );
    assert_eq!(
        verify_id_token(&with(|c| c["aud"] = json!(["other", e.audience])), &e),
        Ok(())
    );
    let invalid: Vec<(&str, String)> = vec![
        (
            "iss",
            with(|c| c["iss"] = json!("https://other/oauth/v1/token")),
        ),
        ("aud", with(|c| c["aud"] = json!("DIOTHER"))),
        ("exp", with(|c| c["exp"] = json!(NOW - 61))),
        (
            "no exp",
            with(|c| drop(c.as_object_mut().unwrap().remove("exp"))),
        ),
        ("iat", with(|c| c["iat"] = json!(NOW + 61))),
        (
            "no iat",
            with(|c| drop(c.as_object_mut().unwrap().remove("iat"))),
        ),
        ("nbf", with(|c| c["nbf"] = json!(NOW + 600))),
        (
            "nonce",
            with(|c| c["nonce"] = json!("another-nonce-xxxxxxx")),
        ),
        (
            "no nonce",
            with(|c| drop(c.as_object_mut().unwrap().remove("nonce"))),
        ),
        ("user", with(|c| c["preferred_username"] = json!("mallory"))),
        (
            "secret",
            jwt_hs512(&claims(), b"another secret another secret another s"),
        ),
        ("garbage", "a.b.c".to_owned()),
        ("two parts", "a.b".to_owned()),
    ];
    for (what, token) in invalid {
        assert!(
            matches!(verify_id_token(&token, &e), Err(DuoError::Invalid(_))),
            "{what}"
        );
    }
    // A changed payload under the old signature.
    let good = with(|_| {});
    let mut parts: Vec<&str> = good.split('.').collect();
    let other = URL_SAFE_NO_PAD.encode(with(|c| c["preferred_username"] = json!("alice2")));
    parts[1] = &other;
    assert!(matches!(
        verify_id_token(&parts.join("."), &e),
        Err(DuoError::Invalid(_))
    ));
    // The same signature bytes spelled with stray bits in the last character.
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let last = good.chars().last().unwrap();
    let index = alphabet.find(last).unwrap();
    let stray = alphabet.chars().nth(index ^ 1).unwrap();
    let respelled = format!("{}{stray}", &good[..good.len() - 1]);
    assert!(matches!(
        verify_id_token(&respelled, &e),
        Err(DuoError::Invalid(_))
    ));
    // alg none.
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims().to_string());
    assert!(matches!(
        verify_id_token(&format!("{header}.{payload}."), &e),
        Err(DuoError::Invalid(_))
    ));
    // Duo says deny.
    assert!(matches!(
        verify_id_token(
            &with(|c| c["auth_result"] = json!({"result": "deny", "status_msg": "Login denied"})),
            &e
        ),
        Err(DuoError::Refused(_))
    ));
}

#[test]
fn canonical_json_is_sorted_and_compact() {
    let mut object = BTreeMap::new();
    object.insert("username", "al\"ice");
    object.insert("async", "1");
    assert_eq!(canon_json(&object), r#"{"async":"1","username":"al\"ice"}"#);
    // As Python's json.dumps(…, sort_keys=True, separators=(",", ":")) writes it.
    let mut object = BTreeMap::new();
    object.insert("username", "zo\u{eb}\u{1f600}\u{7f}\"/\n");
    object.insert("async", "1");
    assert_eq!(
        canon_json(&object),
        r#"{"async":"1","username":"zo\u00eb\ud83d\ude00\u007f\"/\n"}"#
    );
}
