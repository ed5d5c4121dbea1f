//! Twofold's RADIUS edge: an authentication server on UDP (RFC 2865) for VPNs, network devices
//! and `pam_radius_auth`, inside `twofold serve`. It only translates: every decision (the
//! password, the code, lockout, replay, the challenge's `State`) is the core's
//! [`Service::radius_authenticate`].
//!
//! What happens to a datagram, in order:
//! 1. its source address picks the registered client (the most specific network that holds
//!    it); none: dropped (`unknown_client`);
//! 2. it is parsed ([`twofold_otp::radius::Packet`]); malformed or not an Access-Request:
//!    dropped;
//! 3. its Message-Authenticator (RFC 3579) must be there and right; a client registered with
//!    `--allow-missing-message-authenticator` may leave it out, never send a wrong one;
//! 4. a retransmission (same client and Request Authenticator, from any port: RFC 5080's
//!    duplicate detection, keyed so that a copy replayed from another port is caught too) gets
//!    the answer already sent for 30 seconds, nothing while the first is still being worked on,
//!    and is dropped as a replay for 5 minutes (`recent.rs`, whose memory is bounded: under a
//!    flood the oldest are forgotten first). Proxy-State (copied into answers) is at most 512
//!    bytes, and absent from requests without a Message-Authenticator;
//! 5. the work is queued: at most [`MAX_IN_FLIGHT`] requests at once; past that, dropped
//!    (`overload`) — the device retries, and HTTP keeps its share of the database;
//! 6. the answer: Access-Accept, -Reject (with `Reply-Message`) or -Challenge (`State`,
//!    `Reply-Message`), with a Message-Authenticator first and the Response Authenticator.
//!
//! Nothing that was dropped is answered. Each drop is counted in
//! `twofold_radius_dropped_total{reason}`, each answer in `twofold_radius_requests_total{answer}`.
//! A client error (the database failed) is not answered either: the device tries again or asks
//! another server.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::{Notify, Semaphore};
use zeroize::Zeroizing;

mod recent;
use recent::{Lookup, Recent, RequestKey};

use twofold_core::audit::{Actor, Context};
use twofold_core::service::{RadiusAnswer, RadiusRequest, ServedRadiusClient, Service};
use twofold_otp::radius::{
    Code, Packet, attr, decode_user_password, encode_response, reply_messages,
};

/// Requests worked on at once; more are dropped until one finishes.
pub const MAX_IN_FLIGHT: usize = 256;

/// The Proxy-State a request may carry, in all (its answer copies it).
const MAX_PROXY_STATE: usize = 512;

/// How often the client list is read again (a client added or revoked with the CLI takes
/// effect within this); a packet from an unknown address reads it at most once a second.
const RELOAD_EVERY: Duration = Duration::from_secs(10);
const RELOAD_AT_MOST: Duration = Duration::from_secs(1);

/// A datagram larger than a RADIUS packet may be is cut here, and refused by the parser.
const BUFFER: usize = twofold_otp::radius::MAX_PACKET + 1;

/// The server: its socket, the core, the clients it knows and the answers it remembers.
struct Server {
    socket: UdpSocket,
    service: Arc<Service>,
    clients: RwLock<Arc<Vec<ServedRadiusClient>>>,
    reload: Notify,
    recent: Mutex<Recent>,
    work: Arc<Semaphore>,
}

/// Why a datagram was dropped (the `reason` label).
fn dropped(reason: &'static str) {
    metrics::counter!("twofold_radius_dropped_total", "reason" => reason).increment(1);
}

/// Serves RADIUS on `socket` until the task is dropped.
pub async fn serve(socket: UdpSocket, service: Arc<Service>) {
    let server = Arc::new(Server {
        socket,
        service,
        clients: RwLock::new(Arc::new(Vec::new())),
        reload: Notify::new(),
        recent: Mutex::new(Recent::default()),
        work: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
    });
    server.load_clients().await;
    let reloader = Arc::clone(&server);
    tokio::spawn(async move { reloader.keep_clients_fresh().await });
    let mut buf = vec![0u8; BUFFER];
    loop {
        let (n, from) = match server.socket.recv_from(&mut buf).await {
            Ok(got) => got,
            Err(e) => {
                // ICMP errors of earlier sends surface here on some systems; keep serving.
                tracing::debug!(error = %e, "RADIUS receive failed");
                continue;
            }
        };
        let Some(datagram) = buf.get(..n) else {
            continue;
        };
        Arc::clone(&server).receive(datagram, from);
    }
}

impl Server {
    /// Reads the client list (secrets opened) from the core.
    async fn load_clients(&self) {
        match self.service.served_radius_clients().await {
            Ok(list) => {
                if let Ok(mut clients) = self.clients.write() {
                    *clients = Arc::new(list);
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not read the RADIUS clients"),
        }
    }

    /// Reloads the clients every [`RELOAD_EVERY`], and when a packet from an unknown address
    /// asks (at most once per [`RELOAD_AT_MOST`]).
    async fn keep_clients_fresh(&self) {
        loop {
            let _ = tokio::time::timeout(RELOAD_EVERY, self.reload.notified()).await;
            self.load_clients().await;
            tokio::time::sleep(RELOAD_AT_MOST).await;
        }
    }

    /// The client whose network holds `ip` (the most specific one).
    fn client_for(&self, ip: IpAddr) -> Option<(Arc<Vec<ServedRadiusClient>>, usize)> {
        let list = Arc::clone(&*self.clients.read().ok()?);
        let index = list
            .iter()
            .enumerate()
            .filter(|(_, c)| c.network.contains(&ip))
            .max_by_key(|(_, c)| c.network.prefix_len())
            .map(|(i, _)| i)?;
        Some((list, index))
    }

    /// Steps 1 to 5 of the module documentation, on the receiving task; the work itself runs
    /// in a task of its own.
    fn receive(self: Arc<Self>, datagram: &[u8], from: SocketAddr) {
        let ip = match from.ip() {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        let Some((clients, index)) = self.client_for(ip) else {
            self.reload.notify_one();
            return dropped("unknown_client");
        };
        let Some(client) = clients.get(index) else {
            return;
        };
        let Ok(packet) = Packet::parse(datagram) else {
            return dropped("malformed");
        };
        if packet.code != Code::AccessRequest {
            return dropped("not_access_request");
        }
        match packet.message_authenticator_valid(&client.secret) {
            Some(true) => {}
            Some(false) => return dropped("bad_message_authenticator"),
            None if client.allow_missing_message_authenticator => {}
            None => return dropped("missing_message_authenticator"),
        }
        let proxy_state: usize = packet
            .attributes()
            .filter(|(ty, _)| *ty == attr::PROXY_STATE)
            .map(|(_, v)| v.len())
            .sum();
        // Proxy-State is copied into the answer: bounded, so answers stay small; and refused
        // without a Message-Authenticator, which is how a forged one would come.
        if proxy_state > MAX_PROXY_STATE || (proxy_state > 0 && !packet.has_message_authenticator())
        {
            return dropped("malformed");
        }
        let key = RequestKey::new(&client.name, packet.authenticator);
        {
            let Ok(mut recent) = self.recent.lock() else {
                return;
            };
            #[allow(
                clippy::disallowed_methods,
                reason = "answers expire by the monotonic clock"
            )]
            let now = Instant::now();
            match recent.lookup(key, now) {
                Lookup::New => {}
                Lookup::Answer(answer) => {
                    drop(recent);
                    metrics::counter!("twofold_radius_retransmissions_total").increment(1);
                    let server = Arc::clone(&self);
                    tokio::spawn(async move {
                        let _ = server.socket.send_to(&answer, from).await;
                    });
                    return;
                }
                Lookup::Replay => return dropped("replayed"),
                Lookup::InProgress => return dropped("in_progress"),
            }
            let Ok(permit) = Arc::clone(&self.work).try_acquire_owned() else {
                recent.finish(key, None, now);
                return dropped("overload");
            };
            let request = datagram.to_vec();
            let server = Arc::clone(&self);
            let clients = Arc::clone(&clients);
            tokio::spawn(async move {
                let _permit = permit;
                let answer = match clients.get(index) {
                    Some(client) => server.answer(client, &request, from).await,
                    None => None,
                };
                // Remembered (or forgotten: not answered, so a retransmission is worked on
                // afresh) before it is sent.
                {
                    let Ok(mut recent) = server.recent.lock() else {
                        return;
                    };
                    #[allow(
                        clippy::disallowed_methods,
                        reason = "answers expire by the monotonic clock"
                    )]
                    recent.finish(key, answer.as_deref(), Instant::now());
                }
                if let Some(bytes) = answer
                    && let Err(e) = server.socket.send_to(&bytes, from).await
                {
                    tracing::debug!(error = %e, "RADIUS answer not sent");
                }
            });
        }
    }

    /// The answer to a checked Access-Request, or `None` to stay silent.
    async fn answer(
        &self,
        client: &ServedRadiusClient,
        datagram: &[u8],
        from: SocketAddr,
    ) -> Option<Vec<u8>> {
        let packet = Packet::parse(datagram).ok()?;
        // RFC 2865 allows each of these once: a request with two is read neither way.
        if [attr::USER_NAME, attr::USER_PASSWORD, attr::STATE]
            .iter()
            .any(|&ty| packet.count(ty) > 1)
        {
            return self.reject(&packet, client, "This request is malformed.");
        }
        let state = packet.attribute(attr::STATE);
        // Only PAP is served: a request without User-Password (CHAP, EAP) is refused in words,
        // unless it answers a challenge, where an empty answer (a Duo push) may come without one.
        let hidden = packet.attribute(attr::USER_PASSWORD);
        let Some(username) = packet
            .attribute(attr::USER_NAME)
            .filter(|_| hidden.is_some() || state.is_some())
        else {
            return self.reject(
                &packet,
                client,
                "This server takes a user name and password (PAP) only.",
            );
        };
        let password = match hidden {
            Some(hidden) => {
                let Ok(p) = decode_user_password(hidden, &client.secret, &packet.authenticator)
                else {
                    dropped("malformed");
                    return None;
                };
                p
            }
            None => Zeroizing::new(Vec::new()),
        };
        let ctx = Context {
            actor: Actor::Radius {
                client: client.name.clone(),
                nas: nas_fields(&packet),
            },
            ip: Some(from.ip().to_string()),
        };
        let request = RadiusRequest {
            client: client.name.clone(),
            username: String::from_utf8_lossy(username).into_owned(),
            password,
            state: state.map(<[u8]>::to_vec),
        };
        let answer = match self.service.radius_authenticate(&ctx, request).await {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(error = %e, client = %client.name, "RADIUS request failed");
                dropped("error");
                return None;
            }
        };
        let (code, label, state, message) = match answer {
            RadiusAnswer::Accept => (Code::AccessAccept, "accept", None, None),
            RadiusAnswer::Reject(m) => (Code::AccessReject, "reject", None, Some(m)),
            RadiusAnswer::Challenge { state, message } => (
                Code::AccessChallenge,
                "challenge",
                Some(state),
                Some(message),
            ),
        };
        metrics::counter!("twofold_radius_requests_total", "answer" => label).increment(1);
        let messages = message.as_deref().map(reply_messages).unwrap_or_default();
        let mut attributes: Vec<(u8, &[u8])> = Vec::new();
        if let Some(s) = &state {
            attributes.push((attr::STATE, s));
        }
        attributes.extend(messages.iter().map(|m| (attr::REPLY_MESSAGE, m.as_slice())));
        encode_response(code, &packet, &attributes, &client.secret).ok()
    }

    /// An Access-Reject saying `message`.
    fn reject(
        &self,
        packet: &Packet<'_>,
        client: &ServedRadiusClient,
        message: &str,
    ) -> Option<Vec<u8>> {
        metrics::counter!("twofold_radius_requests_total", "answer" => "reject").increment(1);
        let messages = reply_messages(message);
        let attributes: Vec<(u8, &[u8])> = messages
            .iter()
            .map(|m| (attr::REPLY_MESSAGE, m.as_slice()))
            .collect();
        encode_response(Code::AccessReject, packet, &attributes, &client.secret).ok()
    }
}

/// The request's NAS fields for the audit log: `nas_identifier=… nas_ip=… calling_station=…`,
/// each only when sent, printable ASCII only and at most 64 characters.
fn nas_fields(packet: &Packet<'_>) -> String {
    let mut out = Vec::new();
    if let Some(v) = packet.attribute(attr::NAS_IDENTIFIER) {
        out.push(format!("nas_identifier={}", printable(v)));
    }
    if let Some(v) = packet.attribute(attr::NAS_IP_ADDRESS)
        && let Ok(octets) = <[u8; 4]>::try_from(v)
    {
        out.push(format!("nas_ip={}", std::net::Ipv4Addr::from(octets)));
    }
    if let Some(v) = packet.attribute(attr::NAS_IPV6_ADDRESS)
        && let Ok(octets) = <[u8; 16]>::try_from(v)
    {
        out.push(format!("nas_ip={}", std::net::Ipv6Addr::from(octets)));
    }
    if let Some(v) = packet.attribute(attr::CALLING_STATION_ID) {
        out.push(format!("calling_station={}", printable(v)));
    }
    out.join(" ")
}

/// `bytes` as printable ASCII without spaces (others become `?`), at most 64 characters.
fn printable(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take(64)
        .map(|&b| {
            if b.is_ascii_graphic() {
                char::from(b)
            } else {
                '?'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nas_fields_are_printable_and_bounded() {
        assert_eq!(printable(b"gw 1\n\xff"), "gw?1??");
        assert_eq!(printable(&[b'a'; 100]).len(), 64);
    }
}
